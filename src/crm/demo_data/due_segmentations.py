"""due_segmentations.csv: what a loan owes, per instalment due (or monthly statement of a card)."""

from __future__ import annotations

from crm.demo_data.cells import money
from crm.demo_data.change_set import Today
from crm.demo_data.days import Calendar


class DueRows:
    """The due_segmentations rows of one loan: one per instalment due, except that the older arrears
    of a long-overdue loan are carried as one lump on the oldest row."""

    def __init__(self, number: str, n_over: int, cal: Calendar, rows: list[list[str]]) -> None:
        self.number, self.n_over, self.cal, self.rows = number, n_over, cal, rows
        self.lump = [0, 0, 0, 0]
        self.oldest = 0

    def add(self, t: int, when: int, principal: int, interest: int, fees: int, penalty: int) -> None:
        if t < self.n_over - 2 and self.n_over > 3:
            for i, amount in enumerate((principal, interest, fees, penalty)):
                self.lump[i] += amount
            if t == 0:
                self.oldest = when
            if t == self.n_over - 3:
                self.rows.append([self.number, self.cal.iso(self.oldest), *map(money, self.lump)])
            return
        self.rows.append(
            [
                self.number,
                self.cal.iso(when),
                money(principal),
                money(interest),
                money(fees),
                money(penalty),
            ]
        )


def change(today: Today, row: list[str]) -> None:
    """A penalty accrued since the base."""
    row[5] = money(int(row[5][:-3]) + 1000 * (1 + int(today.rng.random() * 500)))
