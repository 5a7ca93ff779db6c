"""`crm serve` and `crm up` migrate before serving unless CRM_MIGRATE_ON_START=false (the migration Job's
deployments): no server is started here, the servers and the migrations are stand-ins."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from crm import cli
from crm.platform import migrations
from crm.platform.settings import PlatformSettings


@pytest.fixture
def started(monkeypatch, tmp_path):
    """What the command did: the migrations it applied and the app it then served."""
    done: dict[str, list] = {"migrated": [], "served": []}

    @contextmanager
    def servers(settings, **_):
        yield PlatformSettings(database_url="postgresql://crm@db/crm", nats_url="nats://bus:4222")

    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(cli, "infrastructure", servers)
    monkeypatch.setattr(migrations, "upgrade", lambda url, package, schema: done["migrated"].append(schema))
    monkeypatch.setattr(cli, "migrate_all", lambda url: done["migrated"].append("all"))
    monkeypatch.setattr(cli, "_run_server", lambda factory, *args: done["served"].append(factory))
    return done


@pytest.mark.parametrize("value", [None, "true"])
def test_serve_migrates_its_schema_first_by_default(started, monkeypatch, value):
    if value is not None:
        monkeypatch.setenv("CRM_MIGRATE_ON_START", value)
    result = CliRunner().invoke(cli.app, ["serve", "bank-sync"])
    assert result.exit_code == 0, result.output
    assert started == {"migrated": ["bank_sync"], "served": ["crm.bank_sync.app:create_app"]}


def test_serve_leaves_the_schema_to_the_migration_job_when_told(started, monkeypatch):
    monkeypatch.setenv("CRM_MIGRATE_ON_START", "false")
    result = CliRunner().invoke(cli.app, ["serve", "payments"])
    assert result.exit_code == 0, result.output
    assert started == {"migrated": [], "served": ["crm.payments.app:create_app"]}


def test_up_follows_the_same_setting(started, monkeypatch):
    assert CliRunner().invoke(cli.app, ["up"]).exit_code == 0
    monkeypatch.setenv("CRM_MIGRATE_ON_START", "false")
    assert CliRunner().invoke(cli.app, ["up"]).exit_code == 0
    assert started == {"migrated": ["all"], "served": ["crm.gateway:create_gateway"] * 2}
