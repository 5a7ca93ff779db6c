"""The extract generator (crm generate): headers, manifest, determinism, integrity, change set, bad rows.

Pure tests, no database. The validator below re-states the extract rules of docs/extracts.md /
docs/data-model.md independently of the generator, as the sync pipeline applies them to a first load: a
row is rejected for a missing required value, a bad date or number, an unknown enum value, a duplicate
key (the later line), or a parent that was not loaded.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import tracemalloc
from collections import Counter
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from crm.bank_sync.generator import core, generate, share_of
from crm.bank_sync.generator.cli import generate_command, parse_share

DAY = date(2026, 11, 28)
SEED = 7
CUSTOMERS = 2500  # T24 1,625 (two chunks) and W4 875
SOURCES = ("T24", "W4")

HEADERS = {
    "customers.csv": "cif,type,name,dateOfBirth,nationalId,gender,companyName,registrationNumber,taxId,"
    "segment,status",
    "phones.csv": "cif,type,number,isPrimary,isVerified,verificationDate",
    "addresses.csv": "cif,type,addressLine1,addressLine2,city,district,state,country,isPrimary,isVerified,"
    "verificationDate",
    "emails.csv": "cif,address,isPrimary,isVerified,verificationDate",
    "loans.csv": "accountNumber,cif,productType,originalAmount,currency,disbursementDate,maturityDate,"
    "interestRate,term,paymentFrequency,limitAmount,outstanding,remainingAmount,dueAmount,minPay,"
    "nextPaymentDate,dpd,delinquencyStatus,status,closeDate,resolutionCode,resolutionNotes",
    "collaterals.csv": "collateralNumber,cif,type,description,value,valuationDate,make,model,year,vin,"
    "licensePlate,propertyType,address,size,titleNumber",
    "loan_collaterals.csv": "loanAccountNumber,collateralNumber",
    "due_segmentations.csv": "loanAccountNumber,dueDate,principalAmount,interestAmount,feesAmount,"
    "penaltyAmount",
    "reference_customers.csv": "refCif,primaryCif,relationshipType,type,name,dateOfBirth,nationalId,gender,"
    "companyName,registrationNumber,taxId",
    "payments.csv": "referenceNumber,loanAccountNumber,cif,amount,currency,paymentDate,paymentChannel,status,"
    "statusReason",
}
KEYS = {
    "customers.csv": ("cif",),
    "phones.csv": ("cif", "type", "number"),
    "addresses.csv": ("cif", "type"),
    "emails.csv": ("cif", "address"),
    "loans.csv": ("accountNumber",),
    "collaterals.csv": ("collateralNumber",),
    "loan_collaterals.csv": ("loanAccountNumber", "collateralNumber"),
    "due_segmentations.csv": ("loanAccountNumber", "dueDate"),
    "reference_customers.csv": ("primaryCif", "refCif"),
    "payments.csv": ("referenceNumber",),
}
CUSTOMER_TYPES = ("INDIVIDUAL", "ORGANIZATION")
GENDERS = ("MALE", "FEMALE", "OTHER")
RELATIONSHIPS = (
    "GUARANTOR",
    "SPOUSE",
    "FAMILY_MEMBER",
    "BUSINESS_PARTNER",
    "EMPLOYER",
    "EMPLOYEE",
    "FRIEND",
    "COLLEAGUE",
    "LEGAL_REPRESENTATIVE",
    "EMERGENCY_CONTACT",
    "OTHER",
)
PRODUCTS = (
    "MORTGAGE",
    "AUTO",
    "SECURED_PERSONAL",
    "PERSONAL",
    "EDUCATION",
    "BUSINESS",
    "CREDIT_CARD",
    "OVERDRAFT",
    "LINE_OF_CREDIT",
    "REFINANCE",
    "CONSOLIDATION",
    "OTHER",
)
FLAGS = {"isPrimary": "bool", "isVerified": "bool", "verificationDate": "date"}
# Per file: column -> kind ("date", "datetime", "int", "money", "rate", "size", "bool", or enum values),
# and the columns that are required (natural key included).
COLUMNS: dict[str, dict[str, str | tuple[str, ...]]] = {
    "customers.csv": {
        "type": CUSTOMER_TYPES,
        "dateOfBirth": "date",
        "gender": GENDERS,
        "status": ("ACTIVE", "INACTIVE"),
    },
    "phones.csv": {"type": ("MOBILE", "HOME", "WORK", "EMERGENCY", "FAX", "OTHER"), **FLAGS},
    "addresses.csv": {
        "type": ("HOME", "WORK", "BILLING", "MAILING", "PROPERTY", "TEMPORARY", "OTHER"),
        **FLAGS,
    },
    "emails.csv": dict(FLAGS),
    "loans.csv": {
        "productType": PRODUCTS,
        "originalAmount": "money",
        "disbursementDate": "date",
        "maturityDate": "date",
        "interestRate": "rate",
        "term": "int",
        "limitAmount": "money",
        "outstanding": "money",
        "remainingAmount": "money",
        "dueAmount": "money",
        "minPay": "money",
        "nextPaymentDate": "date",
        "dpd": "int",
        "delinquencyStatus": ("CURRENT", "DELINQUENT", "DEFAULT"),
        "status": ("OPEN", "CLOSED"),
        "closeDate": "date",
    },
    "collaterals.csv": {
        "type": ("REAL_ESTATE", "VEHICLE", "DEPOSIT", "EQUIPMENT", "OTHER"),
        "value": "money",
        "valuationDate": "date",
        "year": "int",
        "size": "size",
    },
    "loan_collaterals.csv": {},
    "due_segmentations.csv": {
        "dueDate": "date",
        "principalAmount": "money",
        "interestAmount": "money",
        "feesAmount": "money",
        "penaltyAmount": "money",
    },
    "reference_customers.csv": {
        "relationshipType": RELATIONSHIPS,
        "type": CUSTOMER_TYPES,
        "dateOfBirth": "date",
        "gender": GENDERS,
    },
    "payments.csv": {
        "amount": "money",
        "paymentDate": "datetime",
        "paymentChannel": ("BANK_TRANSFER", "CASH", "CARD", "ONLINE", "AUTO_DEBIT", "MOBILE_APP", "OTHER"),
        "status": ("PENDING", "COMPLETED", "FAILED", "REVERSED"),
    },
}
REQUIRED = {
    "customers.csv": ("cif", "type", "name", "segment", "status"),
    "phones.csv": ("cif", "type", "number", "isPrimary", "isVerified"),
    "addresses.csv": ("cif", "type", "addressLine1", "city", "country", "isPrimary", "isVerified"),
    "emails.csv": ("cif", "address", "isPrimary", "isVerified"),
    "loans.csv": tuple(
        c
        for c in HEADERS["loans.csv"].split(",")
        if c
        not in ("limitAmount", "minPay", "nextPaymentDate", "closeDate", "resolutionCode", "resolutionNotes")
    ),
    "collaterals.csv": ("collateralNumber", "cif", "type", "description", "value"),
    "loan_collaterals.csv": ("loanAccountNumber", "collateralNumber"),
    "due_segmentations.csv": tuple(HEADERS["due_segmentations.csv"].split(",")),
    "reference_customers.csv": ("primaryCif", "refCif", "relationshipType", "type", "name"),
    "payments.csv": (
        "referenceNumber",
        "loanAccountNumber",
        "cif",
        "amount",
        "currency",
        "paymentDate",
        "status",
    ),
}
# (columns, parent file, parent columns), checked in this load order against the parent's loaded rows.
PARENTS = {
    "phones.csv": [(("cif",), "customers.csv", ("cif",))],
    "addresses.csv": [(("cif",), "customers.csv", ("cif",))],
    "emails.csv": [(("cif",), "customers.csv", ("cif",))],
    "reference_customers.csv": [(("primaryCif",), "customers.csv", ("cif",))],
    "loans.csv": [(("cif",), "customers.csv", ("cif",))],
    "collaterals.csv": [(("cif",), "customers.csv", ("cif",))],
    "loan_collaterals.csv": [
        (("loanAccountNumber",), "loans.csv", ("accountNumber",)),
        (("collateralNumber",), "collaterals.csv", ("collateralNumber",)),
    ],
    "due_segmentations.csv": [(("loanAccountNumber",), "loans.csv", ("accountNumber",))],
    "payments.csv": [(("loanAccountNumber", "cif"), "loans.csv", ("accountNumber", "cif"))],
}
LOAD_ORDER = tuple(HEADERS)
MONEY = re.compile(r"^\d+\.\d{2}$")
E164_VN = re.compile(r"^\+84[1-9]\d{8,9}$")
VN_MOBILE = re.compile(r"^\+84(3[2-9]|5[689]|7[06-9]|8[1-9]|9[0-46-9])\d{7}$")


Row = dict[str, str]


def read(path: Path) -> tuple[list[str], list[tuple[int, Row]]]:
    """Header and (line number, row) pairs; line 1 is the header."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [
            (n, dict(zip(header, values, strict=True))) for n, values in enumerate(reader, start=2)
        ]


