"""One detector over every series of a panel, fast, with the detector's own thresholds and alarms.

Each detector still does its own arithmetic; what changes is how often it is called:

- EARS C1-C3 look back a fixed number of periods and need no calendar, so the panel's series are laid
  end to end and each detector runs once per chunk of series; periods whose baseline would reach into the
  previous series are dropped.
- The moving percentile method's historical windows depend on the calendar only, which every series of a
  panel shares: they are found once (by the detector) and the percentiles taken over the whole matrix.
- Farrington and farringtonFlexible fit each period's GLM on its own, and raise no alarm unless the
  period has ``limit54`` cases (5 in the last 4 periods) and at least ``min_count``: only the runs of
  such periods are handed to the detector.
- CUSUM and GLR carry their statistic from period to period: every series that reaches ``min_count``
  somewhere is run whole.

The last two go series by series, in worker processes when there are many series.

``tests/analytics/surveillance/test_build_alerts.py`` checks every path against the detector run on each
series directly.
"""

from __future__ import annotations

import multiprocessing as mp
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from provista.analytics.surveillance.detection_config import MethodConfig
from provista.analytics.surveillance.detectors import DETECTORS, CountSeries, Detector, DetectorRangeError
from provista.analytics.surveillance.detectors.mpm import MovingPercentile
from provista.analytics.surveillance.panel import SeriesPanel
from provista.errors import StatisticalWarning

STACKED = frozenset({"ears-c1", "ears-c2", "ears-c3"})
PERIODWISE = frozenset({"farrington", "farrington-flexible", "mpm", *STACKED})  # a period's result: its own
STACK_CELLS = 250_000  # periods per stacked run (the EARS window matrix is 7-10 times that)
WINDOW_CELLS = 4_000_000  # historical window sums held at once by the percentile method
PARALLEL_MIN_WORK = 5_000  # periods to judge below which worker processes cost more than they save
Tick = Callable[[int, int], None]
Task = tuple[int, list[tuple[int, int]] | None]  # panel row, and the ranges to judge (None: the default)


@dataclass
class Alarms:
    """The alarm periods of one method on one panel that reach ``min_count``."""

    method: str
    frequency: str
    row: np.ndarray  # panel row (series)
    t: np.ndarray  # 1-based period
    observed: np.ndarray  # what the threshold is compared with (mpm: the cases in the window)
    threshold: np.ndarray  # the detector's upperbound
    evaluated: tuple[int, int] | None  # the periods judged (None: the series are too short)
    series_run: int = 0  # series the detector was run on (the others cannot reach min_count)
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.t)


def make_detector(config: MethodConfig, first: int | None = None, last: int | None = None) -> Detector:
    """The configured detector; with ``first`` and ``last``, judging only those periods."""
    params: dict[str, Any] = config.kwargs
    if first is not None and last is not None:
        params["range"] = (first, last)
    return DETECTORS[config.method](**params)


def evaluated_range(panel: SeriesPanel, config: MethodConfig) -> tuple[int, int] | None:
    """The periods the method judges on this calendar: from its default first period to the last."""
    n = len(panel.dates)
    if n == 0:
        return None
    try:
        first = make_detector(config).default_first(panel.template())
    except DetectorRangeError:
        return None
    return (first, n) if first <= n else None


def scan(panel: SeriesPanel, config: MethodConfig, tick: Tick | None = None, jobs: int = 1) -> Alarms:
    """Every alarm of ``config.method`` on every series of ``panel`` with at least ``min_count``.

    ``jobs`` worker processes share the methods that run series by series (Farrington, CUSUM, GLR).
    """
    report = tick or (lambda done, total: None)
    span = evaluated_range(panel, config)
    none = np.array([], dtype=np.int64)
    out = Alarms(config.method, panel.frequency, none, none, none.astype(float), none.astype(float), span)
    if span is None or len(panel) == 0:
        report(len(panel), len(panel))
        return out
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if config.method in STACKED:
            parts, out.series_run = _stacked(panel, config, span, report)
        elif config.method == "mpm":
            parts, out.series_run = _windowed(panel, config, span, report)
        elif config.method in PERIODWISE:
            parts, out.series_run = _periodwise(panel, config, span, report, jobs)
        else:
            parts, out.series_run = _sequential(panel, config, span, report, jobs)
    out.warnings = sorted({str(w.message) for w in caught})
    if parts:
        row, t, observed, threshold = (np.concatenate(p) for p in zip(*parts, strict=True))
        keep = observed >= config.min_count
        order = np.lexsort((t[keep], row[keep]))
        out.row, out.t = row[keep][order], t[keep][order]
        out.observed, out.threshold = observed[keep][order], threshold[keep][order]
    return out


