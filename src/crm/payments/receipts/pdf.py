"""Lays a receipt out as a one-page A4 PDF. Pure: a :class:`Receipt` in, PDF bytes out."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from importlib.resources import as_file, files
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # fpdf takes a quarter of a second to import: only when a receipt is drawn
    from fpdf import FPDF

FONT_PACKAGE = "fontpkg_be_vietnam_pro"
"""The PyPI package (``fontpkg-be-vietnam-pro``) whose TrueType files are embedded: Be Vietnam Pro is
drawn for Vietnamese, so every tone mark and ``₫`` has a real glyph. Static weights, so nothing has
to be instanced from a variable font on each request."""
FONT = "BeVietnamPro"
_FONT_FILES = {"": "BeVietnamPro-Regular.ttf", "B": "BeVietnamPro-Bold.ttf"}

CHANNEL_LABELS = {
    "BANK_TRANSFER": "Chuyển khoản",
    "CASH": "Tiền mặt",
    "CARD": "Thẻ",
    "ONLINE": "Trực tuyến",
    "AUTO_DEBIT": "Trích nợ tự động",
    "MOBILE_APP": "Ứng dụng di động",
    "OTHER": "Khác",
}
STATUS_LABELS = {
    "COMPLETED": "Thành công",
    "REVERSED": "Đã hoàn trả",
    "PENDING": "Đang xử lý",
    "FAILED": "Thất bại",
}

_LABEL_WIDTH = 62.0
_GREY = (95, 95, 95)
_BLACK = (0, 0, 0)
_RED = (170, 20, 20)


@dataclass(frozen=True)
class Receipt:
    """What a receipt shows, in the form a bank clerk reads it (times in the business time zone)."""

    bank_name: str
    reference_number: str
    cif: str
    loan_account_number: str
    amount: Decimal
    currency: str
    amount_in_figures: str
    amount_in_words: str
    payment_date: datetime
    payment_channel: str
    status: str
    status_reason: str | None
    verification_code: str
    issued_at: datetime


def format_datetime(value: datetime) -> str:
    """``28/11/2026 09:30:00 (GMT+07:00)``: the Vietnamese day-first order, with the offset shown."""
    offset = value.strftime("%z") or "+0000"
    return f"{value:%d/%m/%Y %H:%M:%S} (GMT{offset[:3]}:{offset[3:]})"


def _labelled(code: str, labels: dict[str, str]) -> str:
    label = labels.get(code)
    return f"{label} ({code})" if label else code


def _row(
    pdf: FPDF, label_vi: str, label_en: str, value: str, *, size: float = 11, bold: bool = False
) -> None:
    """A Vietnamese / English label on the left, the value beside it (wrapped when long)."""
    top = pdf.get_y()
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*_GREY)
    pdf.multi_cell(_LABEL_WIDTH, 4.5, f"{label_vi}\n{label_en}", new_x="RIGHT", new_y="TOP")
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_text_color(*_BLACK)
    pdf.multi_cell(0, size * 0.5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(top + 9, pdf.get_y()) + 2.5)


def _rule(pdf: FPDF) -> None:
    pdf.set_draw_color(*_GREY)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(4)


def render_pdf(receipt: Receipt) -> bytes:
    """The receipt as a one-page A4 PDF, with the glyphs it uses embedded (nothing depends on the
    reader's fonts)."""
    from fpdf import FPDF

    with ExitStack() as stack:
        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        for style, name in _FONT_FILES.items():
            # as_file: a real path even if the package were installed zipped; kept open until output.
            path = stack.enter_context(as_file(files(FONT_PACKAGE) / "files" / name))
            pdf.add_font(FONT, style, path)
        pdf.set_title(f"Biên lai thanh toán {receipt.reference_number}")
        pdf.set_author(receipt.bank_name)
        pdf.set_creator("Collection CRM")
        pdf.set_lang("vi-VN")
        pdf.set_creation_date(receipt.issued_at)
        pdf.set_margins(20, 18, 20)
        pdf.set_auto_page_break(auto=True, margin=18)
        pdf.add_page()
        _header(pdf, receipt)
        _body(pdf, receipt)
        _verification(pdf, receipt)
        return bytes(pdf.output())


def _header(pdf: FPDF, receipt: Receipt) -> None:
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 7.5, receipt.bank_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 7, "BIÊN LAI THANH TOÁN", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9.5)
    pdf.set_text_color(*_GREY)
    pdf.cell(0, 5, "PAYMENT RECEIPT", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*_BLACK)
    pdf.ln(5)
    _rule(pdf)


def _body(pdf: FPDF, receipt: Receipt) -> None:
    if receipt.status == "REVERSED":
        _reversed_banner(pdf)
    _row(pdf, "Số tham chiếu", "Reference number", receipt.reference_number, bold=True)
    _row(pdf, "Mã khách hàng (CIF)", "Customer CIF", receipt.cif)
    _row(pdf, "Số tài khoản khoản vay", "Loan account number", receipt.loan_account_number)
    _row(pdf, "Số tiền", "Amount", receipt.amount_in_figures, size=14, bold=True)
    _row(pdf, "Số tiền bằng chữ", "Amount in words", receipt.amount_in_words)
    _row(pdf, "Thời gian thanh toán", "Payment date and time", format_datetime(receipt.payment_date))
    _row(pdf, "Kênh thanh toán", "Payment channel", _labelled(receipt.payment_channel, CHANNEL_LABELS))
    _row(pdf, "Trạng thái", "Status", _labelled(receipt.status, STATUS_LABELS), bold=True)
    if receipt.status_reason:
        _row(pdf, "Lý do", "Reason", receipt.status_reason)
    pdf.ln(1)
    _rule(pdf)


def _reversed_banner(pdf: FPDF) -> None:
    """A reversed payment's receipt must not pass for proof that the money is still with the bank."""
    pdf.set_fill_color(250, 228, 228)
    pdf.set_draw_color(*_RED)
    pdf.set_text_color(*_RED)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(
        0,
        6,
        "GIAO DỊCH ĐÃ BỊ HOÀN TRẢ - PAYMENT REVERSED\n"
        "Biên lai này không xác nhận một khoản thanh toán còn hiệu lực.\n"
        "This receipt does not confirm a payment in force.",
        border=1,
        align="C",
        fill=True,
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(*_BLACK)
    pdf.ln(4)


def _verification(pdf: FPDF, receipt: Receipt) -> None:
    _row(pdf, "Mã xác thực", "Verification code", receipt.verification_code, size=15, bold=True)
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*_GREY)
    pdf.multi_cell(
        0,
        4.5,
        "Mã xác thực được tính từ số tham chiếu, số tiền, loại tiền và thời gian thanh toán; "
        "liên hệ ngân hàng để đối chiếu.\n"
        "The verification code is computed from the reference number, amount, currency and payment "
        "date; the bank can confirm it.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    pdf.cell(
        0,
        4.5,
        f"Ngày in / Printed: {format_datetime(receipt.issued_at)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(*_BLACK)