def folder(root: Path, source: str) -> Path:
    return root / source / DAY.isoformat()


def key_of(name: str, row: Row) -> tuple[str, ...]:
    return tuple(row[c] for c in KEYS[name])


def _problem(kind: str | tuple[str, ...], value: str) -> str | None:
    if isinstance(kind, tuple):
        return None if value in kind else "unknown_enum"
    if kind == "date":
        ok = re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
        try:
            date.fromisoformat(value)
        except ValueError:
            ok = False
        return None if ok else "bad_date"
    if kind == "datetime":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return "bad_date"
        return None
    if kind == "int":
        return None if re.fullmatch(r"-?\d+", value) else "bad_number"
    if kind == "bool":
        return None if value.lower() in ("true", "false", "1", "0", "y", "n", "yes", "no") else "bad_boolean"
    try:
        number = Decimal(value)
    except InvalidOperation:
        return "bad_number"
    return None if number.is_finite() else "bad_number"


def validate(root: Path, source: str) -> dict[str, dict[int, str]]:
    """The lines a first load of the set would reject, per file, with the kind of problem."""
    files: dict[str, list[tuple[int, Row]]] = {}
    rejects: dict[str, dict[int, str]] = {}
    for name in LOAD_ORDER:
        rows = files[name] = read(folder(root, source) / name)[1]
        bad: dict[int, str] = {}
        for line, row in rows:
            for column in HEADERS[name].split(","):
                value = row[column].strip()
                if not value:
                    if column in REQUIRED[name]:
                        bad[line] = "missing_key" if column in KEYS[name] else "missing_value"
                        break
                    continue
                kind = COLUMNS[name].get(column)
                problem = _problem(kind, value) if kind else None
                if problem:
                    bad[line] = problem
                    break
        first: dict[tuple[str, ...], int] = {}
        for line, row in rows:
            if line in bad:
                continue
            key = key_of(name, row)
            if key in first:
                bad[line] = "duplicate_key"
            else:
                first[key] = line
        for columns, parent, parent_columns in PARENTS.get(name, []):
            loaded = {
                tuple(r[c] for c in parent_columns)
                for line, r in files[parent]
                if line not in rejects[parent]
            }
            for line, row in rows:
                if line not in bad and tuple(row[c] for c in columns) not in loaded:
                    bad[line] = "unknown_reference"
        rejects[name] = bad
    return rejects


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("base")
    generate(root, CUSTOMERS, DAY, seed=SEED)
    return root


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("changed")
    generate(root, CUSTOMERS, DAY, seed=SEED, changed=0.05)
    return root


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad")
    generate(root, CUSTOMERS, DAY, seed=SEED, bad=0.02)
    return root


