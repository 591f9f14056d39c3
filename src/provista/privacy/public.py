"""What the ``public`` role sees: the API's aggregate answers with small cells suppressed.

Each function takes the counts a route computed and says which to hide (``suppression.protect``),
modelling what a reader can add up from the same and from other answers:

- a table of series × time (trends) or rows × columns (heat maps): a two-way table whose margins
  (each series' total, each period's total, the grand total) are taken as published, because another
  grouping or filter of the same counts shows them;
- region values (the map): counties summed into cities into the province, protected as one hierarchy
  so that the city and the county view of the same period agree;
- a daily series with sums over some of its days (the overview's cards);
- a county × week table (notifiable-disease incidence): each week a hierarchy of its own, counties into
  cities into the province, whose weekly total the epidemic curve shows;
- per-region counts of several measures (the operations indicators by city and county): each measure a
  hierarchy, and a ratio hidden when its numerator or denominator is.

Zero is published (it describes nobody). Hidden values come back as ``None`` with nothing else
changed. What this does not stop: differencing across overlapping filters (level × department ×
type) and across different periods of the map; tables released outside the dashboard go through
differential privacy (``provista publish``) instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from provista.privacy.suppression import (
    THRESHOLD,
    CellTable,
    Relation,
    hierarchy,
    one_way,
    protect,
    two_way,
)


def suppress_cells(
    frame: pd.DataFrame, row: str, column: str, value: str, *, threshold: int = THRESHOLD
) -> pd.DataFrame:
    """A long table of counts (one row per ``row`` × ``column`` cell) with small cells and their
    complements set to None.

    Cells absent from ``frame`` count as zero; one hidden as a complement comes back as a None row,
    so that its absence does not say "zero". The margins are taken as published.
    """
    if frame.empty:
        return frame.copy()
    wide = frame.pivot_table(index=row, columns=column, values=value, aggfunc="sum", fill_value=0)
    matrix = wide.to_numpy(dtype=float)
    r, c = matrix.shape
    # The margins are the same whatever the grouping (each period's total, each series' total), so
    # they are protected first, each as a list of parts of the grand total, and stay hidden here.
    row_hidden = _margin_suppression(matrix.sum(axis=1), threshold)
    col_hidden = _margin_suppression(matrix.sum(axis=0), threshold)
    hide = [r * c + i for i in np.flatnonzero(row_hidden)]
    hide += [r * c + r + j for j in np.flatnonzero(col_hidden)]
    result = protect(two_way(matrix, fixed_margins=True), threshold=threshold, hide=hide)
    hidden = result.suppressed[: r * c].reshape(r, c)
    present = matrix > 0
    keep = present | hidden
    out = pd.DataFrame(
        {
            row: np.repeat(wide.index.to_numpy(), c)[keep.ravel()],
            column: np.tile(wide.columns.to_numpy(), r)[keep.ravel()],
            value: pd.Series(
                [None if h else float(v) for v, h in zip(matrix[keep], hidden[keep], strict=True)],
                dtype=object,
            ),
        }
    )
    return out.reset_index(drop=True)


def _margin_suppression(margin: np.ndarray, threshold: int) -> np.ndarray:
    """Which of a table's margins to hide: small ones, and those whose sum with the grand total would
    reveal them."""
    table = one_way(list(margin))
    fixed = CellTable(table.values, table.relations, fixed=frozenset({len(margin)}))
    hidden: np.ndarray = protect(fixed, threshold=threshold).suppressed[: len(margin)]
    return hidden


def suppress_regions(
    counts: Mapping[str, float], shown: Sequence[str], parent: Mapping[str, str]
) -> tuple[set[str], set[str]]:
    """The counties and the cities whose count must be hidden, from the counts per county.

    ``counts``: every county-level key the data has (including codes no region list shows, e.g. a
    hospital registered to a city itself: part of the city's total, never shown alone); ``shown``:
    the county codes an answer lists (absent ones count zero); ``parent``: each key's city. The cities
    sum into the province total, which is taken as published.
    """
    leaves = {code: float(counts.get(code, 0.0)) for code in dict.fromkeys([*shown, *counts])}
    table, names = hierarchy(leaves, [{code: parent[code] for code in leaves}])
    listed = set(shown)
    unlisted = frozenset(i for i, name in enumerate(names[: len(leaves)]) if name not in listed)
    root = len(names) - 1
    result = protect(CellTable(table.values, table.relations, hidden=unlisted, fixed=frozenset({root})))
    hidden = {int(i) for i in np.flatnonzero(result.suppressed)}
    return (
        {names[i] for i in hidden if i < len(leaves)},
        {names[i] for i in hidden if len(leaves) <= i < root},
    )


def suppress_region_values(
    cities: Mapping[str, float], counties: Mapping[str, float]
) -> tuple[set[str], set[str]]:
    """The counties and cities to hide, given each city's count and each county's (6-digit codes).

    A city's count beyond its counties' (a hospital registered to the city itself) is a part of the
    city that no answer shows alone.
    """
    counts = dict(counties)
    for city, n in cities.items():
        rest = n - sum(v for code, v in counties.items() if code[:4] == city[:4])
        if rest > 0:
            counts[city[:4] + "+"] = rest
    parent = {code: code[:4] + "00" for code in counts}
    return suppress_regions(counts, list(counties), parent)


def suppress_region_columns(
    cities: pd.DataFrame, counties: pd.DataFrame, columns: Sequence[str]
) -> dict[str, set[str]]:
    """For each column of counts, the city and county codes whose value must be hidden.

    ``cities`` and ``counties``: indexed by 6-digit region code, one column per count (the same counts
    grouped by city and by county). Each column is protected as its own hierarchy; the province total is
    taken as published. A zero-free column with no value of 1–4 hides nothing and costs no LP.
    """
    hidden: dict[str, set[str]] = {}
    for column in columns:
        city = {str(c): float(v) for c, v in cities[column].fillna(0).items()}
        county = {
            str(c): float(v) for c, v in counties[column].fillna(0).items() if not str(c).endswith("00")
        }
        if not any(0 < v < THRESHOLD for v in [*city.values(), *county.values()]):
            hidden[column] = set()
            continue
        hidden_counties, hidden_cities = suppress_region_values(city, county)
        hidden[column] = hidden_counties | hidden_cities
    return hidden


def suppress_county_weeks(table: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A county × week table of counts (index: 6-digit county codes, columns: weeks): which county-weeks
    to hide (a boolean array shaped like ``table``) and which city-weeks (per 6-digit city code).

    Each week is protected on its own as counties into cities into the province, the province's weekly
    total taken as published (the epidemic curve shows it; a city's curve shows the city's weeks, so a
    city-week hidden as a complement is hidden there too). A week with no count of 1–4 costs no LP.
    """
    values = table.to_numpy(dtype=float)
    codes = [str(c) for c in table.index]
    parent = {code: code[:4] + "00" for code in codes}
    city_codes = sorted(set(parent.values()))
    hidden = np.zeros(values.shape, dtype=bool)
    city_hidden = {c: np.zeros(values.shape[1], dtype=bool) for c in city_codes}
    for w in range(values.shape[1]):
        column = values[:, w]
        if not ((column > 0) & (column < THRESHOLD)).any():
            continue
        counties, cities = suppress_regions(dict(zip(codes, column, strict=True)), codes, parent)
        hidden[:, w] = [code in counties for code in codes]
        for c in cities:
            city_hidden[c][w] = True
    return hidden, city_hidden


def suppress_parts(parts: Sequence[float]) -> list[bool]:
    """Which parts of a published total (a county's hospitals) to hide; the total is taken as shown."""
    values = [float(v) for v in parts]
    table = one_way(values)
    result = protect(CellTable(table.values, table.relations, fixed=frozenset({len(values)})))
    return [bool(x) for x in result.suppressed[: len(values)]]


def suppress_series_with_sums(
    series: Sequence[float], sums: Sequence[Sequence[int]], *, sums_published: bool = False
) -> tuple[list[float | None], list[float | None]]:
    """A series of counts (e.g. visits per day) and sums over some of its positions (a week's total).

    Values of at least the threshold are taken as shown elsewhere (a daily total in the trends), so
    only small values and the sums are hidden; with ``sums_published`` (another answer shows them, as
    the weekly curve shows the weeks of the daily one) the complements are small days only.
    """
    values = [float(v) for v in series]
    n = len(values)
    totals = [sum(values[i] for i in members) for members in sums]
    relations = [Relation(n + k, tuple(members)) for k, members in enumerate(sums)]
    fixed = frozenset(i for i, v in enumerate(values) if not 0 < v < THRESHOLD)
    if sums_published:
        fixed |= frozenset(range(n, n + len(sums)))
    result = protect(CellTable(np.array(values + totals), relations, fixed=fixed))
    shown: list[float | None] = [
        None if hide else v for v, hide in zip(values + totals, result.suppressed, strict=True)
    ]
    return shown[:n], shown[n:]


def suppress_small(values: Sequence[float | None]) -> list[float | None]:
    """Counts with no published relation among them: only the small ones are hidden."""
    return [None if v is not None and 0 < v < THRESHOLD else v for v in values]
