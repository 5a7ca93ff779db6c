"""The read API a collector uses: the customer search box, full views, a customer's loans and
collaterals, and the delinquency search (docs/api.md, bank-sync)."""

from __future__ import annotations

import dataclasses
import random
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert

from crm.bank_sync.collaterals.models import Collateral, DueSegmentation, LoanCollateral
from crm.bank_sync.contacts.models import Address, Email, Phone, ReferenceCustomer
from crm.bank_sync.customers.models import Customer
from crm.bank_sync.customers.schemas import CustomerStatus
from crm.bank_sync.customers.service import phone_candidates, search_criteria
from crm.bank_sync.loans.models import Loan
from crm.bank_sync.loans.schemas import DelinquencyStatus, ProductType
from crm.bank_sync.loans.service import delinquency_criteria
from crm.bank_sync.records.freshness import effective_last_synced_at
from crm.bank_sync.records.models import SyncEntityState
from crm.platform.auth import Role
from crm.platform.buckets import DpdBucket
from crm.platform.errors import BusinessRuleViolation

SYNCED_AT = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
DPDS = (0, 1, 30, 31, 60, 61, 90, 91, 180, 181, 400)
"""One open loan at each bucket boundary (and one far into B5); a closed loan is added at dpd 500."""


def synced(source: str = "T24", **fields: Any) -> dict[str, Any]:
    return {
        "source_system": source,
        "created_by": "SYSTEM",
        "updated_by": "SYSTEM",
        "last_synced_at": SYNCED_AT,
    } | fields


def digits(n: int) -> str:
    return "".join(random.choices("0123456789", k=n))


def loan_values(account_number: str, cif: str, dpd: int, **fields: Any) -> dict[str, Any]:
    status = "DEFAULT" if dpd > 90 else "DELINQUENT" if dpd else "CURRENT"
    return (
        synced(
            account_number=account_number,
            cif=cif,
            product_type="PERSONAL",
            original_amount=Decimal("50000000.00"),
            disbursement_date=date(2025, 1, 15),
            maturity_date=date(2028, 1, 15),
            interest_rate=Decimal("11.2500"),
            term=36,
            payment_frequency="MONTHLY",
            outstanding=Decimal("42000000.50"),
            due_amount=Decimal("1500000.25"),
            remaining_amount=Decimal("40500000.25"),
            dpd=dpd,
            delinquency_status=status,
            status="OPEN",
        )
        | fields
    )


@dataclasses.dataclass
class Portfolio:
    """A few customers under a segment of their own, so that searches can be told apart from other tests'."""

    segment: str
    base: str  # the CIFs all start with it
    an: dict[str, Any]  # Nguyễn Văn An: contacts, references, every bucket of loan, collaterals
    anh: dict[str, Any]
    ngoc: dict[str, Any]
    company: dict[str, Any]
    accounts: dict[int, str]  # dpd -> account number of an's open loans
    closed_account: str
    secured_account: str  # the loan with two collaterals and three instalments
    phone_digits: str  # an's mobile is +849<these>
    email: str
    ref_cifs: tuple[str, str]


