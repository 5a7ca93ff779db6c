"""Generating one chunk: its customers' rows in every file, with the change set and the bad rows applied.

The values are drawn customer by customer from the chunk's streams, and the rows handed to ``emit`` in one
fixed order (a customer's row, phones, addresses, e-mails, references, collaterals, then per loan its row,
links, due rows and payments): the change set and the bad rows draw from streams shared by all files, so
that order is part of the data's definition.
"""

from __future__ import annotations

from crm.demo_data import (
    addresses,
    collaterals,
    customers,
    due_segmentations,
    emails,
    loans,
    payments,
    phones,
    places,
    references,
)
from crm.demo_data import vocab as v
from crm.demo_data.bad_rows import Breaker
from crm.demo_data.change_set import Change, Today, no_change
from crm.demo_data.days import calendar
from crm.demo_data.files import ADR, COL, CUS, DUE, EML, FILES, LCO, LOA, PAY, PHO, REF
from crm.demo_data.people import Customer, company, person
from crm.demo_data.planning import SOURCES, ChunkOut, Job
from crm.demo_data.shapes import LoanShape, Shape, shapes

CHANGES: tuple[Change, ...] = (
    customers.change,
    phones.change,
    addresses.change,
    emails.change,
    loans.change,
    collaterals.change,
    no_change,  # loan_collaterals
    due_segmentations.change,
    references.change,
    payments.change,
)
"""How a row of each file (in ``FILES`` order) is changed for the date's change set."""


def run_chunk(job: Job) -> ChunkOut:
    return Chunk(job).run()