def test_every_file_has_the_data_model_header(base: Path) -> None:
    for source in SOURCES:
        names = sorted(p.name for p in folder(base, source).iterdir())
        assert names == sorted([*HEADERS, "manifest.json"])
        for name, header in HEADERS.items():
            raw = (folder(base, source) / name).read_bytes()
            assert raw.split(b"\r\n", 1)[0].decode() == header
            assert not raw.startswith(b"\xef\xbb\xbf")


def test_manifest_counts_and_checksums_match_the_files(base: Path, broken: Path) -> None:
    for root in (base, broken):
        for source in SOURCES:
            manifest = json.loads((folder(root, source) / "manifest.json").read_text(encoding="utf-8"))
            assert manifest["sourceSystem"] == source
            assert manifest["businessDate"] == DAY.isoformat()
            assert set(manifest["files"]) == set(HEADERS)  # bad_rows.json is not part of the delivery
            for name, promise in manifest["files"].items():
                raw = (folder(root, source) / name).read_bytes()
                assert promise["sha256"] == hashlib.sha256(raw).hexdigest()
                assert promise["rows"] == len(read(folder(root, source) / name)[1])
                assert promise["rows"] == raw.count(b"\r\n") - 1  # no line breaks inside fields


def test_split_between_sources_and_keys_unique_across_them(base: Path) -> None:
    customers = {s: [r for _, r in read(folder(base, s) / "customers.csv")[1]] for s in SOURCES}
    assert len(customers["T24"]) == 1625 and len(customers["W4"]) == 875
    for name, column in (
        ("customers.csv", "cif"),
        ("loans.csv", "accountNumber"),
        ("collaterals.csv", "collateralNumber"),
        ("payments.csv", "referenceNumber"),
    ):
        values = [r[column] for s in SOURCES for _, r in read(folder(base, s) / name)[1]]
        assert len(values) == len(set(values)), name
    loans = sum(len(read(folder(base, s) / "loans.csv")[1]) for s in SOURCES)
    assert 1.3 < loans / CUSTOMERS < 1.7
    w4 = Counter(r["productType"] for _, r in read(folder(base, "W4") / "loans.csv")[1])
    assert (
        set(w4) == {"CREDIT_CARD", "OVERDRAFT", "LINE_OF_CREDIT"} and w4.most_common(1)[0][0] == "CREDIT_CARD"
    )
    t24 = Counter(r["productType"] for _, r in read(folder(base, "T24") / "loans.csv")[1])
    assert {"MORTGAGE", "AUTO", "SECURED_PERSONAL", "PERSONAL", "EDUCATION", "BUSINESS"} <= set(t24)
    assert not {"CREDIT_CARD", "OVERDRAFT", "LINE_OF_CREDIT"} & set(t24)


