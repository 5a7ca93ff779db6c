"""Receipts: which payments get one, what it says, and the verification code that vouches for it."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from num2words import num2words
from sqlalchemy.ext.asyncio import AsyncSession

from crm.payments.ledger import service as ledger
from crm.payments.ledger.models import Payment
from crm.payments.ledger.schemas import PaymentStatus
from crm.payments.receipts.pdf import Receipt
from crm.payments.settings import PaymentsSettings
from crm.platform.errors import BusinessRuleViolation, Conflict
from crm.platform.problems import declare

UNSPELLABLE = declare(
    "receipt.amount_unspellable", "An amount of {amount} cannot be spelled out on a receipt."
)
NO_RECEIPT = declare(
    "receipt.not_issued",
    "Payment {reference} is {status}: receipts are issued only for COMPLETED or REVERSED payments.",
)

RECEIPT_STATUSES = frozenset({PaymentStatus.COMPLETED, PaymentStatus.REVERSED})
"""Money that reached the bank. A REVERSED payment's receipt still shows the payment, marked reversed;
a PENDING or FAILED one has not been paid, and a receipt for it would mislead."""

CURRENCY_SYMBOLS = {"VND": "₫"}
CURRENCY_WORDS = {"VND": "đồng", "USD": "đô la Mỹ", "EUR": "euro"}
_KEY_CONTEXT = b"crm.payments.receipt-verification-code.v1"
_CODE_LENGTH = 12
_SPELLABLE_BELOW = 10**15
"""num2words' Vietnamese scale words are wrong from a million billion on (and it rounds through a
float past 2**53), so larger amounts are not spelled out rather than spelled wrong."""


def signing_key(settings: PaymentsSettings) -> bytes:
    """The key of verification codes: ``CRM_RECEIPT_SIGNING_KEY``, else derived from the JWT key.

    Derived with HMAC under a fixed context, so the JWT key itself never signs anything but tokens
    and a receipt code reveals nothing about it. Rotating the JWT key changes the codes of receipts
    already printed: set ``CRM_RECEIPT_SIGNING_KEY`` where old receipts must stay verifiable.
    """
    if settings.receipt_signing_key is not None:
        return settings.receipt_signing_key.get_secret_value().encode()
    return hmac.new(settings.jwt_signing_key().encode(), _KEY_CONTEXT, hashlib.sha256).digest()


def verification_code(
    key: bytes, *, reference_number: str, amount: Decimal, currency: str, payment_date: datetime
) -> str:
    """``ABCD-EFGH-IJKL``: the first 60 bits of HMAC-SHA256 over ``reference|amount|currency|date``.

    Each part in one canonical form (amount with two decimals, date as UTC ISO 8601 with
    microseconds), so the same payment always gives the same code, whatever the time zone.
    """
    message = "|".join(
        (
            reference_number,
            f"{amount:.2f}",
            currency,
            payment_date.astimezone(UTC).isoformat(timespec="microseconds"),
        )
    )
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    code = base64.b32encode(digest).decode()[:_CODE_LENGTH]
    return "-".join(code[i : i + 4] for i in range(0, _CODE_LENGTH, 4))


def format_amount(amount: Decimal, currency: str) -> str:
    """``1.250.000 ₫`` in the Vietnamese style: ``.`` groups thousands, ``,`` marks decimals.

    Đồng have no minor unit in use, so VND shows decimals only when there are some; other
    currencies always show two, followed by their code.
    """
    text = f"{amount:,.2f}".translate(str.maketrans(",.", ".,"))
    if currency == "VND" and text.endswith(",00"):
        text = text[:-3]
    return f"{text} {CURRENCY_SYMBOLS.get(currency, currency)}"


def amount_in_words(amount: Decimal, currency: str) -> str:
    """``Một triệu hai trăm năm mươi nghìn đồng``: num2words' Vietnamese, capitalised, with the unit.

    Whole units and hundredths are spelled as integers (num2words would round a Decimal through a
    float); hundredths are read after ``phẩy`` (point) as two digits.
    """
    if not 0 <= amount < _SPELLABLE_BELOW:
        raise BusinessRuleViolation.of(UNSPELLABLE, amount=amount)
    whole = int(amount)
    hundredths = int((amount - whole) * 100)
    words = num2words(whole, lang="vi")
    if hundredths:
        words += " phẩy " + ("không " if hundredths < 10 else "") + num2words(hundredths, lang="vi")
    return f"{words[:1].upper()}{words[1:]} {CURRENCY_WORDS.get(currency, currency)}"


def build_receipt(payment: Payment, settings: PaymentsSettings, *, now: datetime | None = None) -> Receipt:
    """The receipt of a payment; a 409 for a payment that is not (or not yet) money received."""
    status = PaymentStatus(payment.status)
    if status not in RECEIPT_STATUSES:
        raise Conflict.of(NO_RECEIPT, reference=payment.reference_number, status=status.value)
    tz: ZoneInfo = settings.tz
    return Receipt(
        bank_name=settings.bank_name,
        reference_number=payment.reference_number,
        cif=payment.cif,
        loan_account_number=payment.loan_account_number,
        amount=payment.amount,
        currency=payment.currency,
        amount_in_figures=format_amount(payment.amount, payment.currency),
        amount_in_words=amount_in_words(payment.amount, payment.currency),
        payment_date=payment.payment_date.astimezone(tz),
        payment_channel=payment.payment_channel,
        status=status.value,
        status_reason=payment.status_reason,
        verification_code=verification_code(
            signing_key(settings),
            reference_number=payment.reference_number,
            amount=payment.amount,
            currency=payment.currency,
            payment_date=payment.payment_date,
        ),
        issued_at=(now or datetime.now(UTC)).astimezone(tz),
    )


async def get_receipt(session: AsyncSession, reference_number: str, settings: PaymentsSettings) -> Receipt:
    """The receipt of the payment with this reference number (404 if there is none)."""
    payment = await ledger.get_payment(session, reference_number)
    return build_receipt(payment, settings)