async def add_portfolio(app: Any, unique: Callable[[str], str]) -> Portfolio:
    base = unique("CIF")
    segment = unique("SEG")
    phone_digits = digits(8)
    email = f"An.Nguyen.{base}@Example.com"

    def customer(suffix: str, name: str, **fields: Any) -> dict[str, Any]:
        values = {"cif": base + suffix, "type": "INDIVIDUAL", "name": name, "national_id": digits(12)}
        return synced(**values, segment=segment, status="ACTIVE") | fields

    an = customer("01", "Nguyễn Văn An", date_of_birth=date(1985, 3, 14), gender="MALE")
    anh = customer("02", "Nguyễn Văn Anh", gender="MALE")
    ngoc = customer("03", "Trần Thị Bích Ngọc", gender="FEMALE", status="INACTIVE")
    company = customer(
        "04",
        "Công ty TNHH Ánh Dương",
        type="ORGANIZATION",
        national_id=None,
        company_name="Ánh Dương",
        tax_id="0312345678",
    )
    spouse, guarantor = unique("REF"), unique("REF")

    def phone(owner: str, kind: str, number: str, *, primary: bool, verified: bool) -> Phone:
        return Phone(**synced(cif=owner, type=kind, number=number, is_primary=primary, is_verified=verified))

    accounts = {dpd: f"{base}L{dpd:03d}" for dpd in DPDS}
    secured_account, closed_account = accounts[60], f"{base}L500"
    async with app.state.db.transaction() as session:
        for values in (an, anh, ngoc, company):
            session.add(Customer(**values))
        await session.flush()
        cif = an["cif"]
        # Inserted non-primary first: the full view lists the primary phone first all the same.
        session.add(phone(cif, "HOME", "02838221234", primary=False, verified=False))
        session.add(phone(cif, "MOBILE", f"+849{phone_digits}", primary=True, verified=True))
        session.add(phone(anh["cif"], "MOBILE", f"+849{digits(8)}", primary=True, verified=True))
        session.add(
            Address(
                **synced(
                    cif=cif,
                    type="WORK",
                    address_line1="72 Lê Thánh Tôn",
                    city="Hồ Chí Minh",
                    district="Quận 1",
                    country="VN",
                    is_primary=False,
                    is_verified=False,
                )
            )
        )
        session.add(
            Address(
                **synced(
                    cif=cif,
                    type="HOME",
                    address_line1="15 Nguyễn Huệ",
                    address_line2="Phường Bến Nghé",
                    city="Hồ Chí Minh",
                    district="Quận 1",
                    country="VN",
                    is_primary=True,
                    is_verified=True,
                    verification_date=date(2026, 1, 5),
                )
            )
        )
        session.add(
            Email(**synced(cif=cif, address=f"zz.{base}@work.vn", is_primary=False, is_verified=False))
        )
        session.add(Email(**synced(cif=cif, address=email, is_primary=True, is_verified=True)))
        for ref_cif, relationship, name in (
            (spouse, "SPOUSE", "Lê Thị Hoa"),
            (guarantor, "GUARANTOR", "Phạm Minh Tuấn"),
        ):
            session.add(
                ReferenceCustomer(
                    **synced(
                        primary_cif=cif,
                        ref_cif=ref_cif,
                        relationship_type=relationship,
                        type="INDIVIDUAL",
                        name=name,
                    )
                )
            )
        session.add(phone(spouse, "MOBILE", f"+849{digits(8)}", primary=True, verified=True))
        session.add(phone(guarantor, "WORK", f"+8428{digits(8)}", primary=False, verified=True))
        session.add(phone(guarantor, "MOBILE", f"+849{digits(8)}", primary=True, verified=False))
        for dpd, account in accounts.items():
            product = "CREDIT_CARD" if dpd == 60 else "AUTO" if dpd == 181 else "PERSONAL"
            session.add(Loan(**loan_values(account, cif, dpd, product_type=product)))
        session.add(
            Loan(**loan_values(closed_account, cif, 500, status="CLOSED", close_date=date(2026, 10, 1)))
        )
        session.add(Loan(**loan_values(f"{base}L900", anh["cif"], 0)))
        for number, kind, extra in (
            (
                "C2",
                "VEHICLE",
                {"make": "Toyota", "model": "Vios", "year": 2022, "license_plate": "51H-123.45"},
            ),
            (
                "C1",
                "REAL_ESTATE",
                {"property_type": "APARTMENT", "size": Decimal("72.50"), "address": "15 Nguyễn Huệ"},
            ),
            ("C3", "DEPOSIT", {}),
        ):
            session.add(
                Collateral(
                    **synced(
                        collateral_number=f"{base}{number}",
                        cif=cif,
                        type=kind,
                        description=f"Tài sản {number}",
                        value=Decimal("900000000.00"),
                        valuation_date=date(2026, 6, 1),
                        **extra,
                    )
                )
            )
        await session.flush()
        for number in ("C2", "C1"):
            session.add(
                LoanCollateral(
                    **synced(loan_account_number=secured_account, collateral_number=f"{base}{number}")
                )
            )
        for month in (12, 10, 11):
            session.add(
                DueSegmentation(
                    **synced(
                        loan_account_number=secured_account,
                        due_date=date(2026, month, 15),
                        principal_amount=Decimal("1000000.00"),
                        interest_amount=Decimal("450000.10"),
                        fees_amount=Decimal("0.00"),
                        penalty_amount=Decimal(f"{month}.50"),
                    )
                )
            )
    return Portfolio(
        segment=segment,
        base=base,
        an=an,
        anh=anh,
        ngoc=ngoc,
        company=company,
        accounts=accounts,
        closed_account=closed_account,
        secured_account=secured_account,
        phone_digits=phone_digits,
        email=email,
        ref_cifs=(spouse, guarantor),
    )