def test_same_arguments_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    runs = [(tmp_path / "a", 1), (tmp_path / "b", 1), (tmp_path / "c", 2)]
    for root, workers in runs:
        generate(root, 1500, DAY, seed=3, changed=0.05, bad=0.01, workers=workers)
    first = {p.relative_to(runs[0][0]): p.read_bytes() for p in runs[0][0].rglob("*") if p.is_file()}
    assert len(first) == 2 * (len(HEADERS) + 2)
    for root, _ in runs[1:]:
        assert {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()} == first
    generate(tmp_path / "d", 1500, DAY, seed=4)
    assert (tmp_path / "d/T24/2026-11-28/customers.csv").read_bytes() != (
        tmp_path / "a/T24/2026-11-28/customers.csv"
    ).read_bytes()


def test_the_base_does_not_depend_on_the_business_date(base: Path, tmp_path: Path) -> None:
    other = date(2026, 11, 29)
    generate(tmp_path, CUSTOMERS, other, seed=SEED)
    for source in SOURCES:
        for name in HEADERS:
            same = (tmp_path / source / other.isoformat() / name).read_bytes() == (
                folder(base, source) / name
            ).read_bytes()
            assert same == (name != "payments.csv"), name  # payments are that day's payments
    payments = read(tmp_path / "T24" / other.isoformat() / "payments.csv")[1]
    assert payments and all(r["paymentDate"].startswith("2026-11-29T") for _, r in payments)
    assert all(r["paymentDate"].endswith("+07:00") for _, r in payments)


