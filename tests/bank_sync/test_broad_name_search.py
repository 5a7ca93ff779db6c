"""A name that matches a great part of the bank ("nguyen"): the search ranks a capped number of
matches and says "more than" instead of counting them all (issue 18; docs/api.md, bank-sync)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.dialects.postgresql import insert

from crm.bank_sync.customers import repository
from crm.bank_sync.customers.models import Customer
from crm.platform.auth import Role
from tests.bank_sync.test_read_api import cifs, ok, synced


async def _customers(app: Any, segment: str, people: list[tuple[str, str]]) -> None:
    rows = [
        synced(cif=cif, type="INDIVIDUAL", name=name, segment=segment, status="ACTIVE")
        for cif, name in people
    ]
    async with app.state.db.transaction() as session:
        await session.execute(insert(Customer), rows)


async def _search(client: Any, headers: dict[str, str], q: str, segment: str) -> dict[str, Any]:
    return ok(await client.get("/api/customers", params={"q": q, "segment": segment}, headers=headers))


async def test_a_name_matching_more_than_the_limit_is_counted_up_to_it_and_an_exact_cif_still_comes_first(
    bank_sync, token_for, unique, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(repository, "COUNT_LIMIT", 5)
    monkeypatch.setattr(repository, "RANK_LIMIT", 3)
    token, segment = unique("QZX").lower(), unique("SEG")
    namesakes = [(f"{segment}-{i}", f"Nguyễn {token} Thị {chr(65 + i)}") for i in range(8)]
    # A customer whose CIF is what was typed, with a name that does not match it.
    await _customers(bank_sync.app, segment, [*namesakes, (token.upper(), "Trần Văn Bình")])
    headers = token_for(Role.AGENT)

    page = await _search(bank_sync, headers, token, segment)
    assert page["total"] == 5 and page["totalExact"] is False, "more than 5 match: counted up to 5"
    assert cifs(page)[0] == token.upper(), "the exact CIF ranks first, however many names match"
    named = {cif for cif, _ in namesakes}
    assert set(cifs(page)[1:]) <= named and len(cifs(page)) == 1 + 3 + 1, "the best of the first 4 found"

    fewer = await _search(bank_sync, headers, f"{token} thi a", segment)
    assert (fewer["total"], fewer["totalExact"], cifs(fewer)) == (1, True, [namesakes[0][0]])


async def test_up_to_the_limit_every_match_is_ranked_by_similarity_and_counted_exactly(
    bank_sync, token_for, unique, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(repository, "COUNT_LIMIT", 5)
    monkeypatch.setattr(repository, "RANK_LIMIT", 4)
    token, segment = unique("QZY").lower(), unique("SEG")
    people = [
        ("A3", f"Bùi {token} Lan Anh Thư"),
        ("A1", f"{token} Lan"),
        ("A2", f"{token} Lan Anh"),
        ("A4", f"Đỗ {token} Lan Anh Thư Hà"),
    ]
    await _customers(bank_sync.app, segment, [(f"{segment}{cif}", name) for cif, name in people])
    page = await _search(bank_sync, token_for(Role.AGENT), f"{token} lan", segment)
    assert cifs(page) == [f"{segment}A1", f"{segment}A2", f"{segment}A3", f"{segment}A4"], "closest first"
    assert (page["total"], page["totalExact"]) == (4, True)

    # More name matches than are ranked, fewer than are counted: the count is still exact.
    monkeypatch.setattr(repository, "RANK_LIMIT", 2)
    page = await _search(bank_sync, token_for(Role.AGENT), f"{token} lan", segment)
    assert (page["total"], page["totalExact"]) == (4, True) and len(cifs(page)) == 3

    # A search that is not a name search counts exactly, whatever the limit.
    everyone = await _search(bank_sync, token_for(Role.AGENT), "", segment)
    assert (everyone["total"], everyone["totalExact"]) == (4, True)
