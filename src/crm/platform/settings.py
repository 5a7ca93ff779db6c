"""Platform settings, read from the environment (prefix ``CRM_``, plus ``DATABASE_URL`` / ``NATS_URL``)."""

from __future__ import annotations

import contextlib
import os
import secrets
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crm.platform.cpus import available_cpus

DEMO_AGENT_ID = "0d3e0a6e-0000-4000-8000-00000000a001"
"""Demo mode (``crm up --demo``): the workflow agent the demo ``agent`` login acts as (identity
creates the login, workflow the agent and its first customers)."""


class PlatformSettings(BaseSettings):
    """Settings shared by every service; each service may subclass to add its own."""

    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore", frozen=False)

    data_dir: Path = Path(".crm-data")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "CRM_DATABASE_URL")
    )
    nats_url: str | None = Field(default=None, validation_alias=AliasChoices("NATS_URL", "CRM_NATS_URL"))
    """One NATS URL, or a cluster's several separated by commas (``crm.platform.bus.nats_servers``)."""
    nats_replicas: int = Field(default=1, ge=1, le=5)
    """``CRM_NATS_REPLICAS``: replicas of every stream the services create (3 on a 3-node production
    cluster, so a node lost keeps every acknowledged event); a stream found with another count is
    updated to it. More than the cluster has nodes and the streams cannot be created."""
    db_pool_size: int = 10
    db_max_overflow: int = 10
    migrate_on_start: bool = True
    """``CRM_MIGRATE_ON_START``: ``crm serve`` and ``crm up`` apply migrations before serving. Off where
    a release's migration Job (``crm migrate``) has applied them already (docs/deployment.md), so that
    no replica changes the schema while a rollout runs."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default_factory=available_cpus, ge=1)
    """Processes ``crm up`` and ``crm serve`` start (``--workers`` overrides): one per CPU the process
    may use (its CPU set, within a container's CPU limit; ``crm.platform.cpus``). Each process opens
    up to ``db_pool_size + db_max_overflow`` connections per service it runs."""
    worker_startup_timeout_seconds: int = Field(default=180, ge=5)
    """How long a worker process of ``crm up`` / ``crm serve`` may take to start before its supervisor
    gives up on it and starts another. A worker imports and builds every service (about 2 s on a
    quiet 2-core machine, 9 s or more when the cores are busy); uvicorn's own 5 s killed workers over
    and over on a loaded machine, so the port was never served."""
    forwarded_allow_ips: str | None = None
    """Addresses of the proxies in front (a Gateway, an ingress controller), comma-separated, or
    ``*``: from them, ``X-Forwarded-For`` / ``X-Forwarded-Proto`` say who the client is (sign-in
    throttling counts failures per client address). Unset: the peer's address is the client's."""
    base_url: str | None = None
    """Where the services reach each other (default ``http://<host>:<port>``)."""

    environment: str = "development"
    demo: bool = False
    log_level: str = "INFO"
    log_format: str = "json"
    business_timezone: str = "Asia/Ho_Chi_Minh"
    max_body_bytes: int = 1_048_576

    jwt_secret: SecretStr | None = None
    jwt_issuer: str = "collection-crm"
    jwt_audience: str = "collection-crm"
    jwt_ttl_seconds: int = 3600
    system_token_ttl_seconds: int = 300
    oidc_issuer: str | None = None
    oidc_jwks_url: str | None = None
    oidc_audience: str | None = None
    oidc_roles_claim: str = "roles"

    bootstrap_admin_username: str | None = None
    bootstrap_admin_password: SecretStr | None = None

    outbox_poll_interval: float = 0.2
    outbox_batch_size: int = 500
    consumer_max_deliveries: int = 5
    consumer_retry_delay: float = 1.0
    consumer_lag_degraded_seconds: float = Field(default=60.0, ge=0)
    """A consumer whose oldest unapplied event is older than this is behind: ``/health/ready`` says
    ``degraded`` (still 200) and names it (``crm.platform.lag``)."""
    consumer_lag_sample_seconds: float = Field(default=5.0, gt=0)
    """How often each process samples its consumers' lag for ``/metrics`` (also when asked)."""
    nats_duplicate_window_seconds: int = 600

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.business_timezone)

    @property
    def public_base_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    def jwt_signing_key(self) -> str:
        """The HS256 signing key: from settings, else generated once and kept in the data folder."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        return self.generated_secret("jwt-signing-key")

    def generated_secret(self, name: str) -> str:
        """A secret generated once into ``<data>/secrets/<name>`` (0600) and read back afterwards."""
        path = self.data_dir / "secrets" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_urlsafe(48))
            tmp.chmod(0o600)
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)  # atomic: the first process to create it wins
            tmp.unlink(missing_ok=True)
        return path.read_text().strip()


def async_database_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` URLs and use the asyncpg driver."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url
