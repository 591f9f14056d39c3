"""Day weights for when people visit hospitals: season, weekday and Chinese public holidays."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
import numpy as np

from provista.synth.people import EPOCH

# Outpatient volume by weekday (Monday first): Mondays are busiest, weekends quiet.
WEEKDAY_FACTOR = np.array([1.25, 1.1, 1.05, 1.05, 1.0, 0.7, 0.55])
HOLIDAY_FACTOR = 0.45  # statutory holidays (Spring Festival, National Day ...)


def day_to_date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


def months_of(days: np.ndarray) -> np.ndarray:
    """Month index 0-11 of day numbers (days since 1970-01-01)."""
    return ((EPOCH + days.astype("timedelta64[D]")).astype("datetime64[M]").astype(int) % 12).astype(np.int8)


def weekdays_of(days: np.ndarray) -> np.ndarray:
    """Weekday 0 (Monday) - 6 (Sunday) of day numbers; 1970-01-01 was a Thursday."""
    return ((days + 3) % 7).astype(np.int8)


@lru_cache(maxsize=8)
def holidays(first_day: int, last_day: int) -> frozenset[int]:
    """Statutory holiday days in [first_day, last_day], weekends excluded; empty outside known years."""
    out: set[int] = set()
    for year in range(day_to_date(first_day).year, day_to_date(last_day).year + 1):
        try:
            found = chinese_calendar.get_holidays(
                dt.date(year, 1, 1), dt.date(year, 12, 31), include_weekends=False
            )
        except NotImplementedError:
            continue  # the calendar does not know this year: weekends only
        out.update((d - dt.date(1970, 1, 1)).days for d in found)
    return frozenset(out)


@lru_cache(maxsize=8)
def makeup_workdays(first_day: int, last_day: int) -> frozenset[int]:
    """Weekend days that are working days (调休), when the calendar knows the year."""
    out: set[int] = set()
    for day in range(first_day, last_day + 1):
        date = day_to_date(day)
        if date.weekday() >= 5:
            try:
                if chinese_calendar.is_workday(date):
                    out.add(day)
            except NotImplementedError:
                continue
    return frozenset(out)


def visit_day_weights(days: np.ndarray, season: tuple[float, ...], weekday: bool = True) -> np.ndarray:
    """Relative visit volume on each day: season × weekday × holiday; make-up workdays count as Fridays."""
    weights = np.asarray(season)[months_of(days)].astype(float)
    if weekday:
        weights *= WEEKDAY_FACTOR[weekdays_of(days)]
        off, on = holidays(int(days[0]), int(days[-1])), makeup_workdays(int(days[0]), int(days[-1]))
        weights[np.isin(days, np.fromiter(off, dtype=np.int64, count=len(off)))] *= HOLIDAY_FACTOR
        makeup = np.isin(days, np.fromiter(on, dtype=np.int64, count=len(on)))
        weights[makeup] *= WEEKDAY_FACTOR[4] / WEEKDAY_FACTOR[weekdays_of(days[makeup])]
    return weights / weights.sum()
