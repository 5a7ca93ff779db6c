"""Where people live and what their addresses look like: provinces, streets, wards."""

from __future__ import annotations

from collections.abc import Callable

from crm.demo_data import vocab as v


def province(rnd: Callable[[], float]) -> v.Province:
    """A province, as often as its weight."""
    return v.PROVINCES[v.PROVINCE_PICK[int(rnd() * len(v.PROVINCE_PICK))]]


def street(rnd: Callable[[], float]) -> str:
    """An address line: a house on a street, in an alley or a block of flats (those, with commas, quoted)."""
    name = v.STREETS[int(rnd() * len(v.STREETS))]
    number = 1 + int(rnd() * 300)
    u = rnd()
    if u < 0.5:
        return f"Số {number} {name}"
    if u < 0.75:
        return f'"Số {number}, ngõ {1 + int(rnd() * 200)}, {name}"'
    if u < 0.9:
        return f"{number}/{1 + int(rnd() * 60)} {name}"
    return f'"Căn hộ {1 + int(rnd() * 30)}{1 + int(rnd() * 20):02d}, tòa {"ABCDE"[int(rnd() * 5)]}, {name}"'


def ward(rnd: Callable[[], float], place: v.Province) -> str:
    wards = v.HCMC_WARDS if place is v.PROVINCES[0] else v.WARDS
    return wards[int(rnd() * len(wards))]
