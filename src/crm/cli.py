"""The ``crm`` command: run the whole system or one service, apply migrations."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated

import httpx
import typer
import uvicorn

from crm.platform.embedded import EmbeddedNats, EmbeddedPostgres, connections_for
from crm.platform.logging import configure_logging
from crm.platform.metrics import collect_across_processes
from crm.platform.settings import PlatformSettings
from crm.platform.supervisor import Supervisor, Watched
from crm.services import SERVICES, migrate_all

WORKERS_HELP = "Worker processes (CRM_WORKERS; default one per CPU this process may use)."
app = typer.Typer(help="Collection CRM", no_args_is_help=True, add_completion=False)


class _Server(uvicorn.Server):
    """uvicorn re-raises Ctrl-C after a graceful shutdown; we only want the graceful shutdown."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _run_server(factory: str, settings: PlatformSettings, host: str, port: int, workers: int) -> None:
    """Serve an app factory; Ctrl-C or SIGTERM drains requests and stops the app's background work.

    Several workers are processes started by uvicorn, each with the whole app; their metrics are
    kept in files under the data folder so that ``/metrics`` in any of them counts them all.
    """
    if workers > 1:
        collect_across_processes(settings.data_dir / "metrics")
    options = {
        "factory": True,
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": 10,
        # Behind a proxy only when told which addresses are proxies: a header is believed from them.
        "proxy_headers": settings.forwarded_allow_ips is not None,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "timeout_worker_healthcheck": settings.worker_startup_timeout_seconds,
    }
    if workers > 1:
        uvicorn.run(factory, workers=workers, **options)  # type: ignore[arg-type]
        return
    _Server(uvicorn.Config(factory, **options)).run()  # type: ignore[arg-type]


@contextmanager
def infrastructure(
    settings: PlatformSettings, *, processes: int = 1, services: int = 1
) -> Iterator[PlatformSettings]:
    """Use DATABASE_URL / NATS_URL when set, else start (or reuse) the embedded servers; an embedded
    PostgreSQL started here allows the connections of ``processes`` times ``services`` full pools.
    Embedded servers started here are started again if they die, until this block ends."""
    postgres = nats = None
    supervisor = Supervisor()
    try:
        if not settings.database_url:
            connections = connections_for(
                processes, services, settings.db_pool_size, settings.db_max_overflow
            )
            postgres = EmbeddedPostgres(settings.data_dir, max_connections=connections)
            os.environ["DATABASE_URL"] = postgres.start()
        if not settings.nats_url:
            nats = EmbeddedNats(settings.data_dir)
            os.environ["NATS_URL"] = nats.start()
        if postgres is not None and postgres.started_here:
            supervisor.watch(Watched("postgres", postgres.alive, postgres.start))
        if nats is not None and nats.process is not None:
            supervisor.watch(Watched("nats", nats.alive, nats.restart))
        yield PlatformSettings()
    finally:
        supervisor.stop()
        if nats is not None:
            nats.stop()
        if postgres is not None:
            postgres.stop()


def _login_help(settings: PlatformSettings) -> list[str]:
    if settings.demo:
        from crm.identity.settings import IdentitySettings

        password = IdentitySettings(data_dir=settings.data_dir).demo_user_password()
        users = ", ".join(("agent", "supervisor", "admin", "processor"))
        return [f"Demo users: {users} (one per role), password: {password}"]
    if settings.bootstrap_admin_username:
        return [f"Sign in as {settings.bootstrap_admin_username} (CRM_BOOTSTRAP_ADMIN_USERNAME)."]
    return ["No users yet: set CRM_BOOTSTRAP_ADMIN_USERNAME and CRM_BOOTSTRAP_ADMIN_PASSWORD and restart."]


BANNER_RULE = "═" * 78
READY_POLL_SECONDS = 0.5
READY_WITHIN_SECONDS = 3600.0


def _banner(settings: PlatformSettings, base_url: str, what: str, *, web: bool, workers: int) -> None:
    """What a person starting the system reads first, framed (and bold on a terminal) so that it
    stands out from the JSON log lines around it."""
    from crm.payments.settings import DEMO_WEBHOOK_SECRET

    lines = [
        f"Collection CRM {what} at {base_url}",
        *([f"  web UI:   {base_url}/    (sign in as a user below)"] if web else []),
        f"  API docs: {base_url}/docs    health: {base_url}/health/ready",
        f"  token:    curl -d username=... -d password=... {base_url}/api/auth/token",
        *("  " + line for line in _login_help(settings)),
        *(
            [f"  webhook:  notifications signed with {settings.data_dir / 'secrets' / DEMO_WEBHOOK_SECRET}"]
            if settings.demo and not os.environ.get("CRM_PAYMENT_WEBHOOK_SECRET")
            else []
        ),
        f"  data:     {settings.data_dir}    (Ctrl-C stops everything)",
        f"  workers:  {workers} processes (CRM_WORKERS)",
    ]
    framed = ["", BANNER_RULE, *lines, BANNER_RULE, ""]
    text = "\n".join(framed)
    if sys.stderr.isatty():
        text = typer.style(text, fg=typer.colors.BRIGHT_GREEN, bold=True)
    typer.echo(text, err=True)