@pytest.fixture
async def portfolio(bank_sync, unique) -> Portfolio:
    return await add_portfolio(bank_sync.app, unique)


def ok(r: httpx.Response) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def plain(name: str) -> str:
    """Lower case without accents (what bank_sync.search_text does)."""
    decomposed = unicodedata.normalize("NFD", name.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def cifs(page: dict[str, Any]) -> list[str]:
    return [c["cif"] for c in page["items"]]


# The customer search box


async def test_search_by_name_ignores_accents_and_case(bank_sync, token_for, portfolio):
    p, headers = portfolio, token_for(Role.AGENT)
    page = ok(
        await bank_sync.get(
            "/api/customers", params={"q": "nguyen van an", "segment": p.segment}, headers=headers
        )
    )
    assert cifs(page) == [p.an["cif"], p.anh["cif"]], "the exact name ranks above the longer one"
    assert page["total"] == 2 and page["page"] == 1 and page["pageSize"] == 50
    first = page["items"][0]
    assert first["name"] == "Nguyễn Văn An" and first["nationalId"] == p.an["national_id"]
    assert first["dateOfBirth"] == "1985-03-14" and first["sourceSystem"] == "T24" and first["stale"] is False

    partial = ok(
        await bank_sync.get(
            "/api/customers", params={"q": "  BICH   ngoc ", "segment": p.segment}, headers=headers
        )
    )
    assert cifs(partial) == [p.ngoc["cif"]]
    accented = ok(
        await bank_sync.get(
            "/api/customers", params={"q": "Ánh Dương", "segment": p.segment}, headers=headers
        )
    )
    assert cifs(accented) == [p.company["cif"]]
    assert accented["items"][0]["type"] == "ORGANIZATION" and accented["items"][0]["taxId"] == "0312345678"

    anywhere = ok(
        await bank_sync.get("/api/customers", params={"q": "Nguyễn Văn An", "pageSize": 500}, headers=headers)
    )
    assert p.an["cif"] in cifs(anywhere), "found without the segment filter too"
    assert all("nguyen van an" in plain(c["name"]) for c in anywhere["items"])
    for wildcards in ("%%%", "_ _", "an%"):
        literal = ok(
            await bank_sync.get(
                "/api/customers", params={"q": wildcards, "segment": p.segment}, headers=headers
            )
        )
        assert literal["total"] == 0, f"LIKE wildcards in {wildcards!r} are taken literally"


async def test_search_by_cif_exact_or_prefix(bank_sync, token_for, portfolio):
    p, headers = portfolio, token_for(Role.AGENT)
    exact = ok(await bank_sync.get("/api/customers", params={"q": p.an["cif"]}, headers=headers))
    assert cifs(exact) == [p.an["cif"]] and exact["total"] == 1
    prefix = ok(await bank_sync.get("/api/customers", params={"q": p.base.lower()}, headers=headers))
    assert cifs(prefix) == [p.an["cif"], p.anh["cif"], p.ngoc["cif"], p.company["cif"]]
    assert prefix["total"] == 4


async def test_search_by_national_id_phone_and_email(bank_sync, token_for, portfolio):
    p, headers = portfolio, token_for(Role.SUPERVISOR)
    by_id = ok(await bank_sync.get("/api/customers", params={"q": p.an["national_id"]}, headers=headers))
    assert cifs(by_id) == [p.an["cif"]]

    d = p.phone_digits
    for typed in (f"09{d[:2]} {d[2:5]} {d[5:]}", f"09{d[:2]}.{d[2:5]}.{d[5:]}", f"+84-9{d}", f"+849{d}"):
        by_phone = ok(await bank_sync.get("/api/customers", params={"q": typed}, headers=headers))
        assert cifs(by_phone) == [p.an["cif"]], typed

    for typed in (p.email.upper(), p.email.lower(), f" {p.email} "):
        by_email = ok(await bank_sync.get("/api/customers", params={"q": typed}, headers=headers))
        assert cifs(by_email) == [p.an["cif"]], typed

    nobody = ok(
        await bank_sync.get("/api/customers", params={"q": f"nobody.{p.base}@example.com"}, headers=headers)
    )
    assert nobody == {"items": [], "page": 1, "pageSize": 50, "total": 0, "totalExact": True}


async def test_filters_and_paging(bank_sync, token_for, portfolio):
    p, headers = portfolio, token_for(Role.ADMIN)
    everyone = ok(await bank_sync.get("/api/customers", params={"segment": p.segment}, headers=headers))
    assert (
        cifs(everyone) == [p.an["cif"], p.anh["cif"], p.ngoc["cif"], p.company["cif"]]
        and everyone["total"] == 4
    )

    inactive = ok(
        await bank_sync.get(
            "/api/customers", params={"segment": p.segment, "status": "INACTIVE"}, headers=headers
        )
    )
    assert cifs(inactive) == [p.ngoc["cif"]] and inactive["total"] == 1
    active_an = {"q": "nguyen van", "segment": p.segment, "status": "ACTIVE"}
    assert cifs(ok(await bank_sync.get("/api/customers", params=active_an, headers=headers))) == [
        p.an["cif"],
        p.anh["cif"],
    ]
    other_segment = {"q": p.an["cif"], "segment": p.segment + "X"}
    assert ok(await bank_sync.get("/api/customers", params=other_segment, headers=headers))["total"] == 0

    pages = [
        ok(
            await bank_sync.get(
                "/api/customers", params={"segment": p.segment, "page": n, "pageSize": 3}, headers=headers
            )
        )
        for n in (1, 2, 3)
    ]
    assert [cifs(page) for page in pages] == [
        [p.an["cif"], p.anh["cif"], p.ngoc["cif"]],
        [p.company["cif"]],
        [],
    ]
    assert (
        [page["total"] for page in pages] == [4, 4, 4] and pages[1]["page"] == 2 and pages[1]["pageSize"] == 3
    )


async def test_bad_search_parameters_are_422_naming_the_field(bank_sync, token_for):
    headers = token_for(Role.AGENT)
    for params, field in (
        ({"status": "DORMANT"}, "status"),
        ({"pageSize": 501}, "pageSize"),
        ({"pageSize": 0}, "pageSize"),
        ({"page": 0}, "page"),
        ({"q": "x" * 201}, "q"),
    ):
        body = problem(await bank_sync.get("/api/customers", params=params, headers=headers), 422)
        assert [e["field"] for e in body["errors"]] == [field], body


# Full views


async def test_customer_full_view(bank_sync, token_for, portfolio):
    p = portfolio
    view = ok(await bank_sync.get(f"/api/customers/{p.an['cif']}", headers=token_for(Role.AGENT)))
    assert view["cif"] == p.an["cif"] and view["name"] == "Nguyễn Văn An" and view["status"] == "ACTIVE"
    assert view["segment"] == p.segment and view["gender"] == "MALE" and view["isEditable"] is False
    assert view["stale"] is False and view["lastSyncedAt"] is not None

    assert [(ph["type"], ph["isPrimary"]) for ph in view["phones"]] == [("MOBILE", True), ("HOME", False)]
    assert view["phones"][0]["number"] == f"+849{p.phone_digits}" and view["phones"][0]["isVerified"] is True
    assert [(a["type"], a["isPrimary"]) for a in view["addresses"]] == [("HOME", True), ("WORK", False)]
    home = view["addresses"][0]
    assert home["addressLine1"] == "15 Nguyễn Huệ" and home["addressLine2"] == "Phường Bến Nghé"
    assert home["country"] == "VN" and home["verificationDate"] == "2026-01-05"
    assert [e["address"] for e in view["emails"]] == [p.email, f"zz.{p.base}@work.vn"]

    spouse, guarantor = p.ref_cifs
    references = {r["refCif"]: r for r in view["references"]}
    assert set(references) == {spouse, guarantor}
    assert [r["relationshipType"] for r in view["references"]] == ["GUARANTOR", "SPOUSE"]
    assert references[spouse]["name"] == "Lê Thị Hoa" and references[spouse]["primaryCif"] == p.an["cif"]
    assert [ph["cif"] for ph in references[spouse]["phones"]] == [spouse]
    assert [(ph["type"], ph["isPrimary"]) for ph in references[guarantor]["phones"]] == [
        ("MOBILE", True),
        ("WORK", False),
    ]

    bare = ok(await bank_sync.get(f"/api/customers/{p.company['cif']}", headers=token_for(Role.SYSTEM)))
    assert (
        bare["phones"] == [] and bare["addresses"] == [] and bare["emails"] == [] and bare["references"] == []
    )


async def test_loan_full_view(bank_sync, token_for, portfolio):
    p = portfolio
    view = ok(await bank_sync.get(f"/api/loans/{p.secured_account}", headers=token_for(Role.AGENT)))
    assert view["accountNumber"] == p.secured_account and view["cif"] == p.an["cif"]
    assert view["dpd"] == 60 and view["bucket"] == "B2" and view["productType"] == "CREDIT_CARD"
    assert view["outstanding"] == "42000000.50" and view["dueAmount"] == "1500000.25"
    assert view["interestRate"] == "11.2500" and view["stale"] is False
    assert [c["collateralNumber"] for c in view["collaterals"]] == [f"{p.base}C1", f"{p.base}C2"]
    estate, vehicle = view["collaterals"]
    assert estate["type"] == "REAL_ESTATE" and estate["size"] == "72.50" and estate["value"] == "900000000.00"
    assert vehicle["make"] == "Toyota" and vehicle["licensePlate"] == "51H-123.45" and vehicle["year"] == 2022
    dues = view["dueSegmentations"]
    assert [d["dueDate"] for d in dues] == ["2026-10-15", "2026-11-15", "2026-12-15"]
    assert dues[0]["principalAmount"] == "1000000.00" and dues[0]["interestAmount"] == "450000.10"
    assert dues[0]["feesAmount"] == "0.00" and dues[0]["penaltyAmount"] == "10.50"

    plain = ok(await bank_sync.get(f"/api/loans/{p.accounts[0]}", headers=token_for(Role.AGENT)))
    assert plain["bucket"] == "CURRENT" and plain["collaterals"] == [] and plain["dueSegmentations"] == []


async def test_customer_loans_and_collaterals(bank_sync, token_for, portfolio):
    p, headers = portfolio, token_for(Role.AGENT)
    loans = ok(await bank_sync.get(f"/api/customers/{p.an['cif']}/loans", headers=headers))
    assert loans["total"] == len(DPDS) + 1
    assert [loan["accountNumber"] for loan in loans["items"]] == sorted(
        [*p.accounts.values(), p.closed_account]
    )
    assert {loan["accountNumber"]: loan["bucket"] for loan in loans["items"]}[p.accounts[181]] == "B5"
    second = ok(await bank_sync.get(f"/api/customers/{p.an['cif']}/loans?page=2&pageSize=5", headers=headers))
    assert [loan["accountNumber"] for loan in second["items"]] == [
        loan["accountNumber"] for loan in loans["items"][5:10]
    ]
    assert second["total"] == len(DPDS) + 1 and second["page"] == 2 and second["pageSize"] == 5

    collaterals = ok(await bank_sync.get(f"/api/customers/{p.an['cif']}/collaterals", headers=headers))
    assert [c["collateralNumber"] for c in collaterals["items"]] == [f"{p.base}C{n}" for n in (1, 2, 3)]
    assert collaterals["total"] == 3 and collaterals["items"][2]["type"] == "DEPOSIT"
    assert collaterals["items"][2]["make"] is None and collaterals["items"][2]["size"] is None

    none = ok(await bank_sync.get(f"/api/customers/{p.company['cif']}/collaterals", headers=headers))
    assert none == {"items": [], "page": 1, "pageSize": 50, "total": 0}


async def test_unknown_keys_are_404_problems(bank_sync, token_for, unique):
    headers = token_for(Role.AGENT)
    nope = unique("NOPE")
    for path in (
        f"/api/customers/{nope}",
        f"/api/customers/{nope}/loans",
        f"/api/customers/{nope}/collaterals",
        f"/api/loans/{nope}",
    ):
        body = problem(await bank_sync.get(path, headers=headers), 404)
        assert nope in body["detail"], path


# The delinquency search


async def delinquent(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    return ok(await client.get("/api/loans/delinquent", params=params, headers=headers))


async def test_delinquency_search_by_bucket_and_dpd_range(bank_sync, token_for, portfolio):
    p, headers = portfolio, token_for(Role.AGENT)
    cif = p.an["cif"]

    def dpds(page: dict[str, Any]) -> list[int]:
        return [loan["dpd"] for loan in page["items"]]

    everything = await delinquent(bank_sync, headers, cif=cif)
    assert dpds(everything) == [400, 181, 180, 91, 90, 61, 60, 31, 30, 1], "open, dpd > 0, most overdue first"
    assert everything["total"] == 10
    assert all(loan["status"] == "OPEN" for loan in everything["items"])
    assert (
        everything["items"][0]["accountNumber"] == p.accounts[400]
        and everything["items"][0]["bucket"] == "B5"
    )

    expected = {
        "CURRENT": [],
        "B1": [30, 1],
        "B2": [60, 31],
        "B3": [90, 61],
        "B4": [180, 91],
        "B5": [400, 181],
    }
    for bucket, wanted in expected.items():
        page = await delinquent(bank_sync, headers, cif=cif, bucket=bucket)
        assert dpds(page) == wanted and page["total"] == len(wanted), bucket
        assert {loan["bucket"] for loan in page["items"]} <= {bucket}

    assert dpds(await delinquent(bank_sync, headers, cif=cif, minDpd=31, maxDpd=90)) == [90, 61, 60, 31]
    assert dpds(await delinquent(bank_sync, headers, cif=cif, maxDpd=30)) == [30, 1]
    assert dpds(await delinquent(bank_sync, headers, cif=cif, minDpd=0, maxDpd=1)) == [1]
    assert dpds(await delinquent(bank_sync, headers, cif=cif, minDpd=200)) == [400]
    assert dpds(await delinquent(bank_sync, headers, cif=cif, bucket="B2", minDpd=45)) == [60]
    assert dpds(await delinquent(bank_sync, headers, cif=cif, bucket="B5", maxDpd=300)) == [181]
    empty = await delinquent(bank_sync, headers, cif=cif, bucket="B1", minDpd=50)
    assert empty == {"items": [], "page": 1, "pageSize": 50, "total": 0}


async def test_delinquency_search_by_product_status_and_paging(bank_sync, token_for, portfolio):
    p, headers = portfolio, token_for(Role.SYSTEM)
    cif = p.an["cif"]
    cards = await delinquent(bank_sync, headers, cif=cif, productType="CREDIT_CARD")
    assert [loan["accountNumber"] for loan in cards["items"]] == [p.secured_account]
    defaults = await delinquent(bank_sync, headers, cif=cif, delinquencyStatus="DEFAULT")
    assert [loan["dpd"] for loan in defaults["items"]] == [400, 181, 180, 91]
    combined = await delinquent(
        bank_sync, headers, cif=cif, delinquencyStatus="DEFAULT", productType="AUTO", bucket="B5"
    )
    assert [loan["accountNumber"] for loan in combined["items"]] == [p.accounts[181]]
    assert (await delinquent(bank_sync, headers, cif=cif, productType="MORTGAGE"))["total"] == 0

    pages = [await delinquent(bank_sync, headers, cif=cif, page=n, pageSize=4) for n in (1, 2, 3, 4)]
    assert [[loan["dpd"] for loan in page["items"]] for page in pages] == [
        [400, 181, 180, 91],
        [90, 61, 60, 31],
        [30, 1],
        [],
    ]
    assert {page["total"] for page in pages} == {10}

    anyone = await delinquent(bank_sync, headers, bucket="B3", pageSize=500)
    assert anyone["items"], "other customers' loans are found without the cif filter"
    assert all(61 <= loan["dpd"] <= 90 and loan["status"] == "OPEN" for loan in anyone["items"])
    order = [(-loan["dpd"], loan["accountNumber"]) for loan in anyone["items"]]
    assert order == sorted(order)


async def test_bad_delinquency_parameters_are_422_naming_the_field(bank_sync, token_for):
    headers = token_for(Role.AGENT)
    for params, field in (
        ({"minDpd": 10, "maxDpd": 5}, "minDpd"),
        ({"minDpd": -1}, "minDpd"),
        ({"maxDpd": "many"}, "maxDpd"),
        ({"bucket": "B9"}, "bucket"),
        ({"productType": "BOAT"}, "productType"),
        ({"delinquencyStatus": "LATE"}, "delinquencyStatus"),
        ({"pageSize": 1000}, "pageSize"),
    ):
        body = problem(await bank_sync.get("/api/loans/delinquent", params=params, headers=headers), 422)
        assert [e["field"] for e in body["errors"]] == [field], body
    bucket = problem(await bank_sync.get("/api/loans/delinquent?bucket=B9", headers=headers), 422)
    assert "B5" in bucket["errors"][0]["message"], "the message lists the buckets"


# Access


async def test_every_read_route_needs_a_reading_role(bank_sync, token_for, portfolio):
    p = portfolio
    paths = [
        f"/api/customers?q={p.an['cif']}",
        f"/api/customers/{p.an['cif']}",
        f"/api/customers/{p.an['cif']}/loans",
        f"/api/customers/{p.an['cif']}/collaterals",
        f"/api/loans/{p.secured_account}",
        f"/api/loans/delinquent?cif={p.an['cif']}",
    ]
    for path in paths:
        assert (await bank_sync.get(path)).status_code == 401, path
        assert (await bank_sync.get(path, headers=token_for(Role.PAYMENT_PROCESSOR))).status_code == 403, path
        for role in (Role.SYSTEM, Role.AGENT, Role.SUPERVISOR, Role.ADMIN):
            assert (await bank_sync.get(path, headers=token_for(role))).status_code == 200, (path, role)


async def test_routes_are_documented(bank_sync):
    spec_ = ok(await bank_sync.get("/api/bank-sync/openapi.json"))
    for path in (
        "/api/customers",
        "/api/customers/{cif}",
        "/api/customers/{cif}/loans",
        "/api/customers/{cif}/collaterals",
        "/api/loans/{accountNumber}",
        "/api/loans/delinquent",
    ):
        operation = spec_["paths"][path]["get"]
        assert operation["description"].split("\n")[0].strip(), path
        assert "AGENT" in operation["x-access"] and "SYSTEM" in operation["x-access"], path


# lastSyncedAt and stale, on a database of its own (the snapshot state is per source system)


async def test_last_synced_at_follows_the_snapshot_unless_the_record_went_missing(
    private_api, token_for, unique
):
    p = await add_portfolio(private_api.app, unique)
    snapshot = SYNCED_AT + timedelta(days=1)
    missing_since = SYNCED_AT + timedelta(hours=12)
    async with private_api.app.state.db.transaction() as session:
        for entity in ("customers", "phones", "loans", "collaterals"):
            state = {"source_system": "T24", "entity_type": entity, "last_snapshot_at": snapshot}
            await session.execute(insert(SyncEntityState).values(**state))
        gone = update(Loan).where(Loan.account_number == p.accounts[31]).values(missing_since=missing_since)
        await session.execute(gone)
        later = snapshot + timedelta(hours=1)
        await session.execute(
            update(Customer).where(Customer.cif == p.anh["cif"]).values(last_synced_at=later)
        )
    headers = token_for(Role.AGENT)

    def at(value: str) -> datetime:
        return datetime.fromisoformat(value)

    view = ok(await private_api.get(f"/api/customers/{p.an['cif']}", headers=headers))
    assert at(view["lastSyncedAt"]) == snapshot and view["stale"] is False, (
        "unchanged rows were seen by the snapshot"
    )
    assert at(view["phones"][0]["lastSyncedAt"]) == snapshot
    assert at(view["addresses"][0]["lastSyncedAt"]) == SYNCED_AT, "no addresses snapshot: the row's own time"
    found = ok(await private_api.get("/api/customers", params={"segment": p.segment}, headers=headers))
    assert {c["cif"]: at(c["lastSyncedAt"]) for c in found["items"]}[p.anh["cif"]] == snapshot + timedelta(
        hours=1
    )

    stale = ok(await private_api.get(f"/api/loans/{p.accounts[31]}", headers=headers))
    assert stale["stale"] is True and at(stale["lastSyncedAt"]) == SYNCED_AT, (
        "a missing record keeps its own time"
    )
    fresh = ok(await private_api.get(f"/api/loans/{p.accounts[60]}", headers=headers))
    assert fresh["stale"] is False and at(fresh["lastSyncedAt"]) == snapshot
    assert at(fresh["collaterals"][0]["lastSyncedAt"]) == snapshot
    assert at(fresh["dueSegmentations"][0]["lastSyncedAt"]) == SYNCED_AT
    listed = ok(await private_api.get(f"/api/customers/{p.an['cif']}/loans", headers=headers))
    assert {loan["accountNumber"]: loan["stale"] for loan in listed["items"]}[p.accounts[31]] is True
    searched = await delinquent(private_api, headers, bucket="B2")
    assert {loan["accountNumber"]: loan["stale"] for loan in searched["items"]} == {
        p.accounts[31]: True,
        p.accounts[60]: False,
    }


# Rules without a database


def test_delinquency_criteria_intersect_bucket_and_range():
    def span(**filters: Any) -> tuple[int, int | None] | None:
        criteria = delinquency_criteria(**filters)
        return None if criteria is None else (criteria.min_dpd, criteria.max_dpd)

    assert span() == (1, None)
    assert span(min_dpd=0) == (1, None), "delinquent means dpd > 0"
    assert span(bucket=DpdBucket.B2) == (31, 60)
    assert span(bucket=DpdBucket.B2, min_dpd=40, max_dpd=100) == (40, 60)
    assert span(bucket=DpdBucket.B5, max_dpd=200) == (181, 200)
    assert span(bucket=DpdBucket.B1, min_dpd=31) is None
    assert span(bucket=DpdBucket.CURRENT) is None
    assert span(min_dpd=5, max_dpd=5) == (5, 5)
    with pytest.raises(BusinessRuleViolation) as refused:
        span(min_dpd=6, max_dpd=5)
    assert refused.value.errors == [
        {
            "field": "minDpd",
            "message": "must not be greater than maxDpd (5)",
            "code": "search.min_above_max",
            "params": {"minDpd": 6, "maxDpd": 5},
        }
    ]
    full = delinquency_criteria(
        product_type=ProductType.AUTO, delinquency_status=DelinquencyStatus.DEFAULT, cif="C1"
    )
    assert full is not None and (full.product_type, full.delinquency_status, full.cif) == (
        "AUTO",
        "DEFAULT",
        "C1",
    )


def test_phone_candidates():
    assert set(phone_candidates("0912345678", international=False)) == {"0912345678", "+84912345678"}
    assert set(phone_candidates("84912345678", international=True)) == {
        "84912345678",
        "+84912345678",
        "0912345678",
    }
    assert set(phone_candidates("84912345678", international=False)) == {
        "84912345678",
        "+84912345678",
        "0912345678",
    }
    assert set(phone_candidates("0084912345678", international=False)) >= {"+84912345678", "0912345678"}
    assert set(phone_candidates("912345678", international=False)) == {
        "912345678",
        "+84912345678",
        "0912345678",
    }
    assert set(phone_candidates("6591234567", international=True)) == {"6591234567", "+6591234567"}


def test_the_search_box_is_read_by_what_it_holds():
    email = search_criteria(" An.Nguyen@Example.com ", segment=None, status=None)
    assert email.email == "An.Nguyen@Example.com" and not (email.cifs or email.name or email.phone_numbers)

    phone = search_criteria("0912 345.678", segment="RETAIL", status=CustomerStatus.ACTIVE)
    assert "+84912345678" in phone.phone_numbers and phone.national_ids == ("0912 345.678", "0912345678")
    assert phone.cif_prefixes == ("0912345678",) and phone.name is None
    assert (phone.segment, phone.status) == ("RETAIL", "ACTIVE")

    name = search_criteria("nguyễn  văn an", segment=None, status=None)
    assert name.name == "nguyễn văn an" and not name.phone_numbers and not name.cif_prefixes

    cif = search_criteria("cif001", segment=None, status=None)
    assert (
        cif.cifs == ("cif001", "CIF001") and cif.cif_prefixes == ("cif001", "CIF001") and cif.name == "cif001"
    )

    short = search_criteria("An", segment=None, status=None)
    assert short.name is None and short.cif_prefixes == () and short.cifs == ("An", "AN")
    assert search_criteria("   ", segment=None, status=None) == search_criteria(
        None, segment=None, status=None
    )


def test_effective_last_synced_at():
    own, later = SYNCED_AT, SYNCED_AT + timedelta(days=1)
    assert effective_last_synced_at(own, None, later) == later
    assert effective_last_synced_at(later, None, own) == later
    assert effective_last_synced_at(own, later, later + timedelta(days=1)) == own, (
        "missing: its own time stands"
    )
    assert effective_last_synced_at(own, None, None) == own
    assert effective_last_synced_at(None, None, later) == later
