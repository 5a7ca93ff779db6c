"""Bank Synchronization settings."""

from crm.platform.settings import PlatformSettings


class BankSyncSettings(PlatformSettings):
    pass