def _reachable(host: str) -> str:
    """Where this machine reaches a server listening on ``host`` (every interface: the loopback)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "127.0.0.1"
    if address.is_unspecified:
        return "127.0.0.1"
    return f"[{address}]" if address.version == 6 else str(address)


def _announce_when_ready(
    settings: PlatformSettings, base_url: str, *, probe: str, workers: int
) -> threading.Thread:
    """In the background: once ``/health/ready`` answers 200 (in demo mode: the demo data loaded),
    the banner again, saying the system is ready (the first one has scrolled away by then)."""

    def wait() -> None:
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while time.monotonic() < deadline:
            try:
                if httpx.get(probe, timeout=5).status_code == 200:
                    _banner(settings, base_url, "is ready", web=True, workers=workers)
                    return
            except httpx.HTTPError:
                pass
            time.sleep(READY_POLL_SECONDS)

    thread = threading.Thread(target=wait, name="crm-ready-banner", daemon=True)
    thread.start()
    return thread


@app.command()
def up(
    demo: Annotated[bool, typer.Option(help="Create one demo user per role.")] = False,
    host: Annotated[str | None, typer.Option(help="Listen address (CRM_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port of the base URL (CRM_PORT).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help=WORKERS_HELP)] = None,
) -> None:
    """Run every service under one base URL (embedded PostgreSQL and NATS unless configured)."""
    if demo:
        os.environ["CRM_DEMO"] = "true"
    if host:
        os.environ["CRM_HOST"] = host
    if port:
        os.environ["CRM_PORT"] = str(port)
    settings = PlatformSettings()
    configure_logging(settings.log_level, settings.log_format)
    if settings.demo:
        _demo_extracts(settings)
    processes = workers or settings.workers
    with infrastructure(settings, processes=processes, services=len(SERVICES)) as resolved:
        assert resolved.database_url
        if resolved.migrate_on_start:
            migrate_all(resolved.database_url)
        _banner(resolved, resolved.public_base_url, "is starting", web=True, workers=processes)
        probe = f"http://{_reachable(resolved.host)}:{resolved.port}/health/ready"
        _announce_when_ready(resolved, resolved.public_base_url, probe=probe, workers=processes)
        _run_server("crm.gateway:create_gateway", resolved, resolved.host, resolved.port, processes)


def _demo_extracts(settings: PlatformSettings, customers: int = 2000) -> None:
    """Demo mode: a generated extract set in the inbox (once), which bank-sync loads at first start.

    The set is yesterday's, as a nightly extract is: it describes a business day that has ended, so none
    of its payments (timed through that day) lies in the future of the first start.
    """
    from datetime import datetime, timedelta

    from crm.bank_sync.settings import BankSyncSettings
    from crm.demo_data.generation import generate

    inbox = BankSyncSettings(**settings.model_dump()).inbox
    if any((inbox / source).is_dir() for source in ("T24", "W4")):
        return
    yesterday = datetime.now(settings.tz).date() - timedelta(days=1)
    generate(inbox, customers, yesterday, seed=42)
    typer.echo(f"Demo extracts for {customers:,} customers written to {inbox}.", err=True)


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}")],
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: the service's own).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help=WORKERS_HELP)] = None,
) -> None:
    """Run one service alone, on its own port, applying its own migrations first (unless
    CRM_MIGRATE_ON_START=false)."""
    if service not in SERVICES:
        typer.echo(f"Unknown service {service!r}; choose one of {', '.join(SERVICES)}.", err=True)
        raise typer.Exit(2)
    deployable = SERVICES[service]
    settings = PlatformSettings()
    configure_logging(settings.log_level, settings.log_format)
    processes = workers or settings.workers
    with infrastructure(settings, processes=processes) as resolved:
        assert resolved.database_url
        if resolved.migrate_on_start:
            from crm.platform import migrations

            migrations.upgrade(resolved.database_url, deployable.package, deployable.schema)
        bind_host = host or resolved.host
        bind_port = port or deployable.default_port
        _banner(
            resolved,
            f"http://{bind_host}:{bind_port}",
            f"{service} is starting",
            web=service == "web",
            workers=processes,
        )
        _run_server(f"{deployable.package}.app:create_app", resolved, bind_host, bind_port, processes)


@app.command()
def migrate(
    service: Annotated[str | None, typer.Argument(help="One service, or all when omitted.")] = None,
) -> None:
    """Apply database migrations (each service has its own schema and history)."""
    settings = PlatformSettings()
    configure_logging(settings.log_level, settings.log_format)
    if service is not None:
        with _service_infrastructure(settings, service):
            typer.echo("Migrations applied.", err=True)
        return
    with infrastructure(settings) as resolved:
        assert resolved.database_url
        migrate_all(resolved.database_url)
        typer.echo("Migrations applied.", err=True)


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        typer.echo(f"--date must be YYYY-MM-DD, not {value!r}.", err=True)
        raise typer.Exit(2) from None


@contextmanager
def _service_infrastructure(settings: PlatformSettings, service: str) -> Iterator[PlatformSettings]:
    """Servers resolved (embedded unless configured) and one service's migrations applied."""
    from crm.platform import migrations

    with infrastructure(settings) as resolved:
        assert resolved.database_url
        deployable = SERVICES[service]
        migrations.upgrade(resolved.database_url, deployable.package, deployable.schema)
        yield resolved


