"""Identity: users, passwords and the tokens every service accepts."""
