"""Every problem code a service can answer has English and Vietnamese text on the screens, and pages
show that text, never the API's English ``detail``."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from crm.platform.errors import GENERIC_CODES
from crm.platform.problems import CODES, declare
from crm.web.i18n import catalog
from crm.web.problems import TEXTS, explain
from tests.platform.reference_docs import declared_codes


def test_every_declared_code_has_english_and_vietnamese_text_on_the_screens():
    declared = declared_codes()
    assert len(declared) > 100  # the services' rules were found, not only the platform's
    assert set(GENERIC_CODES.values()) <= declared.keys()
    vietnamese = catalog("vi")
    without_text = sorted(code for code in declared if code not in TEXTS)
    assert without_text == [], f"codes the web UI cannot show: {without_text}"
    untranslated = sorted(code for code in declared if not (vietnamese.get(TEXTS[code]) or None))
    assert untranslated == [], f"codes without Vietnamese text: {untranslated}"
    stale = sorted(set(TEXTS) - declared.keys())
    assert stale == [], f"texts for codes no service declares: {stale}"


def test_a_code_means_one_thing():
    declare("test.once", "Said {this} way.")
    declare("test.once", "Said {this} way.")  # the same declaration again (a module imported twice)
    with pytest.raises(ValueError, match=r"test\.once"):
        declare("test.once", "Said another way.")
    CODES.pop("test.once")


def test_the_text_is_filled_with_the_params_and_dates_are_shown_as_days():
    declared_codes()
    params = {"days": 30, "last": "2026-12-31"}
    assert explain("promise.date_too_far", params, "vi") == (
        "Ngày hứa trả phải trong vòng 30 ngày tới (không sau ngày 31/12/2026)."
    )
    hours = {"start": "07:00:00", "end": "21:00:00", "time": "06:59:59", "zone": "Asia/Ho_Chi_Minh"}
    assert explain("contact.outside_hours", hours, "en") == (
        "Calls and visits can only be recorded between 07:00 and 21:00."
    )
    # pydantic's own field codes (string_too_long, ...) and a code raised without its params: plain words
    assert explain("field.string_too_long", {}, "vi") == catalog("vi").get(TEXTS["field.invalid"]).string
    assert explain("promise.date_too_far", {}, "en") == TEXTS["request.invalid"]


def test_no_page_reads_the_apis_wording():
    """Pages act on ``code`` and show ``message()``: no route or template looks into ``detail``."""
    web = Path(importlib.import_module("crm.web").__file__ or "").parent
    for source in [*(web / "routes").glob("*.py"), *(web / "templates").rglob("*.html")]:
        text = source.read_text(encoding="utf-8")
        assert not re.search(r"\b(exc|problem)\.detail\b|field_errors\(", text), source.name
