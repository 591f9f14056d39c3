"""Calendar periods for grouping cases: day, ISO week (Monday to Sunday), month, year."""

from __future__ import annotations

import pandas as pd

from provista.analytics.epi.rates import EpiInputError

INTERVALS = ("day", "week", "month", "year")


def check_interval(interval: str) -> str:
    if interval not in INTERVALS:
        raise EpiInputError(f"unknown interval '{interval}'", hint=f"use one of {', '.join(INTERVALS)}")
    return interval


def period_start(dates: pd.Series, interval: str) -> pd.Series:
    """The first day of each date's period (a week starts on Monday, as ISO 8601 weeks do).

    >>> week = period_start(pd.Series(pd.to_datetime(["2024-01-03", "2024-01-07"])), "week")
    >>> week.dt.strftime("%Y-%m-%d").tolist()
    ['2024-01-01', '2024-01-01']
    """
    check_interval(interval)
    days = pd.to_datetime(dates).dt.normalize()
    if interval == "day":
        return days
    if interval == "week":
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    if interval == "month":
        return days.dt.to_period("M").dt.start_time
    return days.dt.to_period("Y").dt.start_time


def period_label(starts: pd.Series, interval: str) -> pd.Series:
    """Readable labels: 2024-01-03, 2024-W01 (ISO year and week), 2024-01, 2024."""
    check_interval(interval)
    starts = pd.to_datetime(starts)
    if interval == "day":
        return starts.dt.strftime("%Y-%m-%d")
    if interval == "week":
        iso = starts.dt.isocalendar()
        return iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    if interval == "month":
        return starts.dt.strftime("%Y-%m")
    return starts.dt.strftime("%Y")
