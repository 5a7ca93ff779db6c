"""``crm dead-letters list|show|replay``: the dead-letter stream without the ``nats`` CLI.

The same operations as the ADMIN routes ``<prefix>/dead-letters`` (``crm.platform.dead_letters``);
a replay from here is audited in the owning service's audit trail as ``cli:<login>``.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer

from crm.platform import dead_letters
from crm.platform.auth import Principal, Role, set_current_principal
from crm.platform.bus import Bus
from crm.platform.db import Database
from crm.platform.settings import PlatformSettings
from crm.services import SERVICES

T = TypeVar("T")


def _with_bus(settings: PlatformSettings, work: Callable[[Bus], Awaitable[T]]) -> T:
    async def run() -> T:
        assert settings.nats_url
        bus = Bus(settings.nats_url, name="crm-dead-letters", replicas=settings.nats_replicas)
        bus.start()
        try:
            await bus.wait_connected(within=20)
            return await work(bus)
        finally:
            await bus.close()

    return asyncio.run(run())


def _check_service(service: str | None) -> None:
    if service is not None and service not in SERVICES:
        typer.echo(f"--service must be one of {', '.join(SERVICES)}.", err=True)
        raise typer.Exit(2)


def list_letters(settings: PlatformSettings, service: str | None) -> None:
    _check_service(service)
    letters = _with_bus(settings, lambda bus: dead_letters.list_letters(bus, service))
    for letter in letters:
        when = letter.dead_at.strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(
            f"{letter.sequence:>8}  {when}  {letter.service}/{letter.consumer}  {letter.subject}  "
            f"x{letter.deliveries}  {letter.error[:100]}"
        )
    typer.echo(f"{len(letters)} dead letter(s).", err=True)


def show_letter(settings: PlatformSettings, sequence: int) -> None:
    letter = _with_bus(settings, lambda bus: dead_letters.find(bus, sequence))
    if letter is None:
        typer.echo(f"No dead letter {sequence}.", err=True)
        raise typer.Exit(1)
    shown: dict[str, Any] = {**letter.__dict__, "dead_at": letter.dead_at.isoformat()}
    typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))


def replay_letters(
    settings: PlatformSettings, sequence: int | None, every: bool, service: str | None
) -> None:
    _check_service(service)
    if (sequence is None) == (not every):
        typer.echo("Give a SEQUENCE or --all.", err=True)
        raise typer.Exit(2)
    set_current_principal(Principal(subject=f"cli:{getpass.getuser()}", roles=frozenset({Role.ADMIN})))

    async def replay(bus: Bus) -> list[int]:
        letters = await dead_letters.list_letters(bus, service) if every else []
        if sequence is not None:
            found = await dead_letters.find(bus, sequence, service)
            letters = [found] if found else []
        done = []
        for letter in letters:
            deployable = SERVICES.get(letter.service)
            if deployable is None:
                typer.echo(f"{letter.sequence}: no service {letter.service!r}; left as it is.", err=True)
                continue
            assert settings.database_url
            db = Database(settings.database_url, schema=deployable.schema, pool_size=1, max_overflow=0)
            try:
                async with db.transaction() as session:
                    tables = deployable.module().spec().tables
                    if await dead_letters.replay(bus, session, tables, letter.sequence, letter.service):
                        done.append(letter.sequence)
            finally:
                await db.dispose()
        return done

    done = _with_bus(settings, replay)
    for number in done:
        typer.echo(f"{number} replayed")
    if sequence is not None and not done:
        typer.echo(f"No dead letter {sequence}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"{len(done)} dead letter(s) replayed.", err=True)