class Chunk:
    """Generates one chunk: the rows of each file, with the change set and the bad rows applied."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.src = SOURCES[job.source]
        self.cal = calendar(job.plan.as_of)
        self.day = job.plan.business_date.isoformat()
        self.out: list[list[str]] = [[] for _ in FILES]
        self.ordinal = [0] * len(FILES)
        self.last: list[str | None] = [None] * len(FILES)
        self.bad: list[tuple[int, int, str, str]] = []
        self.today = Today(job.daily_stream("change"), self.day, self.cal)
        self.breaker = Breaker(job.daily_stream("bad"), self.src, job.chunk, self.day)
        self.changes = self._changed_rows()
        self.breaks = self._broken_rows()
        self.values = job.stream("values")
        self.pay = job.daily_stream("payment-values")
        self.products = v.W4_PRODUCTS if job.source == "W4" else v.T24_PRODUCTS
        self.customers: list[Customer] = []

    def _changed_rows(self) -> list[frozenset[int]]:
        """Per file, the ordinals of the chunk's rows in the change set."""
        job = self.job
        if not job.changed_rows:
            return [frozenset()] * len(FILES)
        pick = job.daily_stream("change-rows")
        return [
            frozenset(pick.sample(range(job.base_rows[f]), job.changed_rows[f])) for f in range(len(FILES))
        ]

    def _broken_rows(self) -> list[dict[int, str]]:
        """Per file, the ordinals of the chunk's rows to break and how (the kinds cycle over the source)."""
        job = self.job
        if not job.bad_rows:
            return [{} for _ in FILES]
        pick = job.daily_stream("bad-rows")
        breaks = []
        for f, spec in enumerate(FILES):
            chosen = sorted(pick.sample(range(job.base_rows[f]), job.bad_rows[f]))
            kinds = spec.kinds
            breaks.append({o: kinds[(job.bad_before[f] + n) % len(kinds)] for n, o in enumerate(chosen)})
        return breaks

    def emit(self, f: int, fields: list[str], omit: bool = False) -> bool:
        """Write a row (changed or broken when chosen); False when it was left out or written broken."""
        o = self.ordinal[f]
        self.ordinal[f] = o + 1
        if omit:
            return False
        if o in self.changes[f]:
            CHANGES[f](self.today, fields)
        kind = self.breaks[f].get(o)
        if kind is not None:
            line, kind, column = self.breaker.broken(FILES[f], fields, kind, self.last[f])
            self.bad.append((f, len(self.out[f]), kind, column))
            self.out[f].append(line)
            return False
        line = ",".join(fields)
        self.out[f].append(line)
        self.last[f] = line
        return True

    def run(self) -> ChunkOut:
        for shape in shapes(self.job):
            self._customer(shape)
        return self.finish()

    def _customer(self, shape: Shape) -> None:
        """A customer and everything of theirs; when its row is bad, nothing of theirs is written."""
        is_org, n_ph, n_ad, n_em, n_ref, loan_shapes, kinds = shape
        r, cal, emit = self.values, self.cal, self.emit
        rnd = r.random
        num = self.job.first + len(self.customers) + 1
        province = places.province(rnd)
        who = company(r, province) if is_org else person(r, cal, province)
        customer = Customer(num, f"{self.src.cif}{num:07d}", who, is_org, province)
        omit = not emit(CUS, customers.customer_row(rnd, customer))
        for row in phones.phone_rows(rnd, cal, customer, n_ph):
            emit(PHO, row, omit)
        for row in addresses.address_rows(rnd, cal, customer, n_ad):
            emit(ADR, row, omit)
        for row in emails.email_rows(rnd, cal, customer, n_em):
            emit(EML, row, omit)
        for row in references.reference_rows(r, cal, self.src.ref_cif, customer, self.customers, n_ref):
            emit(REF, row, omit)
        self.customers.append(customer)
        drawn = self._loans(customer, loan_shapes)
        collateral_ok = self._collaterals(customer, loan_shapes, kinds, drawn, omit)
        for k, (loan, loan_shape) in enumerate(zip(drawn, loan_shapes, strict=True)):
            self._loan_rows(customer, k, loan, loan_shape, collateral_ok, omit)

    def _loans(self, customer: Customer, loan_shapes: list[LoanShape]) -> list[loans.Loan]:
        """The customer's loans (cards and credit lines at W4), drawn before any of their rows is written."""
        make = loans.revolving if self.job.source == "W4" else loans.instalment_loan
        return [
            make(
                self.values,
                self.cal,
                f"{self.src.account}{customer.num:07d}{k + 1:02d}",
                customer.cif,
                shape,
                self.products[shape[0]],
            )
            for k, shape in enumerate(loan_shapes)
        ]

    def _collaterals(
        self,
        customer: Customer,
        loan_shapes: list[LoanShape],
        kinds: list[str],
        drawn: list[loans.Loan],
        omit: bool,
    ) -> list[bool]:
        """Writes the customer's collaterals, each valued against the first loan it secures; which were."""
        secured_by: dict[int, loans.Loan] = {}
        for loan, shape in zip(drawn, loan_shapes, strict=True):
            for c in shape[5]:
                secured_by.setdefault(c, loan)
        written = []
        for c, kind in enumerate(kinds):
            number = collaterals.collateral_number(self.src.collateral, customer.num, c)
            row = collaterals.collateral_row(
                self.values, self.cal, number, customer.cif, kind, secured_by[c], customer.province
            )
            written.append(self.emit(COL, row, omit))
        return written

    def _loan_rows(
        self,
        customer: Customer,
        k: int,
        loan: loans.Loan,
        shape: LoanShape,
        collateral_ok: list[bool],
        omit: bool,
    ) -> None:
        """Writes loan ``k``'s row, its links to its collaterals, its due rows and the day's payments."""
        emit = self.emit
        loan_ok = emit(LOA, loan.fields, omit)
        for c in shape[5]:
            number = collaterals.collateral_number(self.src.collateral, customer.num, c)
            emit(LCO, [loan.number, number], not (loan_ok and collateral_ok[c]))
        for due_row in loan.due_rows:
            emit(DUE, due_row, not loan_ok)
        count = shape[7]
        for m in range(count):
            reference = payments.payment_number(self.src.payment, self.day, customer.num, k, m)
            row = payments.payment_row(self.pay, self.day, loan, customer.cif, reference, m, count)
            emit(PAY, row, not loan_ok)

    def finish(self) -> ChunkOut:
        data = [("\r\n".join(lines) + "\r\n").encode() if lines else b"" for lines in self.out]
        if self.job.base_rows:
            assert tuple(self.ordinal) == self.job.base_rows, "the pre-pass and the generation disagree"
        return ChunkOut(data, [len(lines) for lines in self.out], self.bad)
