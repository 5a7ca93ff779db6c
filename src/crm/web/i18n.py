"""English and Vietnamese for the UI: gettext catalogues, money in VND style, dates in business time.

The English text is the message id (in the templates: ``{{ _("My day") }}``); the Vietnamese is in
``locale/vi/LC_MESSAGES/*.po``, one catalogue per part of the UI, all merged at start-up.
``tests/web/test_i18n.py`` checks that every message of the templates and pages has a translation.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = {"vi": "vi_VN", "en": "en_US"}


def catalog(language: str) -> Catalog:
    """Every message of the language's ``.po`` files in one catalogue."""
    merged = Catalog(locale=LOCALES.get(language, language))
    for po in sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            for message in read_po(f):
                if message.id and message.string:
                    merged.add(message.id, message.string)
    return merged


@cache
def translations(language: str) -> NullTranslations:
    if language == "en":
        return NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalog(language))
    buffer.seek(0)
    return Translations(fp=buffer)


def N_(message: str) -> str:
    """Marks a message for translation where it is written (a label in a table, an error passed to a
    template); it is translated where it is shown, with ``_()``."""
    return message


def gettext_for(language: str) -> Callable[..., str]:
    """``_("Hello %(name)s", name=...)`` in the language."""
    translate = translations(language).gettext

    def _(message: str, **values: object) -> str:
        text = translate(message)
        return text % values if values else text

    return _


def money(amount: object, currency: str | None = "VND") -> str:
    """``1.250.000 ₫``: the amount in VND style (dot thousands, comma decimals), whatever the language.

    VND shows no decimals when it has none, two when it has (nothing is rounded away); other
    currencies keep their cents. Empty for no amount.
    """
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    code = currency or "VND"
    if code == "VND":
        pattern = "#,##0 ¤" if value == value.to_integral_value() else "#,##0.00 ¤"
        return format_currency(value, "VND", locale="vi_VN", format=pattern, currency_digits=False)
    return format_currency(value, code, locale="vi_VN")


def number(value: object) -> str:
    if value is None or value == "":
        return ""
    return format_decimal(Decimal(str(value)), locale="vi_VN")


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return None


def when(value: object, tz: ZoneInfo, language: str) -> str:
    """A moment in the business time zone: ``16/03/2026 10:05``."""
    moment = _as_datetime(value)
    if moment is None:
        return ""
    return format_datetime(moment.astimezone(tz), "dd/MM/yyyy HH:mm", locale=LOCALES.get(language, "vi_VN"))


def day(value: object, language: str) -> str:
    """A date: ``16/03/2026``."""
    if isinstance(value, str) and value:
        value = date.fromisoformat(value[:10])
    if not isinstance(value, date):
        return ""
    return format_date(value, "dd/MM/yyyy", locale=LOCALES.get(language, "vi_VN"))
