"""Where the web UI sends its API calls when the services run apart (one Kubernetes Service each):
``CRM_SERVICE_URLS`` names each service's address, and a path goes to the service owning its prefix."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from crm.services import SERVICES
from crm.web.backend import _ByService
from crm.web.settings import WebSettings

URLS = {
    "identity": "http://identity:8004",
    "bank-sync": "http://bank-sync:8001",
    "payments": "http://payments:8002",
    "workflow": "http://workflow:8003/",
}


async def _answered_by(path: str, urls: dict[str, str]) -> tuple[str, str]:
    """(URL the request went to, its Host header)."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    transport = _ByService(WebSettings(service_urls=urls).service_urls, httpx.MockTransport(answer))
    async with httpx.AsyncClient(base_url="http://gateway.bank", transport=transport) as client:
        await client.get(path, params={"q": "1"})
    return str(seen[0].url), seen[0].headers["host"]


@pytest.mark.parametrize("service", ["identity", "bank-sync", "payments", "workflow"])
async def test_every_prefix_goes_to_its_own_service(service):
    base = URLS[service].rstrip("/")
    for prefix in SERVICES[service].prefixes:
        url, host = await _answered_by(prefix + "/x/y", URLS)
        assert url == f"{base}{prefix}/x/y?q=1" and host == base.removeprefix("http://")
        assert (await _answered_by(prefix, URLS))[0] == f"{base}{prefix}?q=1"


async def test_a_service_not_named_is_called_at_the_base_url():
    assert await _answered_by("/api/payments/X", {"bank-sync": URLS["bank-sync"]}) == (
        "http://gateway.bank/api/payments/X?q=1",
        "gateway.bank",
    )
    # a prefix is a whole path segment: /api/loansX is no loan route
    assert (await _answered_by("/api/loansX", URLS))[0] == "http://gateway.bank/api/loansX?q=1"


def test_only_the_services_it_calls_may_be_named():
    with pytest.raises(ValidationError, match="not a service the web UI calls: paymnts, web"):
        WebSettings(service_urls={"paymnts": "http://p", "web": "http://w"})


def test_the_setting_is_read_as_json_from_the_environment(monkeypatch):
    monkeypatch.setenv("CRM_SERVICE_URLS", '{"identity": "http://identity:8004"}')
    assert WebSettings().service_urls == {"identity": "http://identity:8004"}
