"""Every county × disease series of notifiable-disease reports (by onset date) as one count matrix.

All series of a frequency share one calendar: every day from the first to the last onset date in
``case_report`` (daily), or every whole ISO week (Monday to Sunday) inside that span (weekly; the partial
weeks at either end are left out, as their counts would look low). Series without a single case in the
span are not kept: no detector can raise an alarm on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from provista.analytics.surveillance.detection_config import FREQUENCIES
from provista.analytics.surveillance.detectors import CountSeries
from provista.engine import DuckDBEngine


@dataclass(frozen=True)
class SeriesPanel:
    """Counts [series, period] of one frequency; row i is county ``counties[i]`` × disease ``diseases[i]``."""

    frequency: str  # daily | weekly
    dates: tuple[dt.date, ...]  # first day of each period
    counties: np.ndarray
    diseases: np.ndarray
    counts: np.ndarray

    @property
    def freq(self) -> int:
        return FREQUENCIES[self.frequency]

    @property
    def days(self) -> int:
        """Days per period."""
        return 1 if self.frequency == "daily" else 7

    def __len__(self) -> int:
        return len(self.counties)

    def series(self, row: int) -> CountSeries:
        """One row as the detectors take it (dated, so calendar methods find last year's periods)."""
        return CountSeries(observed=self.counts[row], dates=self.dates, freq=self.freq)

    def template(self) -> CountSeries:
        """A series on this calendar (all zero), for what depends on the calendar only."""
        return CountSeries(observed=np.zeros(len(self.dates)), dates=self.dates, freq=self.freq)

    def period_end(self, t: np.ndarray) -> np.ndarray:
        """Last day of the 1-based periods ``t`` (datetime64[D])."""
        start = np.array(self.dates, dtype="datetime64[D]")[np.asarray(t) - 1]
        return start + np.timedelta64(self.days - 1, "D")


def onset_span(engine: DuckDBEngine) -> tuple[dt.date, dt.date] | None:
    """First and last onset date in ``case_report`` (None when it is empty)."""
    row = engine.query("SELECT min(onset_date) AS a, max(onset_date) AS b FROM case_report")
    first, last = row.loc[0, "a"], row.loc[0, "b"]
    if pd.isna(first) or pd.isna(last):
        return None
    return pd.Timestamp(first).date(), pd.Timestamp(last).date()


def calendar(frequency: str, first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
    """Period starts: every day of [first, last], or every Monday whose whole week lies inside it."""
    if frequency == "daily":
        return tuple(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    weeks = ((last - monday).days + 1) // 7
    return tuple(monday + dt.timedelta(weeks=i) for i in range(max(weeks, 0)))


def load_panels(
    engine: DuckDBEngine,
    case_classes: Sequence[str],
    frequencies: Sequence[str] = tuple(FREQUENCIES),
    *,
    county: str | None = None,
    disease: str | None = None,
) -> dict[str, SeriesPanel]:
    """The panels of ``frequencies`` (optionally one county and/or disease only), from one query."""
    span = onset_span(engine)
    where = ["onset_date IS NOT NULL", "county_code IS NOT NULL", "disease IS NOT NULL"]
    params: list[object] = []
    if case_classes:
        where.append(f"case_class IN ({', '.join('?' for _ in case_classes)})")
        params += list(case_classes)
    for column, value in (("county_code", county), ("disease", disease)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    daily = engine.query(
        f"""SELECT county_code, disease, onset_date::DATE AS day, count(*)::DOUBLE AS n FROM case_report
            WHERE {" AND ".join(where)} GROUP BY ALL""",
        params,
    )
    panels = {}
    for frequency in frequencies:
        dates = calendar(frequency, *span) if span else ()
        panels[frequency] = _panel(daily, frequency, dates)
    return panels


def _panel(daily: pd.DataFrame, frequency: str, dates: tuple[dt.date, ...]) -> SeriesPanel:
    empty = np.array([], dtype=object)
    if not dates or daily.empty:
        return SeriesPanel(frequency, dates, empty, empty, np.zeros((0, len(dates))))
    start = np.datetime64(dates[0], "D")
    day = daily["day"].to_numpy(dtype="datetime64[D]")
    period = (day - start).astype(np.int64) // (1 if frequency == "daily" else 7)
    keep = (day >= start) & (period < len(dates))
    frame = daily.loc[keep, ["county_code", "disease", "n"]].assign(period=period[keep])
    keys = frame[["county_code", "disease"]].drop_duplicates().sort_values(["county_code", "disease"])
    row = pd.MultiIndex.from_frame(keys).get_indexer(
        pd.MultiIndex.from_frame(frame[["county_code", "disease"]])
    )
    counts = np.zeros((len(keys), len(dates)))
    np.add.at(counts, (row, frame["period"].to_numpy()), frame["n"].to_numpy())
    return SeriesPanel(
        frequency,
        dates,
        keys["county_code"].to_numpy(dtype=object),
        keys["disease"].to_numpy(dtype=object),
        counts,
    )
