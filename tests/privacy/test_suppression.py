"""Small-cell suppression: hand-worked tables, and an independent attacker who tries to recover every
hidden small count from what is published (LP bounds) and fails to."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provista.privacy.public import (
    suppress_cells,
    suppress_parts,
    suppress_region_values,
    suppress_series_with_sums,
)
from provista.privacy.suppression import (
    PROTECTION,
    CellTable,
    hierarchy,
    one_way,
    protect,
    two_way,
)
from tests.privacy.attack import Attacker


def attack(table: CellTable, hidden: np.ndarray) -> Attacker:
    """What a reader of the published cells can set up: every shown cell is a number, every relation holds."""
    a = Attacker()
    for i in np.flatnonzero(hidden):
        a.unknown(int(i))
    for rel in table.relations:
        terms, constant = [], 0.0
        for m, coef in [(rel.total, 1.0)] + [(p, -1.0) for p in rel.parts]:
            if hidden[m]:
                terms.append((m, coef))
            else:
                constant += coef * table.values[m]
        if terms:
            a.equation(terms, constant)
    return a


def widths(table: CellTable, hidden: np.ndarray, cells: np.ndarray) -> dict[int, float]:
    a = attack(table, hidden)
    return {int(c): (lambda lo_hi: lo_hi[1] - lo_hi[0])(a.interval(int(c))) for c in np.flatnonzero(cells)}


def test_primary_suppression_alone_is_recovered_by_subtraction() -> None:
    """The attack works: hiding only the small cell of a row with its total gives it away exactly."""
    table = one_way([1, 20, 30])
    naive = np.array([True, False, False, False])
    assert widths(table, naive, naive) == {0: 0.0}


def test_one_way_table_hand_worked() -> None:
    # 1 and 2 hidden: the reader knows they add up to 3, so each lies in [0, 3]: too narrow.
    # Hiding the cheapest further part (20) makes it [0, 23].
    table = one_way([1, 20, 30, 2])
    result = protect(table)
    assert result.primary.tolist() == [True, False, False, True, False]
    assert result.complementary.tolist() == [False, True, False, False, False]
    assert widths(table, result.suppressed, result.primary) == {0: 23.0, 3: 23.0}


def test_zero_is_published_and_is_not_a_small_cell() -> None:
    result = protect(one_way([0, 7, 9, 0]))
    assert not result.suppressed.any()


def test_two_per_row_is_not_enough_when_the_hidden_values_are_tiny() -> None:
    """Two hidden cells per row and column, yet the pair sums to 3: the LP check hides more."""
    m = np.array([[1, 2, 30], [2, 1, 30], [40, 40, 40]])
    table = two_way(m)
    result = protect(table)
    w = widths(table, result.suppressed, result.primary)
    assert set(w) == {0, 1, 3, 4} and min(w.values()) >= PROTECTION
    assert result.complementary[:9].any()  # more than the four small cells


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda r: st.integers(1, 7).flatmap(
            lambda c: st.lists(
                st.lists(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 8, 13, 40]), min_size=c, max_size=c),
                min_size=r,
                max_size=r,
            )
        )
    )
)
def test_no_hidden_small_cell_of_a_table_with_margins_can_be_narrowed(rows: list[list[int]]) -> None:
    table = two_way(np.array(rows))
    result = protect(table)
    assert result.exposed == []
    w = widths(table, result.suppressed, result.primary)
    assert all(v >= PROTECTION for v in w.values()), w


def test_counties_within_cities_within_the_province() -> None:
    counties = {"330102": 3, "330105": 40, "330106": 25, "330203": 1, "330205": 1, "330206": 60}
    table, names = hierarchy(counties, [{c: c[:4] + "00" for c in counties}])
    result = protect(table)
    w = widths(table, result.suppressed, result.primary)
    assert {names[i] for i in w} == {"330102", "330203", "330205"}
    assert min(w.values()) >= PROTECTION


def test_region_values_hide_a_small_county_and_a_county_that_would_reveal_it() -> None:
    hidden_counties, hidden_cities = suppress_region_values(
        {"330100": 68, "330200": 70}, {"330102": 3, "330105": 40, "330106": 25, "330203": 10, "330206": 60}
    )
    assert "330102" in hidden_counties and len(hidden_counties & {"330105", "330106"}) >= 1
    assert "330100" not in hidden_cities  # the city's total alone reveals no county


def test_parts_of_a_shown_total() -> None:
    assert suppress_parts([2, 50, 7, 0]) == [True, False, True, False]


def test_a_day_hidden_in_a_series_hides_the_weekly_sum_that_holds_it() -> None:
    days = [10.0] * 14
    days[12] = 3.0
    shown, sums = suppress_series_with_sums(days, [range(7, 14), range(0, 7)])
    assert shown[12] is None and sums[0] is None and sums[1] == 70.0
    assert [v for i, v in enumerate(shown) if i != 12] == [10.0] * 13


def test_a_long_table_keeps_its_shape_and_says_which_absent_cells_are_hidden() -> None:
    frame = pd.DataFrame(
        {"name": ["a", "a", "b", "b", "c"], "t": [1, 2, 1, 2, 2], "n": [3.0, 30.0, 40.0, 2.0, 50.0]}
    )
    out = suppress_cells(frame, "name", "t", "n")
    got = {(r.name, r.t): r.n for r in out.itertuples()}
    assert got[("a", 1)] is None and got[("b", 2)] is None
    assert ("c", 1) not in got or got[("c", 1)] is None  # a zero shows as absent unless it is hidden
    assert set(frame[["name", "t"]].itertuples(index=False, name=None)) <= set(got)


@pytest.mark.parametrize("shape, lam", [((12, 20), 3), ((15, 24), 8)])
def test_larger_tables_of_small_counts_are_protected(shape: tuple[int, int], lam: int) -> None:
    m = np.random.default_rng(11).poisson(lam, size=shape)
    table = two_way(m)
    result = protect(table)
    assert result.primary.sum() > 10 and result.exposed == []
    assert min(widths(table, result.suppressed, result.primary).values()) >= PROTECTION