@app.command()
def sync(
    source: Annotated[str, typer.Option(help="Source system: T24, W4 or OTHER.")],
    business_date: Annotated[
        str | None, typer.Option("--date", help="Business date (default: newest).")
    ] = None,
    entity: Annotated[str | None, typer.Option(help="One entity (file stem), e.g. customers.")] = None,
) -> None:
    """Load a source system's extract now (the same run as POST /api/sync/run), with progress."""
    from crm.bank_sync.settings import BankSyncSettings
    from crm.bank_sync.sync.cli import run_sync

    settings = PlatformSettings()
    configure_logging(settings.log_level, "console")
    day = _parse_date(business_date)
    _check_source_and_entities(source, [entity] if entity else [])
    with _service_infrastructure(settings, "bank-sync") as resolved:
        code = asyncio.run(run_sync(BankSyncSettings(**resolved.model_dump()), source, day, entity))
    raise typer.Exit(code)


@app.command("sync-announce")
def sync_announce(
    entity: Annotated[
        list[str] | None,
        typer.Option(help="An entity to announce (repeatable; default customers and loans)."),
    ] = None,
    source: Annotated[str | None, typer.Option(help="Only this source system's records.")] = None,
) -> None:
    """Publish ENTITY_UPDATED events naming every record bank-sync holds, so that a service following
    SyncEvents (workflow's read model) fills itself: after deploying it on existing data, or to repair it."""
    from crm.bank_sync.sync.announce import FOLLOWED
    from crm.bank_sync.sync.cli import announce_all

    settings = PlatformSettings()
    configure_logging(settings.log_level, "console")
    entities = entity or list(FOLLOWED)
    _check_source_and_entities(source, entities)
    with _service_infrastructure(settings, "bank-sync") as resolved:
        counts = asyncio.run(announce_all(resolved, entities, source))
    for name, count in counts.items():
        typer.echo(f"{name}: {count:,} records announced")


dead_letters_app = typer.Typer(help="Events a consumer gave up on: list, show, replay.", no_args_is_help=True)
app.add_typer(dead_letters_app, name="dead-letters")
ServiceOption = Annotated[str | None, typer.Option(help=f"Only this service: {', '.join(SERVICES)}.")]


@contextmanager
def _servers() -> Iterator[PlatformSettings]:
    settings = PlatformSettings()
    configure_logging(settings.log_level, "console")
    with infrastructure(settings) as resolved:
        yield resolved


@dead_letters_app.command("list")
def dead_letters_list(service: ServiceOption = None) -> None:
    """Every dead letter (of one service): sequence, time, consumer, subject, deliveries, error."""
    from crm import dead_letters_cli

    with _servers() as settings:
        dead_letters_cli.list_letters(settings, service)


@dead_letters_app.command("show")
def dead_letters_show(sequence: Annotated[int, typer.Argument(min=1)]) -> None:
    """One dead letter as JSON, its payload with personal data masked."""
    from crm import dead_letters_cli

    with _servers() as settings:
        dead_letters_cli.show_letter(settings, sequence)


@dead_letters_app.command("replay")
def dead_letters_replay(
    sequence: Annotated[int | None, typer.Argument(min=1, help="The dead letter to replay.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Replay every dead letter (of --service).")] = False,
    service: ServiceOption = None,
) -> None:
    """Publish dead letters again on their subjects (audited; consumers that applied one skip it)."""
    from crm import dead_letters_cli

    with _servers() as settings:
        dead_letters_cli.replay_letters(settings, sequence, every, service)


