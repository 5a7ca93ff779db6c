"""Payment Processing settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from croniter import croniter
from fastapi import Depends
from pydantic import SecretStr, field_validator

from crm.platform.settings import PlatformSettings
from crm.platform.state import settings_of

DEMO_WEBHOOK_SECRET = "payment-webhook-secret"
"""The file under ``<data>/secrets/`` holding demo mode's generated webhook secret."""


class PaymentsSettings(PlatformSettings):
    payment_webhook_secret: SecretStr | None = None
    """``CRM_PAYMENT_WEBHOOK_SECRET``: signs payment notifications.

    Several secrets, comma separated, are all accepted while a secret is being rotated."""
    bank_name: str = "Collection CRM Bank"
    """``CRM_BANK_NAME``: the bank named at the top of a payment receipt."""
    receipt_signing_key: SecretStr | None = None
    """``CRM_RECEIPT_SIGNING_KEY``: keys the verification code printed on receipts.

    Unset, a key is derived from the platform's JWT signing key (see ``crm.payments.receipts.service``)."""
    signature_tolerance_seconds: int = 300
    """How far a notification's signed timestamp may be from now (replays older than that fail)."""
    payment_currencies: str = "VND,USD,EUR"
    """Currencies a notification may carry."""
    payment_clock_skew_seconds: int = 300
    """How far in the future a payment date may be (the processor's clock against ours)."""
    bank_sync_url: str | None = None
    """Where bank-sync answers loan lookups (default: ``CRM_BASE_URL``)."""
    bank_sync_timeout_seconds: float = 2.0
    loan_cache_seconds: float = 300.0
    """How long a loan found in bank-sync is trusted without asking again."""
    pending_check_interval_seconds: float = 30.0
    """How often payments stored while bank-sync could not be reached are confirmed."""

    def webhook_secrets(self) -> list[str]:
        """The accepted secrets; in demo mode without any, one generated into the data folder
        (``<data>/secrets/payment-webhook-secret``) so that notifications can be tried."""
        raw = self.payment_webhook_secret.get_secret_value() if self.payment_webhook_secret else ""
        configured = [s.strip() for s in raw.split(",") if s.strip()]
        if not configured and self.demo:
            return [self.generated_secret(DEMO_WEBHOOK_SECRET)]
        return configured

    def currencies(self) -> frozenset[str]:
        return frozenset(c.strip().upper() for c in self.payment_currencies.split(",") if c.strip())

    inbox_dir: Path | None = None
    """``CRM_INBOX_DIR``: where the core systems' extracts arrive, in ``<SOURCE>/<YYYY-MM-DD>/`` folders
    (the same folder bank-sync reads); ``payments.csv`` is the core's view of that day's payments."""
    payment_sync_schedule: str | None = "0 6 * * *"
    """``CRM_PAYMENT_SYNC_SCHEDULE``: cron expression, business time zone, of the import of each
    source's newest ``payments.csv`` (empty: no schedule)."""

    @field_validator("payment_sync_schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not croniter.is_valid(value):
            raise ValueError(f"not a cron expression: {value!r}")
        return value.strip()

    @property
    def inbox(self) -> Path:
        return (self.inbox_dir or self.data_dir / "inbox").expanduser().resolve()


Settings = Annotated[PaymentsSettings, Depends(settings_of)]
"""The service's settings, as a route asks for them (``crm.platform.state``)."""
