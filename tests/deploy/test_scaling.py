"""The ScaledObjects of the production overlay: KEDA's schema (its models), and every number, trigger,
cron window and time zone the deployment was specified with."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cloudcoil.models.keda.v1alpha1 import ScaledObject
from croniter import croniter

from crm.bank_sync.settings import BankSyncSettings
from crm.platform.settings import PlatformSettings
from crm.services import SERVICES

SPECIFIED = {  # min, max
    "bank-sync": (2, 10),
    "payments": (5, 20),
    "workflow": (3, 15),
    "identity": (2, 6),
    "web": (2, 10),
}


def triggers(scaled: dict) -> dict[str, dict]:
    found = {t["type"]: t for t in scaled["spec"]["triggers"]}
    assert len(found) == len(scaled["spec"]["triggers"]), "one trigger of each type"
    return found


def config(rendered) -> dict[str, str]:
    return rendered.one("ConfigMap", "crm-config")["data"]


def test_every_scaled_object_is_a_valid_keda_object(rendered):
    """Parsed into KEDA's models; a field they do not know would be dropped, so the round trip fails."""
    for name, scaled in rendered.of("ScaledObject").items():
        model = ScaledObject.model_validate(scaled)
        assert model.model_dump(by_alias=True, exclude_unset=True, mode="json") == scaled, name


def test_a_field_keda_does_not_know_fails_the_round_trip(rendered):
    scaled = rendered.one("ScaledObject", "payments")
    misspelt = {**scaled, "spec": {**scaled["spec"], "maxReplicas": 20}}
    assert ScaledObject.model_validate(misspelt).model_dump(by_alias=True, exclude_unset=True) != misspelt


def test_every_deployable_is_scaled_within_its_specified_bounds(rendered):
    scaled = rendered.of("ScaledObject")
    assert set(scaled) == set(SERVICES) == set(SPECIFIED)
    for name, (least, most) in SPECIFIED.items():
        spec = scaled[name]["spec"]
        assert spec["scaleTargetRef"] == {"name": name}
        assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (least, most), name
        assert "replicas" not in rendered.one("Deployment", name)["spec"], "the ScaledObject owns the count"
        assert least >= 2, "one replica per node lost"


def _window(trigger: dict) -> tuple[str, str, ZoneInfo, int]:
    meta = trigger["metadata"]
    return meta["start"], meta["end"], ZoneInfo(meta["timezone"]), int(meta["desiredReplicas"])


def _within(start: str, end: str, moment: datetime) -> bool:
    """Inside the cron window: the last start came after the last end (KEDA's cron scaler)."""
    return croniter(start, moment).get_prev(datetime) > croniter(end, moment).get_prev(datetime)


def test_bank_sync_runs_ten_replicas_over_the_nightly_sync(rendered):
    (cron,) = triggers(rendered.one("ScaledObject", "bank-sync")).values()
    assert cron["type"] == "cron"
    start, end, zone, replicas = _window(cron)
    assert zone == ZoneInfo("Asia/Ho_Chi_Minh") == PlatformSettings(**_tz(rendered)).tz
    assert replicas == 10
    schedule = config(rendered).get(
        "CRM_SYNC_SCHEDULE", BankSyncSettings.model_fields["sync_schedule"].default
    )
    assert schedule == "30 1 * * *"
    night = croniter(schedule, datetime(2026, 12, 3, 12, tzinfo=zone)).get_next(datetime)
    # up before the load starts, and for three hours after it (the load of a million customers and the
    # read model's refill take about 10 minutes on two cores: docs/benchmarks.md)
    assert _within(start, end, night - timedelta(minutes=15))
    assert _within(start, end, night + timedelta(hours=3))
    assert not _within(start, end, night - timedelta(hours=3)) and not _within(
        start, end, night + timedelta(hours=6)
    )


def _tz(rendered) -> dict[str, str]:
    return {"business_timezone": config(rendered)["CRM_BUSINESS_TIMEZONE"]}


def test_payments_scales_on_the_payment_queue_and_on_cpu(rendered):
    found = triggers(rendered.one("ScaledObject", "payments"))
    assert set(found) == {"prometheus", "cpu"}
    prometheus = found["prometheus"]["metadata"]
    namespace = rendered.one("ScaledObject", "payments")["metadata"]["namespace"]
    assert prometheus["query"] == f'max(crm_payment_queue_depth{{namespace="{namespace}"}})'
    assert int(prometheus["threshold"]) == 1000
    assert prometheus["serverAddress"].startswith("http")
    assert found["cpu"]["metricType"] == "Utilization" and int(found["cpu"]["metadata"]["value"]) == 60


def test_workflow_runs_ten_replicas_over_the_working_day_and_scales_on_cpu(rendered):
    found = triggers(rendered.one("ScaledObject", "workflow"))
    assert set(found) == {"cron", "cpu"}
    start, end, zone, replicas = _window(found["cron"])
    assert (start, end, replicas) == ("0 8 * * 1-5", "0 18 * * 1-5", 10)
    assert zone == ZoneInfo("Asia/Ho_Chi_Minh")
    monday, saturday = datetime(2026, 11, 30, tzinfo=zone), datetime(2026, 12, 5, tzinfo=zone)
    assert _within(start, end, monday.replace(hour=8, minute=1))
    assert _within(start, end, monday.replace(hour=17, minute=59))
    assert not _within(start, end, monday.replace(hour=7, minute=59))
    assert not _within(start, end, monday.replace(hour=18, minute=1))
    assert not _within(start, end, saturday.replace(hour=10))
    assert found["cpu"]["metricType"] == "Utilization" and int(found["cpu"]["metadata"]["value"]) == 60


@pytest.mark.parametrize("name", ["identity", "web"])
def test_identity_and_web_scale_on_cpu(rendered, name):
    (cpu,) = triggers(rendered.one("ScaledObject", name)).values()
    assert cpu["type"] == "cpu" and cpu["metricType"] == "Utilization"
    assert int(cpu["metadata"]["value"]) == 60


def test_cpu_triggers_have_requests_to_measure_against(rendered):
    for name, scaled in rendered.of("ScaledObject").items():
        if "cpu" in triggers(scaled):
            (c,) = rendered.one("Deployment", name)["spec"]["template"]["spec"]["containers"]
            assert c["resources"]["requests"]["cpu"], name
