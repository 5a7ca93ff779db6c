"""The production overlay rendered offline: valid Kubernetes objects, one Deployment, Service and
PodDisruptionBudget per deployable, locked-down pods, probes on the services' health routes, settings
the services can read, secrets by reference, PostgreSQL and NATS as the services need them."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from pydantic import SecretStr

from crm import cli
from crm.platform.consumer import ConsumerRunner
from crm.platform.service import health_router
from crm.platform.settings import PlatformSettings, async_database_url
from crm.services import SERVICES
from tests.deploy.conftest import DEPLOY, container

OLDEST, NEWEST = "1.33.0", kubernetes_validate.latest_version()
# Their operators' kinds, no Kubernetes schema (KEDA's models: test_scaling.py; the PodMonitor's below).
CUSTOM = {
    "ScaledObject": "keda.sh/v1alpha1",
    "Cluster": "postgresql.cnpg.io/v1",
    "ScheduledBackup": "postgresql.cnpg.io/v1",
    "ObjectStore": "barmancloud.cnpg.io/v1",
    "HTTPRoute": "gateway.networking.k8s.io/v1",
    "PodMonitor": "monitoring.coreos.com/v1",
}


def pod(workload: dict) -> dict:
    spec: dict = workload["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("version", [OLDEST, NEWEST])
def test_every_object_is_valid_for_kubernetes(rendered, version):
    assert tuple(map(int, NEWEST.split("."))) >= (1, 37, 0)
    for obj in rendered:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] in CUSTOM:
            assert obj["apiVersion"] == CUSTOM[obj["kind"]], name
            continue
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_validator_refuses_a_field_kubernetes_does_not_know(rendered):
    deployment = rendered.one("Deployment", "web")
    misspelt = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, NEWEST, strict=True)


def test_every_deployable_has_its_deployment_service_and_disruption_budget(rendered):
    deployments, services, budgets = (
        rendered.of(k) for k in ("Deployment", "Service", "PodDisruptionBudget")
    )
    assert set(deployments) == set(services) == set(budgets) == set(SERVICES)
    for name, deployable in SERVICES.items():
        c = container(deployments[name])
        assert c["args"] == ["serve", name]
        assert c["ports"] == [{"name": "http", "containerPort": deployable.default_port}]
        labels = {"app.kubernetes.io/name": name}
        assert deployments[name]["spec"]["selector"]["matchLabels"] == labels
        assert services[name]["spec"]["selector"] == labels
        assert services[name]["spec"]["ports"] == [
            {"name": "http", "port": deployable.default_port, "targetPort": "http"}
        ]
        assert budgets[name]["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": labels}}


def test_pods_run_as_a_numeric_non_root_user_with_nothing_to_escalate_to(rendered):
    for name, workload in [*rendered.of("Deployment").items(), *rendered.of("Job").items()]:
        spec = pod(workload)
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        context = container(workload)["securityContext"]
        assert context["runAsNonRoot"] is True and isinstance(context["runAsUser"], int)
        assert context["runAsUser"] > 0
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        mounts = {m["mountPath"] for m in container(workload)["volumeMounts"]}
        assert {"/tmp", PlatformSettings(**_settings(rendered)).data_dir.as_posix()} <= mounts
    service_account = rendered.one("ServiceAccount", "collection-crm")
    assert service_account["automountServiceAccountToken"] is False


def test_replicas_spread_over_nodes_and_zones(rendered):
    for name, deployment in rendered.of("Deployment").items():
        spread = {c["topologyKey"]: c for c in pod(deployment)["topologySpreadConstraints"]}
        assert set(spread) == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}, name
        for constraint in spread.values():
            assert constraint["maxSkew"] == 1
            assert "app.kubernetes.io/name" in constraint["matchLabelKeys"]


def test_probes_ask_the_services_health_routes(rendered):
    routes = {route.path for route in health_router("any").routes}  # type: ignore[attr-defined]
    assert {"/health/live", "/health/ready"} <= routes
    for name, deployment in rendered.of("Deployment").items():
        c = container(deployment)
        for probe, path in (("startupProbe", "/health/live"), ("livenessProbe", "/health/live")):
            assert c[probe]["httpGet"] == {"path": path, "port": "http"}, (name, probe)
        # /health/ready answers 200 while "degraded" (a consumer behind): such a pod keeps serving
        assert c["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
        startup = c["startupProbe"]
        # measured: at most 14.3 s to ready on a busy 2-core machine (docs/deployment.md)
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 4 * 14.3
        assert (
            startup["periodSeconds"] * startup["failureThreshold"]
            <= PlatformSettings().worker_startup_timeout_seconds
        )


def test_a_pod_is_given_time_to_finish_its_requests_and_batches(rendered):
    ack_wait = int(re.search(r"ack_wait=(\d+)", inspect.getsource(ConsumerRunner._subscribe))[1])
    drain = int(re.search(r'"timeout_graceful_shutdown": (\d+)', inspect.getsource(cli._run_server))[1])
    for name, deployment in rendered.of("Deployment").items():
        pre_stop = container(deployment)["lifecycle"]["preStop"]["sleep"]["seconds"]
        grace = pod(deployment)["terminationGracePeriodSeconds"]
        assert grace > pre_stop + drain + ack_wait, name


def _settings(rendered) -> dict[str, str]:
    return {
        k.lower().removeprefix("crm_"): v for k, v in rendered.one("ConfigMap", "crm-config")["data"].items()
    }


def test_every_setting_in_the_config_map_is_one_the_services_read(rendered, monkeypatch):
    data = rendered.one("ConfigMap", "crm-config")["data"]
    known = {"DATABASE_URL", "NATS_URL"}
    for deployable in SERVICES.values():
        cls = type(deployable.settings(data_dir="/tmp"))
        known |= {f"CRM_{field.upper()}" for field in cls.model_fields}
    # CRM_NATS_REPLICAS: the streams' replicas, the setting being added with multi-URL NATS_URL support
    assert set(data) - known <= {"CRM_NATS_REPLICAS"}, set(data) - known
    for key, value in data.items():
        monkeypatch.setenv(key, value)
    for name, deployable in SERVICES.items():
        settings = deployable.settings()
        assert settings.migrate_on_start is False and settings.workers == 1, name
        assert settings.nats_url and settings.nats_url.count("nats://") == 3
    web = SERVICES["web"].settings()
    assert web.service_urls == {  # type: ignore[attr-defined]
        name: f"http://{name}:{d.default_port}" for name, d in SERVICES.items() if name != "web"
    }
    assert SERVICES["payments"].settings().bank_sync_url == "http://bank-sync:8001"  # type: ignore[attr-defined]


def test_secrets_are_referenced_never_inlined(rendered):
    assert not rendered.of("Secret")
    secret_settings = {
        f"CRM_{name.upper()}"
        for d in SERVICES.values()
        for name, field in type(d.settings(data_dir="/tmp")).model_fields.items()
        if field.annotation in (SecretStr, SecretStr | None)
    }
    assert {"CRM_JWT_SECRET", "CRM_PAYMENT_WEBHOOK_SECRET", "CRM_BOOTSTRAP_ADMIN_PASSWORD"} <= secret_settings
    config = rendered.one("ConfigMap", "crm-config")["data"]
    assert not secret_settings & set(config) and "DATABASE_URL" not in config
    wanted = {
        "identity": {"CRM_JWT_SECRET", "CRM_BOOTSTRAP_ADMIN_USERNAME", "CRM_BOOTSTRAP_ADMIN_PASSWORD"},
        "payments": {"CRM_JWT_SECRET", "CRM_PAYMENT_WEBHOOK_SECRET", "CRM_RECEIPT_SIGNING_KEY"},
    }
    for name, deployment in rendered.of("Deployment").items():
        env = {e["name"]: e for e in container(deployment)["env"]}
        assert set(env) == {"DATABASE_URL"} | wanted.get(name, {"CRM_JWT_SECRET"}), name
        assert all("value" not in e and "secretKeyRef" in e["valueFrom"] for e in env.values())
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "crm-db-app", "key": "uri"}


def test_the_database_url_comes_from_cloudnative_pgs_secret_and_reaches_asyncpg(rendered):
    (cluster,) = rendered.of("Cluster").values()
    assert f"{cluster['metadata']['name']}-app" == "crm-db-app"  # the secret CloudNativePG makes
    # its `uri`: postgresql://<owner>:<password>@<cluster>-rw.<namespace>:5432/<database>
    owner = cluster["spec"]["bootstrap"]["initdb"]["owner"]
    uri = f"postgresql://{owner}:pw@crm-db-rw.collection-crm:5432/crm"
    assert async_database_url(uri) == f"postgresql+asyncpg://{owner}:pw@crm-db-rw.collection-crm:5432/crm"


def test_no_pod_migrates_the_release_job_does(rendered):
    assert rendered.one("ConfigMap", "crm-config")["data"]["CRM_MIGRATE_ON_START"] == "false"
    (job,) = rendered.of("Job").values()
    tag = container(rendered.one("Deployment", "web"))["image"].rsplit(":", 1)[1]
    assert job["metadata"]["name"] == f"crm-migrate-{tag}"
    assert {container(d)["image"] for d in rendered.of("Deployment").values()} == {container(job)["image"]}
    assert container(job)["args"] == ["migrate"] and pod(job)["restartPolicy"] == "Never"
    assert container(job)["env"] == [
        {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "crm-db-app", "key": "uri"}}}
    ]


def _max_replicas(rendered) -> dict[str, int]:
    return {n: s["spec"]["maxReplicaCount"] for n, s in rendered.of("ScaledObject").items()}


def test_postgres_allows_every_pool_of_every_replica_at_its_largest(rendered):
    settings = PlatformSettings(**_settings(rendered))
    per_process = settings.db_pool_size + settings.db_max_overflow
    replicas = _max_replicas(rendered)
    needed = (
        sum(replicas.values()) * settings.workers * per_process
        + replicas["payments"] * settings.workers * settings.db_pool_size  # its notification pool
        + 30  # the migration Job, crm commands, an operator (crm.platform.embedded.connections_for)
    )
    (cluster,) = rendered.of("Cluster").values()
    assert int(cluster["spec"]["postgresql"]["parameters"]["max_connections"]) >= needed == 1450


def test_postgres_is_three_instances_of_18_with_the_extensions_backups_and_metrics(rendered):
    (cluster,) = rendered.of("Cluster").values()
    spec = cluster["spec"]
    assert spec["instances"] == 3
    assert re.search(r"/postgresql:18\.\d+-standard-", spec["imageName"])
    sql = " ".join(spec["bootstrap"]["initdb"]["postInitApplicationSQL"])
    for extension in ("pg_trgm", "unaccent", "btree_gist", "pg_stat_statements"):
        assert f"CREATE EXTENSION IF NOT EXISTS {extension}" in sql
    assert any(p.startswith("pg_stat_statements.") for p in spec["postgresql"]["parameters"])
    assert spec["monitoring"]["enablePodMonitor"] is True
    (plugin,) = spec["plugins"]
    assert plugin["isWALArchiver"] is True
    store = rendered.one("ObjectStore", plugin["parameters"]["barmanObjectName"])
    credentials = store["spec"]["configuration"]["s3Credentials"]
    assert {c["name"] for c in credentials.values()} == {"crm-db-backup-credentials"}
    (backup,) = rendered.of("ScheduledBackup").values()
    assert backup["spec"]["cluster"] == {"name": cluster["metadata"]["name"]}
    assert backup["spec"]["method"] == "plugin"
    assert backup["spec"]["pluginConfiguration"] == {"name": plugin["name"]}


def test_nats_runs_three_servers_the_services_know_and_replicate_on(rendered):
    values = yaml.safe_load((DEPLOY / "nats" / "values.yaml").read_text())
    cluster, jetstream = values["config"]["cluster"], values["config"]["jetstream"]
    assert cluster["enabled"] is True and cluster["replicas"] == 3
    assert jetstream["enabled"] is True and jetstream["fileStore"]["enabled"] is True
    assert jetstream["fileStore"]["pvc"]["enabled"] is True and jetstream["fileStore"]["pvc"]["size"]
    data = rendered.one("ConfigMap", "crm-config")["data"]
    urls = data["NATS_URL"].split(",")
    assert urls == [f"nats://nats-{n}.nats-headless.nats:4222" for n in range(cluster["replicas"])]
    assert int(data["CRM_NATS_REPLICAS"]) == cluster["replicas"]


def test_the_inbox_is_shared_and_read_only(rendered):
    claim = rendered.one("PersistentVolumeClaim", "crm-inbox")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    inbox = Path(rendered.one("ConfigMap", "crm-config")["data"]["CRM_INBOX_DIR"])
    for name in ("bank-sync", "payments"):
        mounts = {m["mountPath"]: m for m in container(rendered.one("Deployment", name))["volumeMounts"]}
        assert mounts[inbox.as_posix()]["readOnly"] is True


def test_the_install_steps_select_what_docs_deployment_md_says(rendered):
    """Step 4 applies all but the services and the Job, step 5 the Job alone (label selectors)."""

    def component(obj: dict) -> str | None:
        return obj["metadata"].get("labels", {}).get("app.kubernetes.io/component")

    first = {o["kind"] for o in rendered if component(o) not in ("service", "migration")}
    assert {"ConfigMap", "Service", "NetworkPolicy", "Cluster", "ScaledObject", "HTTPRoute"} <= first
    assert not {"Deployment", "Job"} & first
    assert [o["kind"] for o in rendered if component(o) == "migration"] == ["Job"]
    assert {o["metadata"]["name"] for o in rendered if component(o) == "service"} == set(SERVICES)
    assert (
        "app.kubernetes.io/component!=service,app.kubernetes.io/component!=migration"
        in (DEPLOY.parent / "docs" / "deployment.md").read_text()
    )


def test_the_pod_monitor_is_a_valid_prometheus_operator_object_on_the_services_port(rendered):
    """Parsed into prometheus-operator's models; a field they do not know fails the round trip."""
    from cloudcoil.models.prometheus_operator.v1 import PodMonitor

    (monitor,) = rendered.of("PodMonitor").values()
    model = PodMonitor.model_validate(monitor)
    assert model.model_dump(by_alias=True, exclude_unset=True, mode="json") == monitor
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    for name in SERVICES:
        labels = rendered.one("Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
