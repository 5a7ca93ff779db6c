"""Payment receipts: what a bank clerk checks on the PDF, the JSON twin, and who gets none."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from num2words import num2words
from pypdf import PdfReader

from crm.payments.receipts.router import wants_json
from crm.payments.receipts.service import amount_in_words, format_amount, verification_code
from crm.platform.auth import Role


def payment(ref: str, **overrides):
    body = {
        "referenceNumber": ref,
        "loanAccountNumber": f"LN-{ref}",
        "cif": f"CIF-{ref}",
        "amount": "1250000.00",
        "currency": "VND",
        "paymentDate": "2026-11-28T02:30:00Z",
        "paymentChannel": "BANK_TRANSFER",
    }
    return {**body, **overrides}


async def record(payments, token_for, body) -> None:
    response = await payments.post("/api/payments", json=body, headers=token_for(Role.PAYMENT_PROCESSOR))
    assert response.status_code == 201, response.text


def expected_code(settings, ref: str, amount: str, currency: str, paid_at_utc: str) -> str:
    """The code as documented, computed here from scratch rather than with the service's function."""
    key = hmac.new(
        settings.jwt_signing_key().encode(), b"crm.payments.receipt-verification-code.v1", hashlib.sha256
    ).digest()
    message = f"{ref}|{amount}|{currency}|{paid_at_utc}".encode()
    code = base64.b32encode(hmac.new(key, message, hashlib.sha256).digest()).decode()[:12]
    return f"{code[:4]}-{code[4:8]}-{code[8:12]}"


def pdf_text(content: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(content))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def embedded_fonts(reader: PdfReader) -> set[str]:
    """Base names of the page's fonts whose TrueType program is inside the file."""
    names = set()
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        for descendant in font.get("/DescendantFonts", []):
            descriptor = descendant.get_object()["/FontDescriptor"].get_object()
            if "/FontFile2" in descriptor:
                names.add(str(font["/BaseFont"]))
    return names


async def test_pdf_receipt_shows_what_a_clerk_checks(payments, token_for, unique):
    ref = unique("RCP")
    await record(payments, token_for, payment(ref))

    response = await payments.get(f"/api/payments/receipt/{ref}", headers=token_for(Role.AGENT))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'inline; filename="receipt-{ref}.pdf"'
    assert response.content.startswith(b"%PDF-")
    reader, text = pdf_text(response.content)
    assert len(reader.pages) == 1
    assert any("BeVietnamPro" in name for name in embedded_fonts(reader)), "the font travels with the file"
    code = expected_code(
        payments.app.state.settings, ref, "1250000.00", "VND", "2026-11-28T02:30:00.000000+00:00"
    )
    for shown in (
        "Collection CRM Bank",  # CRM_BANK_NAME's default
        "BIÊN LAI THANH TOÁN",
        ref,
        f"CIF-{ref}",
        f"LN-{ref}",
        "1.250.000 ₫",
        "Một triệu hai trăm năm mươi nghìn đồng",
        "28/11/2026 09:30:00 (GMT+07:00)",  # 02:30 UTC, printed in the business time zone
        "Chuyển khoản (BANK_TRANSFER)",
        "Thành công (COMPLETED)",
        code,
    ):
        assert shown in text, f"{shown!r} missing from:\n{text}"
    assert "REVERSED" not in text


async def test_json_receipt_carries_the_same_code(payments, token_for, unique):
    ref = unique("RCP")
    await record(payments, token_for, payment(ref, paymentChannel="CASH"))
    headers = token_for(Role.SUPERVISOR)

    pdf = await payments.get(f"/api/payments/receipt/{ref}", headers=headers)
    as_json = await payments.get(
        f"/api/payments/receipt/{ref}", headers={**headers, "Accept": "application/json"}
    )

    assert as_json.status_code == 200 and as_json.headers["content-type"] == "application/json"
    body = as_json.json()
    assert body["verificationCode"] in pdf_text(pdf.content)[1]
    assert body["verificationCode"] == expected_code(
        payments.app.state.settings, ref, "1250000.00", "VND", "2026-11-28T02:30:00.000000+00:00"
    )
    assert body["amount"] == "1250000.00" and body["currency"] == "VND"
    assert body["amountInFigures"] == "1.250.000 ₫"
    assert body["amountInWords"] == "Một triệu hai trăm năm mươi nghìn đồng"
    assert body["paymentDate"] == "2026-11-28T09:30:00+07:00"
    assert (body["paymentChannel"], body["status"]) == ("CASH", "COMPLETED")
    assert body["bankName"] == "Collection CRM Bank"
    assert as_json.headers["vary"] == "Accept" and as_json.headers["cache-control"] == "no-store"


