"""Who may talk to whom (the NetworkPolicies, against the calls the code makes) and which service the
public route sends each path to (the HTTPRoute, against the registry and ``crm up``'s own gateway)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from crm.gateway import ROOT_PATHS, Gateway
from crm.platform.settings import PlatformSettings
from crm.services import SERVICES
from tests.deploy.conftest import ROOT

Labels = dict[str, str]


def matches(selector: dict[str, Any], labels: Labels) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        present = labels.get(expression["key"])
        if expression["operator"] == "In" and present not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and present in expression["values"]:
            return False
    return True


def pod_labels(rendered, name: str) -> Labels:
    labels: Labels = rendered.one("Deployment", name)["spec"]["template"]["metadata"]["labels"]
    return labels


def allowed(
    policies, direction: str, subject: Labels, peer: Labels, port: int, *, same_namespace=True
) -> bool:
    """Whether some policy selecting ``subject`` lets it reach (Egress) or be reached by (Ingress) ``peer``
    on ``port`` (a peer in this namespace unless told otherwise: then a namespace's name label)."""
    key = "egress" if direction == "Egress" else "ingress"
    side = "to" if direction == "Egress" else "from"
    for policy in policies:
        spec = policy["spec"]
        if direction not in spec["policyTypes"] or not matches(spec["podSelector"], subject):
            continue
        for rule in spec.get(key, []):
            ports = {p["port"] for p in rule.get("ports", [])}
            if ports and port not in ports and "http" not in ports:
                continue
            for other in rule.get(side, []):
                if "namespaceSelector" in other:
                    if (
                        not same_namespace
                        and matches(other["namespaceSelector"], peer)
                        and matches(other.get("podSelector", {}), peer)
                    ):
                        return True
                elif same_namespace and matches(other.get("podSelector", {}), peer):
                    return True
    return False


def calls_in_code() -> set[tuple[str, str]]:
    """(caller, callee) of every service-to-service HTTP call: client_for(app, "<service>", ...) in a
    service's package; the web UI calls every API service (crm.web.backend, CRM_SERVICE_URLS)."""
    found = {("web", name) for name in SERVICES if name != "web"}
    src = ROOT / "src" / "crm"
    for name, deployable in SERVICES.items():
        package = src / Path(*deployable.package.split(".")[1:])
        for path in package.rglob("*.py"):
            for callee in re.findall(r'client_for\(\s*\w+,\s*"([\w-]+)"', path.read_text()):
                found.add((name, callee))
    return found


def test_the_code_calls_bank_sync_from_payments_and_workflow():
    assert calls_in_code() - {("web", n) for n in SERVICES} == {
        ("payments", "bank-sync"),
        ("workflow", "bank-sync"),
    }


def test_every_crm_pod_is_denied_everything_by_default(rendered):
    policies = rendered.of("NetworkPolicy")
    deny = policies["crm-default-deny"]["spec"]
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    for name in [*SERVICES, "crm-migrate"]:
        labels = {"app.kubernetes.io/part-of": "collection-crm", "app.kubernetes.io/name": name}
        assert matches(deny["podSelector"], labels), name
    job = rendered.of("Job")
    (migrate,) = job.values()
    assert matches(deny["podSelector"], migrate["spec"]["template"]["metadata"]["labels"])


def test_each_call_the_code_makes_is_allowed_both_ways_and_no_other(rendered):
    policies = list(rendered.of("NetworkPolicy").values())
    calls = calls_in_code()
    for caller in SERVICES:
        for callee, deployable in SERVICES.items():
            if caller == callee:
                continue
            source, target = pod_labels(rendered, caller), pod_labels(rendered, callee)
            port = deployable.default_port
            out = allowed(policies, "Egress", source, target, port)
            into = allowed(policies, "Ingress", target, source, port)
            assert (out and into) == ((caller, callee) in calls), (caller, callee, out, into)


def test_every_pod_reaches_dns_postgres_and_nats_and_nothing_else_outside(rendered):
    policies = list(rendered.of("NetworkPolicy").values())
    (cluster,) = rendered.of("Cluster").values()
    postgres = {"cnpg.io/cluster": cluster["metadata"]["name"]}
    dns = {"kubernetes.io/metadata.name": "kube-system", "k8s-app": "kube-dns"}
    nats = {"kubernetes.io/metadata.name": "nats", "app.kubernetes.io/name": "nats"}
    for name in SERVICES:
        me = pod_labels(rendered, name)
        assert allowed(policies, "Egress", me, postgres, 5432), name
        assert allowed(policies, "Egress", me, dns, 53, same_namespace=False), name
        assert allowed(policies, "Egress", me, nats, 4222, same_namespace=False), name
        assert not allowed(policies, "Egress", me, nats, 8222, same_namespace=False), name
        internet = {"kubernetes.io/metadata.name": "elsewhere"}
        assert not allowed(policies, "Egress", me, internet, 443, same_namespace=False), name


def test_the_gateway_and_prometheus_reach_every_service(rendered):
    policies = list(rendered.of("NetworkPolicy").values())
    for name, deployable in SERVICES.items():
        me = pod_labels(rendered, name)
        for namespace in ("gateway-system", "monitoring"):
            peer = {"kubernetes.io/metadata.name": namespace}
            assert allowed(policies, "Ingress", me, peer, deployable.default_port, same_namespace=False)
    routes = rendered.one("HTTPRoute", "collection-crm")
    assert {p["namespace"] for p in routes["spec"]["parentRefs"]} == {"gateway-system"}


def route_rules(rendered) -> list[tuple[str, str, str | None]]:
    """(match type, path, service) of the HTTPRoute; service None: forwarded nowhere."""
    spec = rendered.one("HTTPRoute", "collection-crm")["spec"]
    found = []
    for rule in spec["rules"]:
        backends = rule.get("backendRefs", [])
        assert len(backends) <= 1
        service = backends[0]["name"] if backends else None
        if backends:
            assert backends[0]["port"] == SERVICES[service].default_port
        found.extend((m["path"]["type"], m["path"]["value"], service) for m in rule["matches"])
    return found


def routed_to(rules: list[tuple[str, str, str | None]], path: str) -> str | None:
    """Gateway API's choice: an exact match first, then the longest matching prefix (whole segments)."""
    for kind, value, service in rules:
        if kind == "Exact" and path == value:
            return service
    prefixes = [
        (value, service)
        for kind, value, service in rules
        if kind == "PathPrefix"
        and (value == "/" or path == value or path.startswith(value.rstrip("/") + "/"))
    ]
    return max(prefixes, key=lambda entry: len(entry[0]))[1] if prefixes else None


def test_the_route_has_each_prefix_of_the_registry_once(rendered):
    rules = route_rules(rendered)
    prefixes = [(value, service) for kind, value, service in rules if kind == "PathPrefix" and service]
    assert sorted(prefixes) == sorted((p, name) for name, d in SERVICES.items() for p in d.prefixes)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory) -> Gateway:
    settings = PlatformSettings(data_dir=tmp_path_factory.mktemp("gateway"), jwt_secret="test-only")
    return Gateway(settings)


def test_the_route_sends_each_path_where_crm_up_does(rendered, gateway):
    """Every path crm up hands to a service goes to the same service; crm up's own paths (/health,
    /metrics: per pod here) are not forwarded to a service by the public route."""
    rules = route_rules(rendered)
    owner = {id(app): name for name, app in gateway.apps.items()}
    paths = ["/", "/login", "/customers/C1", "/my-day", "/static/web/app.css", "/api/unknown"]
    for name, deployable in SERVICES.items():
        for prefix in deployable.prefixes:
            paths += [prefix, f"{prefix}/x", f"{prefix}/x/y", f"{prefix}x", f"{prefix}-x"]
        paths.append(f"/api/{name}/openapi.json")
    for path in paths:
        chosen = gateway.route(path)
        expected = owner.get(id(chosen))
        got = routed_to(rules, path)
        if expected is None:  # crm up answers it itself: /api/<unknown>, /docs, ...
            assert path.startswith(ROOT_PATHS) or path == "/", path
            assert got in (None, "web"), path
        else:
            assert got == expected, (path, got, expected)
    for private in ("/metrics", "/health/ready", "/health/live"):
        assert routed_to(rules, private) is None, private
