"""The signature header's grammar: strict ASCII, bounded length; anything else is refused, never a crash."""

from __future__ import annotations

import time

import pytest

from crm.payments.notifications.signature import parse, sign, verify
from crm.platform.errors import Unauthorized

SECRET = "processor-secret"
BODY = b'{"referenceNumber":"R1"}'


def test_a_header_written_by_sign_is_accepted():
    now = int(time.time())
    verify(sign(BODY, SECRET, now), BODY, [SECRET], now=now, tolerance=300)
    assert parse(sign(BODY, SECRET, now))[0] == now


@pytest.mark.parametrize(
    "header",
    [
        "t=" + "9" * 400 + ",v1=" + "0" * 64,  # OverflowError in abs(now - t) once
        "t=\u00b2,v1=" + "0" * 64,  # a digit str.isdigit() takes and int() refuses
        "t=\u0661\u0662,v1=" + "0" * 64,  # Arabic-Indic digits
        "t=1 ,v1=" + "0" * 64,
        "t=1,v1=" + "g" * 64,
        "t=1,v1=00",
        "t=1",
        "v1=" + "0" * 64,
        "t=1,v1=" + "0" * 64 + ",x=1",
        "t=1," + ",".join(["v1=" + "0" * 64] * 40),  # past the length cap
        "\x00",
    ],
)
def test_anything_but_the_grammar_is_unauthorized(header):
    with pytest.raises(Unauthorized):
        verify(header, BODY, [SECRET], now=time.time(), tolerance=300)


def test_several_signatures_are_accepted_when_one_matches():
    now = int(time.time())
    good = sign(BODY, SECRET, now).split(",")[1]
    header = f"t={now},v1={'a' * 64},{good}"
    verify(header, BODY, [SECRET], now=now, tolerance=300)