async def test_reversed_payment_receipt_says_so(payments, token_for, unique):
    ref = unique("RCP")
    await record(payments, token_for, payment(ref, status="REVERSED", statusReason="Khách hàng khiếu nại"))

    response = await payments.get(f"/api/payments/receipt/{ref}", headers=token_for(Role.ADMIN))

    assert response.status_code == 200
    text = pdf_text(response.content)[1]
    assert "GIAO DỊCH ĐÃ BỊ HOÀN TRẢ - PAYMENT REVERSED" in text
    assert "Đã hoàn trả (REVERSED)" in text and "Khách hàng khiếu nại" in text


@pytest.mark.parametrize("status", ["PENDING", "FAILED"])
async def test_no_receipt_for_money_not_received(payments, token_for, unique, status):
    ref = unique("RCP")
    await record(payments, token_for, payment(ref, status=status))

    response = await payments.get(f"/api/payments/receipt/{ref}", headers=token_for(Role.AGENT))

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert f"is {status}" in response.json()["detail"]


async def test_unknown_reference_is_404(payments, token_for, unique):
    response = await payments.get(f"/api/payments/receipt/{unique('NONE')}", headers=token_for(Role.AGENT))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_receipts_need_a_reader(payments, token_for, unique):
    ref = unique("RCP")
    await record(payments, token_for, payment(ref))
    assert (await payments.get(f"/api/payments/receipt/{ref}")).status_code == 401
    forbidden = await payments.get(f"/api/payments/receipt/{ref}", headers=token_for(Role.PAYMENT_PROCESSOR))
    assert forbidden.status_code == 403


def test_code_binds_reference_amount_currency_and_date():
    paid_at = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)
    parts = {"reference_number": "PAY1", "amount": Decimal("1250000.00"), "currency": "VND"}
    code = verification_code(b"key", payment_date=paid_at, **parts)

    assert len(code) == 14 and code.count("-") == 2
    assert code == verification_code(b"key", payment_date=paid_at, **parts)
    assert code == verification_code(b"key", payment_date=paid_at.astimezone(), **parts), "any time zone"
    assert code != verification_code(b"key", payment_date=paid_at, **{**parts, "amount": Decimal("1250001")})
    assert code != verification_code(b"key", payment_date=paid_at, **{**parts, "currency": "USD"})
    assert code != verification_code(b"key", payment_date=paid_at.replace(minute=31), **parts)
    assert code != verification_code(b"other", payment_date=paid_at, **parts)


def test_amounts_in_figures_and_words():
    assert num2words(1250000, lang="vi") == "một triệu hai trăm năm mươi nghìn"
    assert format_amount(Decimal("1250000.00"), "VND") == "1.250.000 ₫"
    assert format_amount(Decimal("1250000.50"), "VND") == "1.250.000,50 ₫"
    assert format_amount(Decimal("1250.00"), "USD") == "1.250,00 USD"
    assert amount_in_words(Decimal("1250000.00"), "VND") == "Một triệu hai trăm năm mươi nghìn đồng"
    assert amount_in_words(Decimal("105000.00"), "VND") == "Một trăm lẻ năm nghìn đồng"
    assert amount_in_words(Decimal("12.05"), "USD") == "Mười hai phẩy không năm đô la Mỹ"


@pytest.mark.parametrize(
    ("accept", "json"),
    [
        (None, False),
        ("*/*", False),
        ("application/pdf", False),
        ("application/json", True),
        ("application/json, application/pdf;q=0.5", True),
        ("application/pdf, application/json", False),
        ("application/json;q=0.9, */*;q=0.1", True),
        ("text/html", False),
    ],
)
def test_pdf_unless_json_is_preferred(accept, json):
    assert wants_json(accept) is json
