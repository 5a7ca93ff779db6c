"""Test session: real PostgreSQL and NATS (embedded, or DATABASE_URL / NATS_URL), migrations via Alembic."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from crm.platform import migrations
from crm.platform.auth import Role, TokenService
from crm.platform.embedded import EmbeddedNats, EmbeddedPostgres
from crm.platform.settings import PlatformSettings
from crm.services import SERVICES, migrate_all


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crm-data")


@pytest.fixture(scope="session")
def postgres_url(data_dir: Path) -> Iterator[str]:
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    server = EmbeddedPostgres(data_dir)
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def nats_server(data_dir: Path) -> Iterator[EmbeddedNats | None]:
    if os.environ.get("NATS_URL"):
        yield None
        return
    server = EmbeddedNats(data_dir)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_url(nats_server: EmbeddedNats | None) -> str:
    return nats_server.url() if nats_server else os.environ["NATS_URL"]


@pytest.fixture(scope="session")
def settings(data_dir: Path, postgres_url: str, nats_url: str) -> PlatformSettings:
    migrate_all(postgres_url)
    return PlatformSettings(
        data_dir=data_dir,
        database_url=postgres_url,
        nats_url=nats_url,
        jwt_secret="test-signing-key-" + uuid.uuid4().hex,
        log_format="console",
        outbox_poll_interval=0.05,
        consumer_retry_delay=0.05,
        consumer_max_deliveries=3,
        bootstrap_admin_username="root",
        bootstrap_admin_password="root-password-123",
    )


@pytest.fixture
async def isolated_database(postgres_url: str) -> AsyncIterator[Callable[[str], Awaitable[str]]]:
    """A fresh database on the same server with one service's migrations, dropped afterwards."""
    created: list[str] = []

    async def _admin(sql: str) -> None:
        conn = await asyncpg.connect(postgres_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def make(service: str) -> str:
        name = f"crm_test_{uuid.uuid4().hex[:10]}"
        await _admin(f'CREATE DATABASE "{name}"')
        created.append(name)
        url = urlunsplit(urlsplit(postgres_url)._replace(path=f"/{name}"))
        await asyncio.to_thread(migrations.upgrade, url, SERVICES[service].package, SERVICES[service].schema)
        return url

    yield make
    for name in created:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def tokens(settings: PlatformSettings) -> TokenService:
    return TokenService(settings)


@pytest.fixture(scope="session")
def token_for(tokens: TokenService) -> Callable[..., dict[str, str]]:
    """Authorization headers for a caller with the given roles."""

    def make(*roles: Role, agent_id: str | None = None, subject: str | None = None) -> dict[str, str]:
        token, _ = tokens.issue(
            subject or f"user-{'-'.join(roles).lower() or 'none'}", roles, agent_id=agent_id
        )
        return {"Authorization": f"Bearer {token}"}

    return make


async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        await app.state.bus.wait_connected(within=20)
        for runner in app.state.consumers:
            await asyncio.wait_for(runner.ready.wait(), 20)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture(scope="session")
async def identity(settings: PlatformSettings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(SERVICES["identity"].create_app(settings)):
        yield client


@pytest.fixture(scope="session")
async def payments(settings: PlatformSettings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(SERVICES["payments"].create_app(settings)):
        yield client


@pytest.fixture(scope="session")
async def workflow(settings: PlatformSettings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(SERVICES["workflow"].create_app(settings)):
        yield client


@pytest.fixture(scope="session")
async def bank_sync(settings: PlatformSettings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(SERVICES["bank-sync"].create_app(settings)):
        yield client


@pytest.fixture
def unique() -> Callable[[str], str]:
    """A key no other test uses (tests share one database and isolate by their own keys)."""
    return lambda prefix: f"{prefix}{uuid.uuid4().hex[:12].upper()}"
