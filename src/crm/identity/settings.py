"""Identity settings."""

from __future__ import annotations

import secrets

from pydantic import SecretStr

from crm.platform.settings import PlatformSettings


class IdentitySettings(PlatformSettings):
    demo_password: SecretStr | None = None

    def demo_user_password(self) -> str:
        """The demo users' password: from settings, else generated once and kept in the data folder."""
        if self.demo_password is not None:
            return self.demo_password.get_secret_value()
        path = self.data_dir / "secrets" / "demo-password"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_text(secrets.token_urlsafe(9))
            path.chmod(0o600)
        return path.read_text().strip()
