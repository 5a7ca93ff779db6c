"""``GET /api/assignments/customers``: delinquent customers paged by customer, every filter on the whole
result; ``POST /api/assignments/current``: the current assignments of many customers at once."""

from __future__ import annotations

import uuid
from decimal import Decimal

from crm.platform.auth import Role
from crm.workflow.readmodel.models import CustomerView, LoanView
from tests.bank_sync.test_customers_loans import add_customer_with_loan
from tests.workflow.test_assignments import _agent


async def _book(workflow, cifs_loans: dict[str, list[tuple[int, str]]], product: str) -> None:
    """Customers of the read model, each with loans of ``product``: (dpd, status) each."""
    async with workflow.app.state.db.transaction() as session:
        for cif, loans in cifs_loans.items():
            session.add(
                CustomerView(cif=cif, name=f"Nguyễn Văn {cif[-4:]}", segment="RETAIL", status="ACTIVE")
            )
            for n, (dpd, status) in enumerate(loans):
                session.add(
                    LoanView(
                        account_number=f"{cif}-{n}",
                        cif=cif,
                        product_type=product,
                        currency="VND",
                        outstanding=Decimal("5000000.00"),
                        due_amount=Decimal("250000.00"),
                        dpd=dpd,
                        status=status,
                    )
                )


async def _list(workflow, headers, **params) -> dict:
    r = await workflow.get("/api/assignments/customers", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_filters_apply_to_every_customer_and_pages_are_pages_of_customers(
    workflow, bank_sync, token_for, unique
):
    product = f"P_{uuid.uuid4().hex[:12].upper()}"  # this test's own product: no other test's loans
    cifs = [unique("LIST") for _ in range(7)]
    await _book(
        workflow,
        {
            cifs[0]: [(200, "OPEN"), (3, "OPEN")],  # B5 by its worst loan; 2 delinquent loans
            cifs[1]: [(100, "OPEN")],  # B4
            cifs[2]: [(45, "OPEN"), (0, "OPEN")],  # B2; the current loan is not delinquent
            cifs[3]: [(40, "OPEN")],  # B2
            cifs[4]: [(10, "OPEN")],  # B1
            cifs[5]: [(0, "OPEN")],  # not delinquent
            cifs[6]: [(90, "CLOSED")],  # a closed loan is not delinquent
        },
        product,
    )
    sup = token_for(Role.SUPERVISOR)
    call = await _agent(workflow, token_for, unique, team="MID_STAGE_CALL")
    field = await _agent(workflow, token_for, unique, team="EARLY_STAGE_FIELD")
    for cif, choice in (
        (cifs[0], {"assignedCallAgentId": call["id"]}),
        (cifs[3], {"assignedCallAgentId": call["id"]}),
        (cifs[4], {"assignedFieldAgentId": field["id"]}),
    ):
        await add_customer_with_loan(bank_sync.app, cif, f"{cif}-BANK", dpd=0)  # bank-sync knows it
        r = await workflow.post("/api/assignments", json={"cif": cif, **choice}, headers=sup)
        assert r.status_code == 201, r.text

    every = await _list(workflow, sup, productType=product, pageSize=10)
    assert [c["cif"] for c in every["items"]] == cifs[:5] and every["total"] == 5  # worst first
    first = every["items"][0]
    assert first["maxDpd"] == 200 and first["bucket"] == "B5" and first["delinquentLoans"] == 2
    assert first["dueAmount"] == "500000.00" and first["currency"] == "VND"
    assert first["productTypes"] == [product] and first["name"] == f"Nguyễn Văn {cifs[0][-4:]}"
    assert first["assignedCallAgentId"] == call["id"] and first["assignmentId"]
    assert every["items"][1]["assignmentId"] is None and every["items"][1]["assignedCallAgentId"] is None

    # Unassigned: on the whole result, one customer per page, the total is that of all pages.
    unassigned = [
        await _list(workflow, sup, productType=product, assigned="false", pageSize=1, page=n)
        for n in (1, 2, 3)
    ]
    assert [p["total"] for p in unassigned] == [2, 2, 2]
    assert [c["cif"] for p in unassigned for c in p["items"]] == [cifs[1], cifs[2]]
    assigned = await _list(workflow, sup, productType=product, assigned="true")
    assert [c["cif"] for c in assigned["items"]] == [cifs[0], cifs[3], cifs[4]]

    # Team of the current call or field agent.
    mid = await _list(workflow, sup, productType=product, team="MID_STAGE_CALL")
    assert [c["cif"] for c in mid["items"]] == [cifs[0], cifs[3]]
    fld = await _list(workflow, sup, productType=product, team="EARLY_STAGE_FIELD")
    assert [c["cif"] for c in fld["items"]] == [cifs[4]]

    # Bucket: of the worst open loan.
    b2 = await _list(workflow, sup, productType=product, bucket="B2")
    assert [c["cif"] for c in b2["items"]] == [cifs[2], cifs[3]]
    b2_mid = await _list(workflow, sup, productType=product, bucket="B2", team="MID_STAGE_CALL")
    assert [c["cif"] for c in b2_mid["items"]] == [cifs[3]]

    # The current assignments of many customers in one answer (only those that have one).
    r = await workflow.post("/api/assignments/current", json={"cifs": cifs}, headers=sup)
    assert r.status_code == 200, r.text
    current = {i["cif"]: i for i in r.json()["items"]}
    assert set(current) == {cifs[0], cifs[3], cifs[4]}
    assert current[cifs[4]]["assignedFieldAgentId"] == field["id"] and current[cifs[4]]["isCurrent"]


async def test_the_list_is_for_supervisors_and_bad_filters_are_named(workflow, token_for):
    r = await workflow.get(
        "/api/assignments/customers", headers=token_for(Role.AGENT, agent_id=str(uuid.uuid4()))
    )
    assert r.status_code == 403, r.text
    sup = token_for(Role.SUPERVISOR)
    for name, value in (("bucket", "B9"), ("team", "NOBODY"), ("assigned", "maybe"), ("productType", "a b")):
        r = await workflow.get("/api/assignments/customers", params={name: value}, headers=sup)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert any(name in str(e["field"]) for e in r.json()["errors"]), r.json()
    r = await workflow.post("/api/assignments/current", json={"cifs": []}, headers=sup)
    assert r.status_code == 422, r.text
