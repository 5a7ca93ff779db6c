"""collaterals.csv: what secures a customer's loans (land, vehicles, deposits, equipment).

loan_collaterals.csv links them: a loan to each collateral of its shape, so a collateral may secure
several loans of its customer (a top-up loan on the house already pledged).
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random

from crm.demo_data import places
from crm.demo_data import vocab as v
from crm.demo_data.cells import csv_field, money
from crm.demo_data.change_set import Today
from crm.demo_data.days import Calendar
from crm.demo_data.loans import Loan

Draw = Callable[[], float]


def collateral_number(prefix: str, num: int, c: int) -> str:
    """The number of customer ``num``'s collateral ``c`` (from 0)."""
    return f"{prefix}{num:07d}{c + 1:02d}"


def collateral_row(
    r: Random, cal: Calendar, number: str, cif: str, kind: str, loan: Loan, province: v.Province
) -> list[str]:
    """The collateral, valued at the loan's disbursement or in the last year, worth more than the loan."""
    rnd = r.random
    valued = loan.disbursed if rnd() < 0.5 else -1 - int(rnd() * 365)
    row = [number, cif, kind, "", "", cal.iso(valued), "", "", "", "", "", "", "", "", ""]
    if kind == "REAL_ESTATE":
        _real_estate(rnd, row, loan, province)
    elif kind == "VEHICLE":
        _vehicle(rnd, cal, row, loan, province)
    elif kind == "DEPOSIT":
        months = (6, 12, 13, 24, 36)[int(rnd() * 5)]
        row[3] = f"Sổ tiết kiệm kỳ hạn {months} tháng số {int(rnd() * 10_000_000_000):010d}"
        row[4] = money(loan.amount * (105 + int(rnd() * 30)) // 100 // 1_000_000 * 1_000_000)
    else:
        row[3] = v.EQUIPMENT[int(rnd() * len(v.EQUIPMENT))]
        row[4] = money(loan.amount * (120 + int(rnd() * 40)) // 100 // 1_000_000 * 1_000_000)
    return row


def _real_estate(rnd: Draw, row: list[str], loan: Loan, province: v.Province) -> None:
    property_type = v.PROPERTY_TYPES[int(rnd() * len(v.PROPERTY_TYPES))]
    words, low, high = v.PROPERTY_WORDS[property_type]
    size = (low + int(rnd() * (high - low))) * 100 + int(rnd() * 4) * 25
    district = province.districts[int(rnd() * len(province.districts))]
    street = places.street(rnd).strip('"')
    area = f"{size // 100}.{size % 100:02d}"
    row[3] = csv_field(f"{words} {area} m² tại {district}, {province.name}")
    row[4] = money(loan.amount * (125 + int(rnd() * 75)) // 100 // 10_000_000 * 10_000_000)
    row[11] = property_type
    row[12] = csv_field(f"{street}, {district}, {province.name}")
    row[13] = area
    row[14] = f"{v.TITLE_SERIES[int(rnd() * len(v.TITLE_SERIES))]}{int(rnd() * 1_000_000):06d}"


def _vehicle(rnd: Draw, cal: Calendar, row: list[str], loan: Loan, province: v.Province) -> None:
    make, wmi, models = v.VEHICLES[int(rnd() * len(v.VEHICLES))]
    model = models[int(rnd() * len(models))]
    year = min(cal.year, max(2012, cal.year + (loan.disbursed // 365) - int(rnd() * 3)))
    vin = wmi + "".join(v.VIN_ALPHABET[int(rnd() * len(v.VIN_ALPHABET))] for _ in range(14))
    region = province.plates[int(rnd() * len(province.plates))]
    series = v.PLATE_SERIES[int(rnd() * len(v.PLATE_SERIES))]
    plate = f"{region}{series}-{int(rnd() * 1000):03d}.{int(rnd() * 100):02d}"
    row[3] = csv_field(f"Xe ô tô {make} {model} {year}, biển số {plate}")
    row[4] = money(loan.amount * (125 + int(rnd() * 50)) // 100 // 1_000_000 * 1_000_000)
    row[6], row[7], row[8], row[9], row[10] = make, model, str(year), vin, plate


def change(today: Today, row: list[str]) -> None:
    """Valued again today, a few percent up or down."""
    value = int(row[4][:-3])
    factor = (90, 93, 95, 97, 103, 105, 108, 110)[int(today.rng.random() * 8)]
    new = value * factor // 100 // 1_000_000 * 1_000_000
    row[4] = money(new if new != value else value + 1_000_000)
    row[5] = today.day