def test_a_source_alone_gets_all_customers_and_the_same_first_ones(base: Path, tmp_path: Path) -> None:
    generate(tmp_path, 2000, DAY, seed=SEED, sources=("T24",))
    assert not (tmp_path / "W4").exists()
    for name in ("customers.csv", "loans.csv", "phones.csv", "reference_customers.csv"):
        alone = (tmp_path / "T24" / DAY.isoformat() / name).read_bytes()
        assert alone.startswith((folder(base, "T24") / name).read_bytes()), name
    assert len(read(tmp_path / "T24" / DAY.isoformat() / "customers.csv")[1]) == 2000


def test_a_set_is_referentially_consistent_and_every_row_loads(base: Path) -> None:
    for source in SOURCES:
        assert validate(base, source) == {name: {} for name in HEADERS}
        rows = {name: [r for _, r in read(folder(base, source) / name)[1]] for name in HEADERS}
        cifs = {r["cif"] for r in rows["customers.csv"]}
        assert all(c.startswith(f"{source}C") for c in cifs)
        loans = {r["accountNumber"]: r for r in rows["loans.csv"]}
        collaterals = {r["collateralNumber"]: r for r in rows["collaterals.csv"]}
        for link in rows["loan_collaterals.csv"]:  # a loan is secured by its own customer's collateral
            assert loans[link["loanAccountNumber"]]["cif"] == collaterals[link["collateralNumber"]]["cif"]
        customer_refs = 0
        for ref in rows["reference_customers.csv"]:
            assert ref["refCif"] != ref["primaryCif"]
            if ref["refCif"] in cifs:
                customer_refs += 1
            else:  # a reference-only person: never a customer, never anyone's phone owner
                assert ref["refCif"].startswith(f"{source}R")
        assert customer_refs > 0
        assert {r["cif"] for r in rows["phones.csv"]} <= cifs
        for payment in rows["payments.csv"]:
            loan = loans[payment["loanAccountNumber"]]
            assert loan["cif"] == payment["cif"] and int(loan["dpd"]) > 0 and loan["status"] == "OPEN"


def test_loans_are_consistent(base: Path) -> None:
    for source in SOURCES:
        loans = [r for _, r in read(folder(base, source) / "loans.csv")[1]]
        dues = Counter[str]()
        for _, r in read(folder(base, source) / "due_segmentations.csv")[1]:
            parts = ("principalAmount", "interestAmount", "feesAmount", "penaltyAmount")
            assert all(MONEY.match(r[c]) for c in parts)
            dues[r["loanAccountNumber"]] += sum(int(r[c][:-3]) for c in parts)
        for loan in loans:
            for column in ("originalAmount", "outstanding", "remainingAmount", "dueAmount"):
                assert MONEY.match(loan[column]), loan
            assert 10_000_000 <= int(loan["originalAmount"][:-3]) <= 5_000_000_000
            assert re.fullmatch(r"\d{1,2}\.\d{1,4}", loan["interestRate"])
            assert loan["disbursementDate"] < loan["maturityDate"]
            dpd = int(loan["dpd"])
            assert loan["delinquencyStatus"] == (
                "CURRENT" if dpd == 0 else "DELINQUENT" if dpd <= 90 else "DEFAULT"
            )
            outstanding, remaining, due = (
                int(loan[c][:-3]) for c in ("outstanding", "remainingAmount", "dueAmount")
            )
            assert remaining == outstanding - due and remaining >= 0
            if loan["status"] == "CLOSED":
                assert outstanding == 0 and dpd == 0 and loan["closeDate"] and loan["resolutionCode"]
                continue
            assert due == dues[loan["accountNumber"]]  # the due rows split exactly what is due
            assert loan["nextPaymentDate"] > core.DEFAULT_AS_OF.isoformat()
            card = loan["productType"] == "CREDIT_CARD"
            assert bool(loan["minPay"]) == card and bool(loan["limitAmount"]) == (source == "W4")


