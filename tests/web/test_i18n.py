"""Every message of the web UI has its Vietnamese translation; money and dates in the bank's style."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from crm.web import i18n

WEB = Path(i18n.__file__).parent
PLACEHOLDER = re.compile(r"%\((\w+)\)")


def _messages() -> dict[str, str]:
    """Each message the templates and pages mark (``_("...")`` or ``N_("...")``), with where it is."""
    found: dict[str, str] = {}
    extracted = extract_from_dir(
        str(WEB),
        method_map=[("**/templates/**.html", "jinja2"), ("**.py", "python")],
        keywords={"_": None, "N_": None},
    )
    for filename, lineno, message, _comments, _context in extracted:
        if isinstance(message, str) and message:
            found.setdefault(message, f"{filename}:{lineno}")
    return found


def test_every_message_of_the_ui_has_a_vietnamese_translation():
    messages = _messages()
    assert "Sign in" in messages and "My day" in messages  # the extraction finds templates and code
    vietnamese = {m.id: m.string for m in i18n.catalog("vi") if m.id}
    missing = {m: where for m, where in messages.items() if not vietnamese.get(m)}
    assert not missing, f"no Vietnamese for: {missing}"
    same = [m for m in messages if vietnamese.get(m) == m and any(c.isalpha() for c in m)]
    assert len(same) <= len(messages) // 20, f"left in English: {same}"


def test_a_message_in_several_catalogues_has_one_translation():
    """The catalogues are merged: the same English in two of them must say the same in Vietnamese."""
    seen: dict[str, set[str]] = {}
    for po in sorted((i18n.LOCALE_DIR / "vi" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            for message in read_po(f):
                if message.id:
                    seen.setdefault(str(message.id), set()).add(str(message.string))
    assert not {m: s for m, s in seen.items() if len(s) > 1}


def test_translations_keep_their_placeholders():
    for message in i18n.catalog("vi"):
        if message.id and "%(" in str(message.id):
            names = set(PLACEHOLDER.findall(str(message.id)))
            assert names == set(PLACEHOLDER.findall(str(message.string))), message.id


def test_money_is_shown_in_vnd_style_and_nothing_is_rounded_away():
    assert i18n.money("1250000").replace("\xa0", " ") == "1.250.000 ₫"
    assert i18n.money("1250000.50").replace("\xa0", " ") == "1.250.000,50 ₫"
    assert i18n.money("10.5", "USD").replace("\xa0", " ") == "10,50 US$"
    assert i18n.money(None) == ""


def test_times_are_shown_in_the_business_time_zone():
    moment = datetime(2026, 3, 15, 17, 30, tzinfo=UTC)  # 00:30 the next day in Ho Chi Minh City
    assert i18n.when(moment, ZoneInfo("Asia/Ho_Chi_Minh"), "vi") == "16/03/2026 00:30"
    assert i18n.day("2026-03-16", "en") == "16/03/2026"
