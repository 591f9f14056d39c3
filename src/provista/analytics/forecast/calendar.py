"""Calendar regressors of the census models: weekday, statutory holiday (法定节假日), make-up workday (调休).

Admissions follow the working week and stop over the long holidays (Spring Festival, National Day), so the
midnight census falls over a holiday and refills after it. The holiday calendar is the State Council's, as
the ``chinesecalendar`` package publishes it; a year it does not know yet has no holidays (its weekends still
count as weekends), which the backtest would show as a larger error around those days.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
import numpy as np
import pandas as pd

# Columns of ``day_features``: six weekday indicators (Monday is the baseline), then the two calendar ones.
FEATURES = ("tue", "wed", "thu", "fri", "sat", "sun", "holiday", "makeup_workday")


@lru_cache(maxsize=64)
def _year(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """Statutory holidays that fall on weekdays, and weekend days worked instead, in ``year``."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    try:
        off = chinese_calendar.get_holidays(first, last, include_weekends=False)
        worked = [d for d in chinese_calendar.get_workdays(first, last) if d.weekday() >= 5]
    except NotImplementedError:  # the calendar does not know this year yet: weekends only
        return frozenset(), frozenset()
    return frozenset(off), frozenset(worked)


def day_features(dates: pd.DatetimeIndex) -> np.ndarray:
    """A matrix, one row per date (consecutive days), of the ``FEATURES`` as 0/1.

    A make-up workday is a Saturday or Sunday worked in exchange for a holiday: it keeps its weekend
    indicator and adds ``makeup_workday``, so the model learns how far it sits from an ordinary weekend.
    """
    if len(dates) == 0:
        return np.zeros((0, len(FEATURES)))
    return _days(dates[0].date(), len(dates))


@lru_cache(maxsize=256)
def _days(first: dt.date, n: int) -> np.ndarray:
    out = np.zeros((n, len(FEATURES)))
    for i in range(n):
        day = first + dt.timedelta(days=i)
        if (weekday := day.weekday()) > 0:
            out[i, weekday - 1] = 1.0
        off, worked = _year(day.year)
        out[i, 6] = day in off
        out[i, 7] = day in worked
    out.flags.writeable = False  # shared by every caller of the cache
    return out