Part = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _alarm_rows(table: pd.DataFrame, value: str = "observed") -> Part:
    hit = table["alarm"].fillna(False).to_numpy(dtype=bool)
    rows = table[hit]
    t = rows["t"].to_numpy(dtype=np.int64)
    return (
        np.zeros(len(t), dtype=np.int64),
        t,
        rows[value].to_numpy(dtype=float),
        rows["upperbound"].to_numpy(dtype=float),
    )


def _stacked(
    panel: SeriesPanel, config: MethodConfig, span: tuple[int, int], report: Tick
) -> tuple[list[Part], int]:
    n, (first, last) = len(panel.dates), span
    rows = np.flatnonzero(panel.counts[:, first - 1 : last].max(axis=1) >= config.min_count)
    per_run = max(1, STACK_CELLS // n)
    parts = []
    for start in range(0, len(rows), per_run):
        chunk = rows[start : start + per_run]
        flat = CountSeries(observed=panel.counts[chunk].ravel(), freq=panel.freq)
        part = _alarm_rows(make_detector(config, first, flat.n).detect(flat).table)
        which, t0 = np.divmod(part[1] - 1, n)
        ok = (t0 + 1 >= first) & (t0 + 1 <= last)
        parts.append((chunk[which[ok]], t0[ok] + 1, part[2][ok], part[3][ok]))
        report(min(start + per_run, len(rows)), len(rows))
    return parts, len(rows)


def _windowed(
    panel: SeriesPanel, config: MethodConfig, span: tuple[int, int], report: Tick
) -> tuple[list[Part], int]:
    """The moving percentile method as ``MovingPercentile._score`` computes it, for many series at once."""
    mpm = make_detector(config)
    assert isinstance(mpm, MovingPercentile)
    template = panel.template()
    size = mpm.window(template)
    ts = np.arange(span[0], span[1] + 1)
    ends = [mpm.window_ends(template, int(k)) for k in ts]
    sums = np.concatenate([np.zeros((len(panel), 1)), np.cumsum(panel.counts, axis=1)], axis=1)
    current = sums[:, ts] - sums[:, ts - size]
    rows = np.flatnonzero(current.max(axis=1) >= config.min_count)
    by_length: dict[int, list[int]] = {}
    for i, e in enumerate(ends):
        by_length.setdefault(len(e), []).append(i)
    per_chunk = max(1, WINDOW_CELLS // max(1, len(ts) * max(by_length)))
    parts = []
    for start in range(0, len(rows), per_chunk):
        chunk = rows[start : start + per_chunk]
        upper = np.empty((len(chunk), len(ts)))
        for idx in by_length.values():
            last_days = np.array([ends[i] for i in idx])
            windows = sums[chunk][:, last_days] - sums[chunk][:, last_days - size]
            upper[:, np.array(idx)] = np.percentile(windows, mpm.control["percentile"], axis=-1)
        alarm = current[chunk] > upper
        which, col = np.nonzero(alarm)
        parts.append((chunk[which], ts[col], current[chunk][which, col], upper[which, col]))
        report(min(start + per_chunk, len(rows)), len(rows))
    return parts, len(rows)


def _periodwise(
    panel: SeriesPanel, config: MethodConfig, span: tuple[int, int], report: Tick, jobs: int
) -> tuple[list[Part], int]:
    first, last = span
    cases, periods = make_detector(config).control["limit54"]
    counts = panel.counts
    window = np.cumsum(np.concatenate([np.zeros((len(panel), periods)), counts], axis=1), axis=1)
    recent = window[:, periods:] - window[:, :-periods]  # cases in the last `periods` periods up to t
    can = (counts >= max(config.min_count, 1)) & (recent >= cases)
    can[:, : first - 1] = False
    can[:, last:] = False
    rows = np.flatnonzero(can.any(axis=1))
    tasks: list[Task] = [(int(row), _runs(np.flatnonzero(can[row]) + 1)) for row in rows]
    return _by_series(panel, config, tasks, report, jobs), len(rows)


def _sequential(
    panel: SeriesPanel, config: MethodConfig, span: tuple[int, int], report: Tick, jobs: int
) -> tuple[list[Part], int]:
    first, last = span
    rows = np.flatnonzero(panel.counts[:, first - 1 : last].max(axis=1) >= config.min_count)
    tasks: list[Task] = [(int(row), None) for row in rows]
    return _by_series(panel, config, tasks, report, jobs), len(rows)


def _by_series(
    panel: SeriesPanel, config: MethodConfig, tasks: list[Task], report: Tick, jobs: int
) -> list[Part]:
    """Run the detector on each task's series, in ``jobs`` worker processes when there are many."""
    span = panel.counts.shape[1]
    work = sum(span if ranges is None else sum(b - a + 1 for a, b in ranges) for _, ranges in tasks)
    if jobs <= 1 or work < PARALLEL_MIN_WORK:
        parts: list[Part] = []
        for done, task in enumerate(tasks, start=1):
            parts += _series_alarms(panel, config, [task])
            report(done, len(tasks))
        return parts
    size = max(1, -(-len(tasks) // (jobs * 8)))
    payloads = []
    for i in range(0, len(tasks), size):
        chunk = tasks[i : i + size]
        rows = np.array([row for row, _ in chunk])
        sub = SeriesPanel(
            panel.frequency, panel.dates, panel.counties[rows], panel.diseases[rows], panel.counts[rows]
        )
        payloads.append((sub, config, [(j, ranges) for j, (_, ranges) in enumerate(chunk)], rows))
    parts, done = [], 0
    # forkserver, not fork: the parent may hold DuckDB's threads (as the build's loaders do)
    with mp.get_context("forkserver").Pool(jobs) as pool:
        for found, messages, n in pool.imap_unordered(_chunk_alarms, payloads):
            parts += found
            for message in messages:
                warnings.warn(message, StatisticalWarning, stacklevel=2)
            done += n
            report(done, len(tasks))
    return parts


def _chunk_alarms(
    payload: tuple[SeriesPanel, MethodConfig, list[Task], np.ndarray],
) -> tuple[list[Part], list[str], int]:
    """A worker's share: alarms with the parent's row numbers, and the warnings raised on the way."""
    panel, config, tasks, rows = payload
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = _series_alarms(panel, config, tasks)
    return [(rows[p[0]], *p[1:]) for p in found], sorted({str(w.message) for w in caught}), len(tasks)


def _series_alarms(panel: SeriesPanel, config: MethodConfig, tasks: list[Task]) -> list[Part]:
    parts = []
    for row, ranges in tasks:
        series = panel.series(row)
        for first, last in ranges if ranges is not None else [(None, None)]:
            part = _alarm_rows(make_detector(config, first, last).detect(series).table)
            parts.append((np.full(len(part[1]), row), *part[1:]))
    return parts


def _runs(t: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of consecutive integers in sorted ``t`` as (first, last)."""
    if len(t) == 0:
        return []
    breaks = np.flatnonzero(np.diff(t) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(t) - 1]])
    return [(int(t[s]), int(t[e])) for s, e in zip(starts, ends, strict=True)]


def signals(alarms: Alarms, floor: float = 1.0) -> pd.DataFrame:
    """Consecutive alarm periods of a series merged: one row per signal.

    Columns: row, t_first, t_last, periods, observed and threshold (of the first period), peak (largest
    observed) and excess, the largest observed / max(threshold, ``floor``) over the signal's periods.
    """
    if len(alarms) == 0:
        return pd.DataFrame(
            columns=["row", "t_first", "t_last", "periods", "observed", "threshold", "peak", "excess"]
        )
    frame = pd.DataFrame(
        {"row": alarms.row, "t": alarms.t, "observed": alarms.observed, "threshold": alarms.threshold}
    )
    new = (frame["row"].diff() != 0) | (frame["t"].diff() != 1)
    frame["signal"] = new.cumsum()
    frame["ratio"] = frame["observed"] / np.maximum(frame["threshold"].fillna(0), floor)
    grouped = frame.groupby("signal", sort=True)
    return pd.DataFrame(
        {
            "row": grouped["row"].first(),
            "t_first": grouped["t"].first(),
            "t_last": grouped["t"].last(),
            "periods": grouped["t"].size(),
            "observed": grouped["observed"].first(),
            "threshold": grouped["threshold"].first(),
            "peak": grouped["observed"].max(),
            "excess": grouped["ratio"].max(),
        }
    ).reset_index(drop=True)
