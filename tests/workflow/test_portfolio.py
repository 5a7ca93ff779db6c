"""A team's portfolio by days-past-due bucket, from the customers its agents have now."""

from __future__ import annotations

from decimal import Decimal

from crm.platform.auth import Role
from tests.workflow.test_agents import agent
from tests.workflow.test_workload import TODAY, assigned, at, loan, store


def _figures(body: dict) -> dict[str, tuple[int, int, dict[str, Decimal], dict[str, Decimal]]]:
    return {
        b["bucket"]: (
            b["loans"],
            b["customers"],
            {a["currency"]: Decimal(a["amount"]) for a in b["outstanding"]},
            {a["currency"]: Decimal(a["amount"]) for a in b["due"]},
        )
        for b in body["buckets"]
    }


def _added(before: dict, after: dict) -> dict:
    """What changed in each bucket: loans, customers and the amounts per currency."""
    changes = {}
    for bucket, (loans, customers, outstanding, due) in after.items():
        old = before.get(bucket, (0, 0, {}, {}))
        delta = (
            loans - old[0],
            customers - old[1],
            {c: v - old[2].get(c, Decimal(0)) for c, v in outstanding.items() if v != old[2].get(c)},
            {c: v - old[3].get(c, Decimal(0)) for c, v in due.items() if v != old[3].get(c)},
        )
        if delta != (0, 0, {}, {}):
            changes[bucket] = delta
    return changes


async def test_the_portfolio_of_a_team_counts_each_loan_in_its_bucket_and_currency(
    workflow, token_for, unique
):
    tz = workflow.app.state.settings.tz
    supervisor = token_for(Role.SUPERVISOR)
    r = await workflow.post(
        "/api/agents", json=agent(unique("EMP"), team="LEGAL"), headers=token_for(Role.ADMIN)
    )
    assert r.status_code == 201, r.text
    legal = str(r.json()["id"])
    before = await workflow.get("/api/workflow/portfolio", params={"team": "LEGAL"}, headers=supervisor)
    assert before.status_code == 200, before.text
    assert [b["bucket"] for b in before.json()["buckets"]] == ["CURRENT", "B1", "B2", "B3", "B4", "B5"]
    other_before = await workflow.get(
        "/api/workflow/portfolio", params={"team": "HIGH_VALUE"}, headers=supervisor
    )
    everyone_before = await workflow.get("/api/workflow/portfolio", headers=supervisor)

    paying, late, later = unique("CIF"), unique("CIF"), unique("CIF")
    start = at(tz, TODAY, 8)
    await store(
        workflow,
        assigned(paying, call=legal, start=start),
        assigned(late, field=legal, start=start),
        assigned(later, call=legal, start=start),
        loan(paying, unique("LN"), dpd=0, due="10.00", outstanding="100.00"),
        loan(paying, unique("LN"), dpd=45, due="5.50", outstanding="50.25", currency="USD"),
        loan(late, unique("LN"), dpd=45, due="20.00", outstanding="200.00"),
        loan(later, unique("LN"), dpd=200, due="30.00", outstanding="300.00"),
    )
    after = await workflow.get("/api/workflow/portfolio", params={"team": "LEGAL"}, headers=supervisor)
    added = _added(_figures(before.json()), _figures(after.json()))
    assert added == {
        "CURRENT": (1, 1, {"VND": Decimal("100.00")}, {"VND": Decimal("10.00")}),
        "B2": (
            2,
            2,
            {"USD": Decimal("50.25"), "VND": Decimal("200.00")},
            {"USD": Decimal("5.50"), "VND": Decimal("20.00")},
        ),
        "B5": (1, 1, {"VND": Decimal("300.00")}, {"VND": Decimal("30.00")}),
    }
    other_team = await workflow.get(
        "/api/workflow/portfolio", params={"team": "HIGH_VALUE"}, headers=supervisor
    )
    everyone = await workflow.get("/api/workflow/portfolio", headers=supervisor)
    assert other_team.status_code == everyone.status_code == 200
    assert _added(_figures(other_before.json()), _figures(other_team.json())) == {}, "not another team's"
    assert _added(_figures(everyone_before.json()), _figures(everyone.json())) == added, "all teams count it"
    assert everyone.json()["team"] is None and other_team.json()["team"] == "HIGH_VALUE"


async def test_the_portfolio_is_for_supervisors_and_names_a_bad_team(workflow, token_for):
    assert (await workflow.get("/api/workflow/portfolio", headers=token_for(Role.AGENT))).status_code == 403
    bad = await workflow.get(
        "/api/workflow/portfolio", params={"team": "NOPE"}, headers=token_for(Role.ADMIN)
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "team"