def test_dpd_spreads_over_every_bucket(base: Path) -> None:
    def bucket(dpd: int) -> str:
        for name, upper in (("CURRENT", 0), ("B1", 30), ("B2", 60), ("B3", 90), ("B4", 180)):
            if dpd <= upper:
                return name
        return "B5"

    for source in SOURCES:
        buckets = Counter(bucket(int(r["dpd"])) for _, r in read(folder(base, source) / "loans.csv")[1])
        assert set(buckets) == {"CURRENT", "B1", "B2", "B3", "B4", "B5"}, buckets
        assert buckets["CURRENT"] < sum(buckets.values()) * 0.75


def test_people_places_and_contacts_look_vietnamese(base: Path) -> None:
    customers = [r for s in SOURCES for _, r in read(folder(base, s) / "customers.csv")[1]]
    people = [r for r in customers if r["type"] == "INDIVIDUAL"]
    families = Counter(r["name"].split()[0] for r in people)
    assert families.most_common(1)[0][0] == "Nguyễn" and len(families) >= 15
    assert {"Trần", "Lê", "Phạm", "Đặng", "Đỗ"} <= set(families)
    assert sum(any(ord(ch) > 127 for ch in r["name"]) for r in people) > len(people) * 0.8
    assert all(re.fullmatch(r"\d{12}", r["nationalId"]) for r in people)
    assert all(r["gender"] in GENDERS and r["dateOfBirth"] for r in people)
    companies = [r for r in customers if r["type"] == "ORGANIZATION"]
    assert companies and all(
        r["companyName"] == r["name"] and r["taxId"] and r["registrationNumber"] for r in companies
    )
    assert any(r["companyName"].startswith("Công ty TNHH") for r in companies)
    phones = [r for s in SOURCES for _, r in read(folder(base, s) / "phones.csv")[1]]
    assert all(E164_VN.match(r["number"]) for r in phones)
    assert all(VN_MOBILE.match(r["number"]) for r in phones if r["type"] in ("MOBILE", "EMERGENCY"))
    per_customer = Counter(r["cif"] for r in phones)
    assert set(per_customer.values()) == {1, 2, 3} and len(per_customer) == CUSTOMERS
    addresses = [r for s in SOURCES for _, r in read(folder(base, s) / "addresses.csv")[1]]
    assert all(r["country"] == "VN" and r["district"] for r in addresses)
    cities = Counter(r["city"] for r in addresses)
    assert {"Hà Nội", "TP. Hồ Chí Minh", "Đà Nẵng", "Hải Phòng", "Cần Thơ"} <= set(cities)
    emails = [r["address"] for s in SOURCES for _, r in read(folder(base, s) / "emails.csv")[1]]
    assert all(e.isascii() and re.fullmatch(r"[a-z0-9.]+@[a-z0-9.]+\.[a-z]+", e) for e in emails)


