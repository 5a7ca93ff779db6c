"""Personal data never reaches the logs in clear."""

from __future__ import annotations

import json
import logging

import asyncpg
from sqlalchemy.exc import DBAPIError

from crm.platform.logging import configure_logging, get_logger, mask, mask_text


def test_personal_fields_are_masked_and_other_values_kept():
    masked = mask(
        {
            "cif": "CIF001",
            "name": "Nguyễn Văn An",
            "phoneNumber": "+84912345678",
            "national_id": "079203001234",
            "email": "an.nguyen@example.vn",
            "amount": "1250000.00",
            "items": [{"companyName": "Công ty ABC"}],
        }
    )
    assert masked["cif"] == "CIF001" and masked["amount"] == "1250000.00"
    assert "Nguyễn" not in str(masked) and "Văn" not in str(masked) and "ABC" not in str(masked)
    assert masked["phoneNumber"].endswith("678") and "912345" not in masked["phoneNumber"]
    assert "079203" not in masked["national_id"] and "an.nguyen" not in masked["email"]


def test_numbers_and_emails_inside_free_text():
    text = mask_text("customer 0912 345 678 wrote from an.nguyen@example.vn on 2026-11-28 via 127.0.0.1:4222")
    assert "345" not in text and "an.nguyen" not in text
    assert "2026-11-28" in text and "127.0.0.1:4222" in text


def test_log_lines_are_json_with_masked_fields(capsys):
    configure_logging("INFO", "json")
    get_logger("test").info("customer_called", name="Trần Thị Bình", phone="0987654321", cif="CIF9")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["event"] == "customer_called" and record["cif"] == "CIF9"
    assert "Bình" not in line and "0987654321" not in line
    logging.getLogger().handlers.clear()


def test_an_unreachable_server_is_one_line_and_any_other_failure_keeps_its_traceback(capsys):
    """While PostgreSQL or NATS restarts, every retry (ours, or a library's such as asyncpg's pool)
    logs the outage as its error, not a traceback; an unexpected failure keeps its traceback."""
    configure_logging("INFO", "json")
    try:
        for exc in (ConnectionRefusedError(111, "Connection refused"), KeyError("bug")):
            try:
                raise exc
            except Exception:
                get_logger("test").exception("loop_failed")
                logging.getLogger("asyncpg.pool").warning("pool retrying", exc_info=True)
        lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()[-4:]]
    finally:
        logging.getLogger().handlers.clear()
    refused, refused_foreign, bug, bug_foreign = lines
    for record in (refused, refused_foreign):
        assert "exception" not in record
        assert record["error"] == "ConnectionRefusedError: [Errno 111] Connection refused"
    for record in (bug, bug_foreign):
        assert "Traceback" in record["exception"] and "KeyError" in record["exception"]


def test_a_database_starting_up_wrapped_by_sqlalchemy_is_one_line_too(capsys):
    """PostgreSQL restarting answers "the database system is starting up" (asyncpg's
    CannotConnectNowError), which SQLAlchemy raises as a DBAPIError: still the outage, not a bug."""
    configure_logging("INFO", "json")
    try:
        try:
            try:
                raise asyncpg.CannotConnectNowError("the database system is starting up")
            except asyncpg.CannotConnectNowError as inner:
                raise DBAPIError("SELECT 1", None, inner) from inner
        except DBAPIError:
            get_logger("crm.bank_sync.worker").exception("sync_worker_failed")
        record = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    finally:
        logging.getLogger().handlers.clear()
    assert record["event"] == "sync_worker_failed" and "exception" not in record
    assert "the database system is starting up" in record["error"]
