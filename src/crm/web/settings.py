"""Web UI settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from pydantic import Field, field_validator

from crm.platform.settings import PlatformSettings
from crm.platform.state import settings_of
from crm.services import SERVICES


class WebSettings(PlatformSettings):
    services_url: str | None = None
    """``CRM_SERVICES_URL``: where the services' APIs answer (default: ``CRM_BASE_URL``; in-process
    under ``crm up``)."""
    service_urls: dict[str, str] = Field(default_factory=dict)
    """``CRM_SERVICE_URLS``: JSON ``{"bank-sync": "http://bank-sync:8001", ...}``, each service's own
    address (one Kubernetes Service each): a path goes to the service owning its prefix
    (``crm.services``), and only the paths of services not named here to ``CRM_SERVICES_URL``."""
    services_timeout_seconds: float = 10.0
    session_idle_minutes: int = 30
    """``CRM_SESSION_IDLE_MINUTES``: a session unused this long ends."""
    session_absolute_hours: float = 10.0
    """``CRM_SESSION_ABSOLUTE_HOURS``: a session ends this long after sign-in, used or not (it also
    ends when the API token it carries expires: ``CRM_JWT_TTL_SECONDS``)."""
    cookie_secure: bool | None = None
    """``CRM_COOKIE_SECURE``: mark the session cookie Secure; default: when the request came over TLS."""
    default_language: str = "vi"
    """``CRM_DEFAULT_LANGUAGE``: ``vi`` or ``en``, for users who have not chosen one."""

    @field_validator("service_urls")
    @classmethod
    def _known_services(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(SERVICES) | ({"web"} & set(value)))
        if unknown:
            raise ValueError(f"not a service the web UI calls: {', '.join(unknown)}")
        return {name: url.rstrip("/") for name, url in value.items()}


Settings = Annotated[WebSettings, Depends(settings_of)]
"""The web UI's settings, as a page asks for them (``crm.platform.state``)."""