def test_changed_set_differs_from_the_base_in_exactly_the_announced_rows(base: Path, changed: Path) -> None:
    for source in SOURCES:
        assert validate(changed, source) == {name: {} for name in HEADERS}
        for name in HEADERS:
            before = {key_of(name, r): r for _, r in read(folder(base, source) / name)[1]}
            after = {key_of(name, r): r for _, r in read(folder(changed, source) / name)[1]}
            assert before.keys() == after.keys(), name
            differing = sum(before[k] != after[k] for k in before)
            expected = 0 if name == "loan_collaterals.csv" else share_of(len(before), 0.05)
            assert differing == expected, (source, name)
            assert expected > 0 or name == "loan_collaterals.csv" or len(before) < 10
        for _, loan in read(folder(changed, source) / "loans.csv")[1]:
            dpd = int(loan["dpd"])
            assert loan["delinquencyStatus"] == (
                "CURRENT" if dpd == 0 else "DELINQUENT" if dpd <= 90 else "DEFAULT"
            )
            outstanding, remaining, due = (
                int(loan[c][:-3]) for c in ("outstanding", "remainingAmount", "dueAmount")
            )
            assert remaining == outstanding - due


def test_bad_rows_are_listed_and_are_the_only_rejects(base: Path, broken: Path) -> None:
    kinds: Counter[str] = Counter()
    for source in SOURCES:
        listed = json.loads((folder(broken, source) / "bad_rows.json").read_text(encoding="utf-8"))
        assert set(listed) == set(HEADERS)
        expected = {name: {b["line"]: b["kind"] for b in listed[name]} for name in HEADERS}
        assert validate(broken, source) == expected
        for name, entries in listed.items():
            kinds.update(b["kind"] for b in entries)
            assert all(b["column"] for b in entries)
            assert len(entries) <= share_of(len(read(folder(base, source) / name)[1]), 0.02)
            # what is not bad is the base's row, unchanged: the set loads like the base minus the bad rows
            base_lines = set((folder(base, source) / name).read_text(encoding="utf-8").splitlines())
            lines = (folder(broken, source) / name).read_text(encoding="utf-8").splitlines()
            assert all(line in base_lines for n, line in enumerate(lines, start=1) if n not in expected[name])
        assert sum(len(e) for e in listed.values()) > 0
    assert set(kinds) == set(core.BAD_KINDS), kinds


def test_memory_stays_flat_as_the_set_grows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Memory is bounded by one chunk of customers; smaller chunks keep this test fast under tracemalloc.
    monkeypatch.setattr(core, "CHUNK", 100)
    core.calendar(core.DEFAULT_AS_OF)
    peaks = []
    for n in (500, 2000):
        tracemalloc.start()
        generate(tmp_path / str(n), n, DAY, changed=0.05)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] * 1.3, peaks


def test_shares_parse_from_percentages_or_fractions() -> None:
    assert parse_share("5%", "--changed") == pytest.approx(0.05)
    assert parse_share("0.1%", "--bad") == pytest.approx(0.001)
    assert parse_share("0.05", "--changed") == pytest.approx(0.05)
    assert parse_share("0", "--bad") == 0
    for text in ("5", "abc", "-1%", "150%", "nan"):
        with pytest.raises(typer.BadParameter):
            parse_share(text, "--changed")


def test_command_line(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(generate_command)
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "--customers",
            "300",
            "--out",
            str(tmp_path),
            "--date",
            "2026-11-28",
            "--changed",
            "5%",
            "--bad",
            "1%",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "rows/s" in ok.output
    assert (tmp_path / "T24/2026-11-28/bad_rows.json").exists()
    assert (tmp_path / "W4/2026-11-28/manifest.json").exists()
    for arguments, complaint in (
        (["--changed", "5"], "did you mean 5%"),
        (["--sources", "T24,FOO"], "unknown source"),
        (["--date", "28/11/2026"], "YYYY-MM-DD"),
        (["--customers", "0"], "at least 1"),
    ):
        defaults = {"--customers": "10", "--out": str(tmp_path / "x"), "--date": "2026-11-28"}
        given = dict(zip(arguments[::2], arguments[1::2], strict=True))
        argv = [part for option, value in {**defaults, **given}.items() for part in (option, value)]
        result = runner.invoke(app, argv)
        assert result.exit_code == 2, result.output
        assert complaint in result.output
