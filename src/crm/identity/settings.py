"""Identity settings."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends
from pydantic import Field, SecretStr

from crm.identity.users.throttle import Policy
from crm.platform.settings import PlatformSettings
from crm.platform.state import settings_of


class IdentitySettings(PlatformSettings):
    demo_password: SecretStr | None = None
    sign_in_max_failures_per_username: int = Field(default=5, ge=1)
    """Failed sign-ins of one username (known or not) within the window before it is locked out."""
    sign_in_max_failures_per_address: int = Field(default=20, ge=1)
    """Failed sign-ins from one client address within the window before it is locked out."""
    sign_in_window_seconds: int = Field(default=900, ge=1)
    sign_in_lockout_seconds: int = Field(default=300, ge=1)
    """How long a locked-out username or address is refused (429, ``Retry-After``)."""

    def sign_in_policy(self) -> Policy:
        return Policy(
            self.sign_in_max_failures_per_username,
            self.sign_in_max_failures_per_address,
            self.sign_in_window_seconds,
            self.sign_in_lockout_seconds,
        )

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


Settings = Annotated[IdentitySettings, Depends(settings_of)]
"""The service's settings, as a route asks for them (``crm.platform.state``)."""
