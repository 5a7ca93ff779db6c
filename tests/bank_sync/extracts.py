"""Writing small extract deliveries (docs/extracts.md) for tests."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from datetime import date
from pathlib import Path

CUSTOMER_HEADER = ["cif", "type", "name", "segment", "status", "nationalId", "gender"]
LOAN_HEADER = [
    "accountNumber",
    "cif",
    "productType",
    "originalAmount",
    "currency",
    "disbursementDate",
    "maturityDate",
    "interestRate",
    "term",
    "paymentFrequency",
    "outstanding",
    "remainingAmount",
    "dueAmount",
    "dpd",
    "delinquencyStatus",
    "status",
]
PHONE_HEADER = ["cif", "type", "number", "isPrimary", "isVerified"]


def customer(cif: str, name: str = "Nguyễn Văn An", segment: str = "RETAIL", **kw: str) -> list[str]:
    row = {
        "cif": cif,
        "type": "INDIVIDUAL",
        "name": name,
        "segment": segment,
        "status": "ACTIVE",
        "nationalId": "",
        "gender": "MALE",
        **kw,
    }
    return [row[h] for h in CUSTOMER_HEADER]


def loan(account: str, cif: str, dpd: int = 0, outstanding: str = "50000000.00", **kw: str) -> list[str]:
    row = {
        "accountNumber": account,
        "cif": cif,
        "productType": "PERSONAL",
        "originalAmount": "100000000.00",
        "currency": "VND",
        "disbursementDate": "2025-01-10",
        "maturityDate": "2028-01-10",
        "interestRate": "12.5",
        "term": "36",
        "paymentFrequency": "MONTHLY",
        "outstanding": outstanding,
        "remainingAmount": "45000000.00",
        "dueAmount": "5000000.00",
        "dpd": str(dpd),
        "delinquencyStatus": "DELINQUENT" if dpd else "CURRENT",
        "status": "OPEN",
        **kw,
    }
    return [row[h] for h in LOAN_HEADER]


def write_delivery(
    inbox: Path,
    source: str,
    day: date,
    files: dict[str, tuple[list[str], list[list[str]]]],
    *,
    gz: bool = False,
    bom: bool = False,
    manifest_rows: dict[str, int] | None = None,
) -> Path:
    folder = inbox / source / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    listed = {}
    for stem, (header, rows) in files.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        data = (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode()
        name = f"{stem}.csv.gz" if gz else f"{stem}.csv"
        if gz:
            data = gzip.compress(data, mtime=0)
        (folder / name).write_bytes(data)
        listed[name] = {
            "rows": (manifest_rows or {}).get(stem, len(rows)),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    (folder / "manifest.json").write_text(
        json.dumps({"sourceSystem": source, "businessDate": day.isoformat(), "files": listed})
    )
    return folder