def _check_source_and_entities(source: str | None, entities: list[str]) -> None:
    """Exit 2 with the choices when a source system (None: all) or an entity name is unknown."""
    if source not in (None, "T24", "W4", "OTHER") or any(name not in _entity_names() for name in entities):
        typer.echo(
            "--source must be T24, W4 or OTHER; --entity one of " + ", ".join(_entity_names()), err=True
        )
        raise typer.Exit(2)


def _register_generate() -> None:
    from crm.demo_data.cli import generate_command

    app.command("generate", help="Write a realistic extract set (T24 loans, W4 cards) for tests and demos.")(
        generate_command
    )


_register_generate()


def _entity_names() -> list[str]:
    from crm.bank_sync.sync.entities import ENTITIES

    return list(ENTITIES)


payments_app = typer.Typer(
    help="Payment processing: import the core's payments, reconcile a business date.", no_args_is_help=True
)
app.add_typer(payments_app, name="payments")


@payments_app.command("sync")
def payments_sync(
    source: Annotated[
        str | None, typer.Option(help="One source system: T24, W4 or OTHER (default: every one).")
    ] = None,
    business_date: Annotated[
        str | None, typer.Option("--date", help="Business date (default: each source's newest).")
    ] = None,
) -> None:
    """Import the core's payments.csv now: each row validated and stored once, as POST /api/payments."""
    from crm.payments.settings import PaymentsSettings
    from crm.payments.sync import sync_from_cli

    settings = PlatformSettings()
    configure_logging(settings.log_level, "console")
    day = _parse_date(business_date)
    if source is not None and source not in ("T24", "W4", "OTHER"):
        typer.echo("--source must be T24, W4 or OTHER.", err=True)
        raise typer.Exit(2)
    with _service_infrastructure(settings, "payments") as resolved:
        results = asyncio.run(sync_from_cli(PaymentsSettings(**resolved.model_dump()), source, day))
    for r in results:
        if r.state == "NO_FILE":
            when = f" for {r.business_date}" if r.business_date else ""
            typer.echo(f"{r.source_system}: no payments.csv delivered{when}")
            continue
        if r.state == "FAILED":
            typer.echo(f"{r.source_system} {r.business_date}: FAILED - {r.error}")
        typer.echo(
            f"{r.source_system} {r.business_date}: read {r.read:,}, imported {r.imported:,}, "
            f"unchanged {r.unchanged:,}, conflicts {len(r.conflicts):,}, rejected {len(r.rejects):,}"
        )
        for warning in r.warnings:
            typer.echo(f"  warning: {warning}")
        for label, issues in (("conflict", r.conflicts), ("rejected", r.rejects)):
            for issue in issues:
                ref = issue.reference_number or "-"
                typer.echo(f"  {label} line {issue.line_number} ({ref}): {issue.reason}")
    raise typer.Exit(1 if any(r.state == "FAILED" for r in results) else 0)


@payments_app.command("reconcile")
def payments_reconcile(
    business_date: Annotated[str, typer.Option("--date", help="Business date to reconcile (YYYY-MM-DD).")],
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the discrepancies as CSV.")] = False,
) -> None:
    """Reconcile a business date with the core's payments (as POST /api/payments/reconciliation)."""
    from crm.payments.reconciliation.service import reconcile_from_cli, report_csv
    from crm.payments.settings import PaymentsSettings
    from crm.platform.errors import DomainError

    settings = PlatformSettings()
    configure_logging(settings.log_level, "console")
    day = _parse_date(business_date)
    assert day is not None
    with _service_infrastructure(settings, "payments") as resolved:
        try:
            report = asyncio.run(reconcile_from_cli(PaymentsSettings(**resolved.model_dump()), day))
        except DomainError as exc:
            typer.echo(exc.detail, err=True)
            raise typer.Exit(1) from None
    if as_csv:
        typer.echo(report_csv(report), nl=False)
        raise typer.Exit(0)
    counts = report.counts.model_dump(by_alias=True)
    typer.echo(
        f"Reconciliation of {report.business_date} ({', '.join(report.sources)}; run {report.runs}): "
        f"{report.core_rows:,} core payments, {report.crm_rows:,} CRM payments, {report.matched:,} matched, "
        f"{report.rejected:,} core rows rejected"
    )
    typer.echo("  " + ", ".join(f"{kind} {n:,}" for kind, n in counts.items()))
    for d in report.discrepancies:
        typer.echo(f"  {d.kind.value:<16} {d.reference_number:<24} {d.resolution.value:<8} {d.note}")
    for r in report.rejects:
        typer.echo(f"  rejected {r.source_system} line {r.line_number}: {r.reason}")


def main() -> None:  # pragma: no cover
    sys.exit(app())
