"""Payment Processing settings."""

from __future__ import annotations

from pydantic import SecretStr

from crm.platform.settings import PlatformSettings


class PaymentsSettings(PlatformSettings):
    payment_webhook_secret: SecretStr | None = None
    """``CRM_PAYMENT_WEBHOOK_SECRET``: signs payment notifications.

    Several secrets, comma separated, are all accepted while a secret is being rotated."""
