"""Bank Synchronization."""
