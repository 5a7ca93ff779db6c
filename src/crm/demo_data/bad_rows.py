"""What ``--bad`` writes in place of a chosen row: a row the load must reject, and why.

About ``round(bad * rows)`` rows per file are replaced by invalid rows (missing natural key, bad date, bad
number, unknown enum value, unknown customer/loan/collateral, duplicate key), cycling over the kinds that
the file's columns allow. When a customer, loan or collateral row is bad, the rows that depend on it (its
phones, loans, due rows, links, payments ...) are left out of the set, so that every other row still
loads. ``bad_rows.json`` beside the manifest lists every bad row by line number (1 is the header).
"""

from __future__ import annotations

from random import Random

from crm.demo_data.cells import csv_field
from crm.demo_data.files import BAD_DATE, BAD_NUMBER, DUPLICATE_KEY, MISSING_KEY, UNKNOWN_ENUM, FileSpec
from crm.demo_data.planning import Source


def _bad_date(original: str, b: Random) -> str:
    year, month, day = original[:4], original[5:7], original[8:10]
    if "T" in original:
        return f"{day}/{month}/{year} {original[11:19]}"
    u = b.random()
    if u < 0.5:
        return f"{day}/{month}/{year}"
    return f"{year}-02-30" if u < 0.75 else f"{year}-13-{day}"


def _bad_number(original: str, b: Random) -> str:
    if original.endswith(".00") and len(original) > 9 and b.random() < 0.6:
        return f"{int(original[:-3]):,}".replace(",", ".")  # 1.250.000: thousands separated the local way
    if "." in original:
        return csv_field(original.replace(".", ","))  # a decimal comma
    return f"{original or '0'}.5"  # a fraction where an integer is expected


class Breaker:
    """Breaks a chunk's chosen rows, drawing from the chunk's stream of bad rows."""

    def __init__(self, rng: Random, source: Source, chunk: int, day: str) -> None:
        self.rng, self.source, self.chunk, self.day = rng, source, chunk, day
        self.missing_serial = 0

    def _missing_id(self, what: str) -> str:
        """A cif, loan or collateral number that nothing has."""
        self.missing_serial += 1
        serial = self.chunk * 100_000 + self.missing_serial
        if what == "cif":
            return f"{self.source.missing}{serial:07d}"
        if what == "loan":
            return f"{self.source.account}X{serial:09d}"
        return f"{self.source.collateral}X{serial:09d}"

    def broken(self, spec: FileSpec, fields: list[str], kind: str, last: str | None) -> tuple[str, str, str]:
        """The bad line for ``fields`` (changed in place), its kind and the column it breaks.

        A duplicate key repeats ``last``, the file's previous good line; the chunk's first row of a file
        cannot, and is written without its key instead."""
        if kind == DUPLICATE_KEY and last is None:
            kind = MISSING_KEY
        if kind == DUPLICATE_KEY:
            assert last is not None
            return last, kind, "+".join(spec.key)
        column, value = self._break(spec, fields, kind)
        fields[spec.at(column)] = value
        return ",".join(fields), kind, column

    def _break(self, spec: FileSpec, fields: list[str], kind: str) -> tuple[str, str]:
        """The column that a row of ``kind`` breaks and its wrong value."""
        b = self.rng
        if kind == MISSING_KEY:
            return spec.key[int(b.random() * len(spec.key))], ""
        if kind == BAD_DATE:
            column = spec.dates[int(b.random() * len(spec.dates))]
            return column, _bad_date(fields[spec.at(column)] or self.day, b)
        if kind == BAD_NUMBER:
            column = spec.numbers[int(b.random() * len(spec.numbers))]
            return column, _bad_number(fields[spec.at(column)], b)
        if kind == UNKNOWN_ENUM:
            column, wrong = spec.enums[int(b.random() * len(spec.enums))]
            return column, wrong[int(b.random() * len(wrong))]
        column, what = spec.refs[int(b.random() * len(spec.refs))]
        return column, self._missing_id(what)
