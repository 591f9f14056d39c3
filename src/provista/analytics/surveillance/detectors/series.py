"""A count time series (病例数时间序列) as the detectors see it, and how it is read from CSV.

The layout is that of R ``surveillance``'s ``sts`` objects: ``t`` is the 1-based row index every
algorithm uses, ``date`` is the start of the period (empty for index-only series), ``observed`` the count,
``population`` an optional denominator. ``freq`` is periods per year as R's ``sts@freq``: 52 for weekly,
365 for daily, 12 for monthly data.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from provista.errors import ProvistaError

FREQ_BY_SPACING = {7: 52, 1: 365}
KNOWN_FREQS = (12, 52, 365)


class CountSeriesError(ProvistaError, ValueError):
    """A count series (file or in-memory) is malformed; says where."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = ", ".join(
            part
            for part in (
                file,
                f"row {row}" if row is not None else None,
                f"field '{field}'" if field else None,
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.file, self.row, self.field = file, row, field


@dataclass(frozen=True)
class CountSeries:
    """Counts per period, optionally dated; ``t`` runs 1..n."""

    observed: np.ndarray
    dates: tuple[dt.date, ...] | None = None
    population: np.ndarray | None = None
    freq: int = 52
    _index_of: dict[dt.date, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        observed = np.asarray(self.observed, dtype=float)
        object.__setattr__(self, "observed", observed)
        if observed.ndim != 1 or len(observed) == 0:
            raise CountSeriesError("a count series needs at least one period")
        if np.any(~np.isfinite(observed)) or np.any(observed < 0) or np.any(observed != np.round(observed)):
            raise CountSeriesError("counts must be whole numbers >= 0")
        if self.dates is not None:
            if len(self.dates) != len(observed):
                raise CountSeriesError("dates and counts differ in length")
            self._index_of.update({d: i + 1 for i, d in enumerate(self.dates)})
        if self.population is not None:
            population = np.asarray(self.population, dtype=float)
            if len(population) != len(observed) or np.any(~(population > 0)):
                raise CountSeriesError("population must be positive, one value per period")
            object.__setattr__(self, "population", population)
        if self.freq < 1:
            raise CountSeriesError(f"freq must be a positive number of periods per year, not {self.freq}")

    @property
    def n(self) -> int:
        return len(self.observed)

    @property
    def dated(self) -> bool:
        return self.dates is not None

    @property
    def t(self) -> np.ndarray:
        return np.arange(1, self.n + 1)

    def y(self, t: int | np.ndarray) -> np.ndarray:
        """Counts at 1-based periods ``t``."""
        return self.observed[np.asarray(t) - 1]

    def index_of(self, day: dt.date) -> int | None:
        """The 1-based period that starts on ``day``, or None."""
        return self._index_of.get(day)

    def pop(self) -> np.ndarray:
        return self.population if self.population is not None else np.ones(self.n)

    def day_spacing(self) -> int:
        """Days between the first two periods (R's ``diff(vectorOfDates)[1]``)."""
        assert self.dates is not None
        return (self.dates[1] - self.dates[0]).days if self.n > 1 else 7


def shift_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months the way R's ``seq.Date(by = "month")`` does it (POSIXlt rollover).

    A day past the end of the target month rolls into the next one: 2008-02-29 minus one year is 2007-03-01.
    """
    month0 = day.year * 12 + day.month - 1 + months
    year, month = divmod(month0, 12)
    return dt.date(year, month + 1, 1) + dt.timedelta(days=day.day - 1)


def nearest_same_weekday(day: dt.date, like: dt.date) -> dt.date:
    """The date nearest ``day`` that falls on ``like``'s weekday (at most 3 days away)."""
    forward = (like.weekday() - day.weekday()) % 7
    return day + dt.timedelta(days=forward if forward < 7 - forward else forward - 7)


def infer_freq(dates: list[dt.date]) -> int:
    """Periods per year from the spacing of consecutive dates: 7 days → 52, 1 day → 365, a month → 12."""
    if len(dates) < 2:
        return 52
    if all(shift_months(a, 1) == b for a, b in itertools.pairwise(dates)):
        return 12
    spacing = {(b - a).days for a, b in itertools.pairwise(dates)}
    if len(spacing) == 1 and (days := spacing.pop()) in FREQ_BY_SPACING:
        return FREQ_BY_SPACING[days]
    raise CountSeriesError(
        "dates are not evenly weekly, daily or monthly",
        hint="give one row per week (7 days apart), per day or per month, with no gaps; "
        "or leave 'date' empty for an index-only series",
    )


def read_count_csv(path: Path, freq: int | None = None) -> CountSeries:
    """Read ``t, date, observed[, population]`` (other columns ignored); every failure names row and field."""
    name = str(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise CountSeriesError("file not found", file=name, hint="check the --input path") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CountSeriesError(
            f"not a readable CSV ({exc})", file=name, hint="save the series as UTF-8 CSV"
        ) from None
    missing = [c for c in ("t", "date", "observed") if c not in frame.columns]
    if missing:
        raise CountSeriesError(
            f"missing column(s) {', '.join(missing)} (found: {', '.join(frame.columns)})",
            file=name,
            hint="the input needs the columns t, date (may be empty), observed and optionally population",
        )
    if frame.empty:
        raise CountSeriesError("no rows", file=name, hint="give at least one period")
    observed = _whole_numbers(frame, "observed", name)
    t = _whole_numbers(frame, "t", name)
    for row, value in enumerate(t, start=2):
        if value != row - 1:
            raise CountSeriesError(
                f"t is {value:g}, expected {row - 1}",
                file=name,
                row=row,
                field="t",
                hint="t must count the periods 1, 2, 3, … in file order with no gaps",
            )
    dates = _dates(frame, name)
    population = None
    if "population" in frame.columns:
        population = _numbers(frame, "population", name, positive=True)
    if freq is None and dates is not None:
        try:
            freq = infer_freq(dates)
        except CountSeriesError as exc:
            raise CountSeriesError(exc.message, file=name, field="date", hint=exc.hint) from None
    return CountSeries(
        observed=observed,
        dates=tuple(dates) if dates is not None else None,
        population=population,
        freq=freq or 52,
    )


def _numbers(frame: pd.DataFrame, column: str, file: str, *, positive: bool = False) -> np.ndarray:
    values = pd.to_numeric(frame[column].str.strip(), errors="coerce").to_numpy(dtype=float)
    for i, value in enumerate(values):
        if not np.isfinite(value) or (positive and value <= 0):
            raise CountSeriesError(
                f"'{frame[column].iloc[i]}' is not a {'positive ' if positive else ''}number",
                file=file,
                row=i + 2,
                field=column,
                hint=f"fix the value of {column} on that row (row 1 is the header)",
            )
    return values


def _whole_numbers(frame: pd.DataFrame, column: str, file: str) -> np.ndarray:
    values = _numbers(frame, column, file)
    for i, value in enumerate(values):
        if value < 0 or value != round(value):
            raise CountSeriesError(
                f"'{frame[column].iloc[i]}' is not a whole number >= 0",
                file=file,
                row=i + 2,
                field=column,
                hint=f"{column} must be a count (0, 1, 2, …)",
            )
    return values


def _dates(frame: pd.DataFrame, file: str) -> list[dt.date] | None:
    raw = frame["date"].str.strip()
    if (raw == "").all():
        return None
    dates: list[dt.date] = []
    for i, text in enumerate(raw):
        try:
            dates.append(dt.date.fromisoformat(text))
        except ValueError:
            raise CountSeriesError(
                f"'{text}' is not a date (YYYY-MM-DD)" if text else "date is empty but other rows have one",
                file=file,
                row=i + 2,
                field="date",
                hint="give every row an ISO date, or leave the whole column empty for an index-only series",
            ) from None
        if i and dates[i] <= dates[i - 1]:
            raise CountSeriesError(
                f"date {text} does not come after {dates[i - 1]}",
                file=file,
                row=i + 2,
                field="date",
                hint="rows must be in date order, one per period",
            )
    return dates
