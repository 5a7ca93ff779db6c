"""How values are written in an extract's cells."""

from __future__ import annotations


def csv_field(text: str) -> str:
    """A CSV field (RFC 4180), quoted when it has to be."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def money(amount: int) -> str:
    """Whole VND with the two decimals of the files' money columns."""
    return f"{amount}.00"
