"""Epidemic curves (流行曲线): case counts by onset day or ISO week, zero-filled, optionally per group."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from provista.analytics.epi.periods import period_label, period_start
from provista.analytics.epi.rates import EpiInputError, require_columns


def epidemic_curve(
    cases: pd.DataFrame,
    *,
    interval: str = "day",
    by: Sequence[str] = (),
    date_column: str = "onset_date",
    start: date | str | None = None,
    end: date | str | None = None,
) -> pd.DataFrame:
    """Cases per period of ``date_column`` (one row per case), every period from start to end present.

    ``interval`` is ``day`` or ``week`` (ISO weeks, Monday first). ``start``/``end`` default to the first
    and last dates seen; cases outside them are left out. Columns: the ``by`` columns, ``period_start``,
    ``period`` (label such as 2024-W05) and ``cases``. Cases without a date are left out.
    """
    if interval not in ("day", "week"):
        raise EpiInputError(f"an epidemic curve is by day or week, not '{interval}'", hint="use day or week")
    keys = list(by)
    require_columns(cases, [*keys, date_column], "case report")
    dates = pd.to_datetime(cases[date_column]).dt.normalize()
    lo = pd.Timestamp(start) if start is not None else dates.min()
    hi = pd.Timestamp(end) if end is not None else dates.max()
    inside = dates.notna() & (dates >= lo) & (dates <= hi) if pd.notna(lo) else dates.notna()
    frame = cases.loc[inside, keys].assign(period_start=period_start(dates[inside], interval))
    if pd.isna(lo) or pd.isna(hi):
        return pd.DataFrame(columns=[*keys, "period_start", "period", "cases"])
    first = period_start(pd.Series([lo]), interval).iloc[0]
    last = period_start(pd.Series([hi]), interval).iloc[0]
    periods = pd.date_range(first, last, freq="D" if interval == "day" else "7D")
    counts = frame.groupby([*keys, "period_start"], observed=True, dropna=False).size().rename("cases")
    if keys:
        groups = frame[keys].drop_duplicates().sort_values(keys)
        grid = groups.merge(pd.DataFrame({"period_start": periods}), how="cross")
    else:
        grid = pd.DataFrame({"period_start": periods})
    out = grid.merge(counts.reset_index(), on=[*keys, "period_start"], how="left")
    out["cases"] = out["cases"].fillna(0).astype("int64")
    out.insert(len(keys) + 1, "period", period_label(out["period_start"], interval))
    return out.reset_index(drop=True)
