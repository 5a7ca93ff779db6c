"""The registry of deployables: what ``crm serve`` / ``crm up`` / ``crm migrate`` know about.

This module and the CLI are the composition root: the only code that imports every service.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from crm.platform.settings import PlatformSettings


@dataclass(frozen=True)
class Deployable:
    name: str
    package: str
    schema: str
    default_port: int
    prefixes: tuple[str, ...]
    """Path prefixes this service answers under the one base URL of ``crm up``."""

    def module(self) -> Any:
        return importlib.import_module(f"{self.package}.app")

    def settings(self, **overrides: Any) -> PlatformSettings:
        settings_module = importlib.import_module(f"{self.package}.settings")
        cls = next(
            v
            for k, v in vars(settings_module).items()
            if k.endswith("Settings")
            and isinstance(v, type)
            and issubclass(v, PlatformSettings)
            and v is not PlatformSettings
        )
        settings: PlatformSettings = cls(**overrides)
        return settings

    def create_app(self, settings: PlatformSettings, **kwargs: Any) -> FastAPI:
        factory: Callable[..., FastAPI] = self.module().create_app
        return factory(self.settings(**settings.model_dump()), **kwargs)


SERVICES: dict[str, Deployable] = {
    d.name: d
    for d in (
        Deployable("identity", "crm.identity", "identity", 8004, ("/api/auth",)),
        Deployable(
            "bank-sync",
            "crm.bank_sync",
            "bank_sync",
            8001,
            ("/api/sync", "/api/customers", "/api/loans", "/api/bank-sync"),
        ),
        Deployable("payments", "crm.payments", "payments", 8002, ("/api/payments",)),
        Deployable(
            "workflow",
            "crm.workflow",
            "workflow",
            8003,
            (
                "/api/agents",
                "/api/actions",
                "/api/assignments",
                "/api/cases",
                "/api/vocabularies",
                "/api/workflow",
            ),
        ),
        Deployable("web", "crm.web", "web", 8005, ("/",)),
    )
}
"""``"/"``: the web UI answers every path no API prefix claims (see ``crm.gateway``)."""


def migrate_all(database_url: str) -> None:
    """Apply every service's migrations (each in its own schema and history)."""
    from crm.platform import migrations  # alembic: not imported by every worker process

    for service in SERVICES.values():
        migrations.upgrade(database_url, service.package, service.schema)
