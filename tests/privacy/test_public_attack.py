"""The public role's answers on the tiny province, attacked: an LP over several answers at once tries to
recover each hidden small count, and cannot narrow any below the protection width."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from provista.engine import DuckDBEngine
from provista.privacy.suppression import PROTECTION, THRESHOLD
from tests.api.conftest import login
from tests.privacy.attack import Attacker

GROUPINGS = {"type": "v.type", "department": "v.department", "level": "h.level_en", "city": "h.city_code"}


@pytest.fixture(scope="module")
def db(warehouse: Path):  # type: ignore[no-untyped-def]
    with DuckDBEngine(warehouse, read_only=True) as engine:
        yield engine


def _truth(db: DuckDBEngine, by: str) -> dict[tuple[str, str], float]:
    rows = db.query(
        f"""SELECT strftime(date_trunc('week', v.day), '%Y-%m-%d') AS t, {GROUPINGS[by]}::VARCHAR AS name,
                   sum(v.visits)::DOUBLE AS n
            FROM mart_visits_daily v JOIN hospital h USING (hospital_id) GROUP BY 1, 2"""
    )
    return {(r.name, r.t): r.n for r in rows.itertuples()}


def _published(answer: dict[str, Any]) -> dict[tuple[str, str], float | None]:
    return {(s["name"], t): v for s in answer["series"] for t, v in s["points"]}


def _attack(tables: dict[str, dict[tuple[str, str], float | None]], grand: float) -> Attacker:
    """Each grouping's cells of a week add up to that week's total (one unknown shared by all
    groupings); the weeks add up to the grand total, which the attacker is given."""
    a = Attacker()
    weeks = sorted({t for cells in tables.values() for _, t in cells})
    for by, cells in tables.items():
        by_week: dict[str, list[tuple[str, float | None]]] = defaultdict(list)
        for (name, t), v in cells.items():
            by_week[t].append((name, v))
        for t in weeks:
            terms: list[tuple[object, float]] = [(("week", t), -1.0)]
            constant = 0.0
            for name, v in by_week[t]:
                if v is None:
                    terms.append(((by, name, t), 1.0))
                else:
                    constant += v
            a.equation(terms, constant)
    a.equation([(("week", t), 1.0) for t in weeks], -grand)
    return a


def test_trends_hide_every_small_count_and_no_combination_of_groupings_recovers_one(app, db) -> None:  # type: ignore[no-untyped-def]
    client = login(app, "public")
    tables, truths = {}, {}
    for by in GROUPINGS:
        answer = client.get(f"/api/trends/visits?by={by}&grain=week")
        assert answer.status_code == 200
        tables[by], truths[by] = _published(answer.json()), _truth(db, by)
    grand = sum(truths["type"].values())
    small = []
    for by, truth in truths.items():
        for cell, n in truth.items():
            shown = tables[by].get(cell, 0.0)
            if 0 < n < THRESHOLD:
                assert shown is None, (by, cell, n)
                small.append((by, *cell))
            elif shown is not None:
                assert shown == n, (by, cell)  # what is shown is the truth
    assert len(small) > 50  # the tiny province has plenty of small weekly counts
    attacker = _attack(tables, grand)
    narrow = []
    for cell in small:
        lo, hi = attacker.interval(cell)
        if hi - lo < PROTECTION - 1e-6:
            narrow.append((cell, lo, hi))
    assert narrow == []


def test_the_attack_recovers_counts_when_only_small_cells_are_hidden(db) -> None:  # type: ignore[no-untyped-def]
    """The same attack on primary suppression alone pins small counts down: the test has teeth."""
    tables, small = {}, []
    for by in GROUPINGS:
        truth = _truth(db, by)
        tables[by] = {cell: (None if 0 < n < THRESHOLD else n) for cell, n in truth.items()}
        small += [(by, *cell) for cell, n in truth.items() if 0 < n < THRESHOLD]
    grand = sum(_truth(db, "type").values())
    attacker = _attack(tables, grand)
    recovered = 0
    for cell in small[:80]:
        lo, hi = attacker.interval(cell)
        recovered += hi - lo < 1e-6
    assert recovered > 0


def test_the_map_hides_small_county_counts_so_that_the_city_totals_cannot_reveal_them(app, db) -> None:  # type: ignore[no-untyped-def]
    client = login(app, "public")
    cities = client.get("/api/map/metric?metric=admissions&level=city").json()
    counties = []
    for city in cities:
        got = client.get(f"/api/map/metric?metric=admissions&level=county&parent={city['code']}")
        assert got.status_code == 200
        counties += got.json()
    staff = {r["code"]: r["numerator"] for r in login(app, "admin").get(
        "/api/map/metric?metric=admissions&level=county").json()}  # fmt: skip
    small = [c["code"] for c in counties if 0 < staff[c["code"]] < THRESHOLD]
    assert small, "the tiny province should have counties with 1-4 admissions in a year"
    for c in counties:
        if c["code"] in small:
            assert c["value"] is None and c["numerator"] is None
        elif c["numerator"] is not None:
            assert c["numerator"] == staff[c["code"]]
    a = Attacker()
    for city in cities:
        terms: list[tuple[object, float]] = []
        constant = 0.0 if city["numerator"] is None else -city["numerator"]
        if city["numerator"] is None:
            terms.append((city["code"], -1.0))
        for c in counties:
            if c["code"][:4] == city["code"][:4]:
                if c["numerator"] is None:
                    terms.append((c["code"], 1.0))
                else:
                    constant += c["numerator"]
        a.equation(terms, constant)
    province = sum(staff.values())  # the attacker is even given the province's total
    a.equation(
        [(c["code"], 1.0) for c in cities if c["numerator"] is None],
        sum(c["numerator"] for c in cities if c["numerator"] is not None) - province,
    )
    for code in small:
        lo, hi = a.interval(code)
        assert hi - lo >= PROTECTION, (code, lo, hi)


def test_staff_see_every_count(app) -> None:  # type: ignore[no-untyped-def]
    answer = login(app, "admin").get("/api/trends/visits?by=department&grain=week").json()
    assert all(v is not None for s in answer["series"] for _, v in s["points"])
