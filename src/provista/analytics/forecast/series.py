"""Daily occupied-bed series from the midnight census (``bed_census``), per department and per hospital.

A census day can be missing (a row quarantined, a day not sent). The series are made complete by rules a
reader can check:

- a department's gap of at most ``MAX_GAP_DAYS`` days between two census days is filled by a straight line
  (a census moves little in a week); a longer gap stays unknown (``NaN``); filled days are not *observed*,
  and a backtest scores only observed days;
- a department counts from its first census day; one whose last census day is more than ``MAX_GAP_DAYS``
  before the warehouse's last is taken as closed (no series of its own, zero in its hospital's total);
- a hospital's total is the sum of its departments, unknown on a day any open department is unknown, and
  observed on a day every open department is.

Every series ends on the warehouse's last census day, so all forecasts start the same day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from provista.analytics.forecast.models import ForecastError

if TYPE_CHECKING:
    from provista.engine import DuckDBEngine

MAX_GAP_DAYS = 7


@dataclass(frozen=True)
class CensusSeries:
    """One hospital's (``department`` None) or one department's daily occupied beds."""

    hospital_id: str
    department: str | None
    occupied: pd.Series  # float, indexed by consecutive days; NaN where unknown
    observed: pd.Series  # bool, same index: the value came from census rows, not from a filled gap
    open_beds: int  # on the last census day (departments open then)

    @property
    def grain(self) -> str:
        return "hospital" if self.department is None else "department"

    @property
    def label(self) -> str:
        return self.hospital_id if self.department is None else f"{self.hospital_id}/{self.department}"


def read_census(
    engine: DuckDBEngine, hospitals: Sequence[str] | None = None, since: dt.date | None = None
) -> pd.DataFrame:
    """Census rows (hospital_id, department, date, occupied_beds, open_beds) of ``hospitals`` (None: all)."""
    frame = engine.query(
        """SELECT hospital_id, department, date::DATE AS date, occupied_beds::DOUBLE AS occupied_beds,
                  open_beds::DOUBLE AS open_beds
           FROM bed_census
           WHERE (? IS NULL OR list_contains(?::VARCHAR[], hospital_id)) AND (? IS NULL OR date >= ?)
             AND occupied_beds IS NOT NULL
           ORDER BY hospital_id, department, date""",
        [None if hospitals is None else 1, list(hospitals or []), since, since],
    )
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def last_census_day(engine: DuckDBEngine) -> dt.date | None:
    """The warehouse's last census day (None without a census)."""
    last = engine.query("SELECT max(date)::DATE AS d FROM bed_census").loc[0, "d"]
    return None if pd.isna(last) else pd.Timestamp(last).date()


def _fill_short_gaps(values: np.ndarray) -> np.ndarray:
    """Straight lines over runs of at most ``MAX_GAP_DAYS`` unknown days between two known ones."""
    known = np.flatnonzero(~np.isnan(values))
    out = values.copy()
    if len(known) < 2:
        return out
    short = np.flatnonzero((np.diff(known) > 1) & (np.diff(known) <= MAX_GAP_DAYS + 1))
    for a, b in zip(known[short], known[short + 1], strict=True):
        out[a + 1 : b] = np.interp(np.arange(a + 1, b), [a, b], [values[a], values[b]])
    return out


def census_series(
    census: pd.DataFrame, *, departments: bool = True, totals: bool = True, end: dt.date | None = None
) -> list[CensusSeries]:
    """The department series and/or hospital totals of census rows, each ending on ``end`` (default: the
    rows' last day)."""
    if census.empty:
        return []
    keys = ["hospital_id", "department", "date"]
    twice = census[census.duplicated(keys, keep=False)]
    if not twice.empty:
        first = twice.iloc[0]
        raise ForecastError(
            f"bed_census has {len(twice)} rows for the same hospital, department and day "
            f"(first: {first['hospital_id']} {first['department']} {first['date']:%Y-%m-%d})",
            hint="rebuild the warehouse with `provista build`; a census day is one row",
        )
    last = pd.Timestamp(end) if end is not None else census["date"].max()
    days = pd.date_range(census["date"].min(), last, freq="D")
    wide = census.pivot(index="date", columns=["hospital_id", "department"], values="occupied_beds")
    beds = census.pivot(index="date", columns=["hospital_id", "department"], values="open_beds")
    wide, beds = wide.reindex(days), beds.reindex(days)
    out: list[CensusSeries] = []
    hospitals: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray, int]]] = {}
    for (hospital_id, department), column in wide.items():
        values = column.to_numpy(dtype=float)
        seen = ~np.isnan(values)
        known = np.flatnonzero(seen)
        if not len(known):
            continue
        first, final = int(known[0]), int(known[-1])
        is_open = len(days) - 1 - final <= MAX_GAP_DAYS
        filled = _fill_short_gaps(values)
        active = (np.arange(len(days)) >= first) & ((np.arange(len(days)) <= final) | is_open)
        open_beds = int(beds[(hospital_id, department)].iloc[final]) if is_open else 0
        hospitals.setdefault(str(hospital_id), []).append((filled, seen, active, open_beds))
        if departments and is_open:
            index = days[first:]
            out.append(
                CensusSeries(
                    str(hospital_id),
                    str(department),
                    pd.Series(filled[first:], index=index),
                    pd.Series(seen[first:], index=index),
                    open_beds,
                )
            )
    if totals:
        for hospital_id, parts in hospitals.items():
            start = min(int(np.flatnonzero(active)[0]) for _, _, active, _ in parts)
            total = np.zeros(len(days))
            observed = np.ones(len(days), dtype=bool)
            for filled, seen, active, _ in parts:
                total += np.where(active, filled, 0.0)  # an unknown day of an open department stays unknown
                observed &= seen | ~active
            index = days[start:]
            out.append(
                CensusSeries(
                    hospital_id,
                    None,
                    pd.Series(total[start:], index=index),
                    pd.Series(observed[start:] & ~np.isnan(total[start:]), index=index),
                    sum(b for _, _, _, b in parts),
                )
            )
    return sorted(out, key=lambda s: (s.hospital_id, s.department or ""))


def history_points(series: CensusSeries, days: int) -> list[dict[str, Any]]:
    """The last ``days`` days: date, occupied beds (None where unknown), and whether the value was filled
    over a short gap rather than received."""
    tail = series.occupied.iloc[-days:]
    seen = series.observed.loc[tail.index].to_numpy()
    return [
        {"date": day.date(), "occupied": None if np.isnan(value) else float(value), "filled": not known}
        for day, value, known in zip(tail.index, tail.to_numpy(), seen, strict=True)
    ]
