"""Collection Workflow settings."""

from crm.platform.settings import PlatformSettings


class WorkflowSettings(PlatformSettings):
    pass
