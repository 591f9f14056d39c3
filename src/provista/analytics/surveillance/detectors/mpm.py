"""Moving percentile method (移动百分位数法) of China's infectious-disease early-warning system CIDARS.

There is no reference implementation to match; this is the exact definition used here:

- The current count is the sum over the most recent ``window`` periods, S(t) = y[t-window+1] + … + y[t]
  (``window`` defaults to 7 days: 7 for a daily series, 1 for weekly or monthly ones).
- For each of the ``b`` previous years j = 1..b (default 3) the comparable period c_j is the same calendar
  date j years earlier (R's rollover: 29 February → 1 March; weekly series: the nearest day with t's
  weekday; monthly: the same month), or t - j·freq for an index-only series.
- Around it, the windows ending at c_j + i·window for i = -w..w (default w = 2, five windows a year) give
  the historical sums S(c_j + i·window); with the defaults that is 3 × 5 = 15 historical windows. A
  window that would start before the first period, or overlap the current window, is left out.
- upperbound = the P-th percentile (``percentile``, default 80) of the historical sums, by linear
  interpolation between order statistics (Hyndman & Fan type 7, R's and numpy's default).
- alarm = S(t) > upperbound (strict, like the other detectors).

Output columns beyond the common ones: ``window_count`` = S(t), ``n_windows`` and ``ref_idx`` (the last
period of each historical window). Default range: the first period with all b·(2w+1) windows; a range
may start earlier as long as at least one historical window exists.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .base import RANGE, Detector, Param
from .farrington import require_calendar, year_back
from .series import CountSeries


class MovingPercentile(Detector):
    """CIDARS moving percentile method on window sums."""

    name = "mpm"
    title = "Moving percentile (CIDARS)"
    params = (
        RANGE,
        Param("window", None, int, "a whole number >= 1 (periods per window)", lambda v: v >= 1),
        Param("b", 3, int, "a whole number >= 1 (years back)", lambda v: v >= 1),
        Param("w", 2, int, "a whole number >= 0 (windows either side)", lambda v: v >= 0),
        Param("percentile", 80.0, float, "a number between 0 and 100", lambda v: 0 <= v <= 100),
    )

    def window(self, series: CountSeries) -> int:
        if self.control["window"] is not None:
            return int(self.control["window"])
        return 7 if series.freq == 365 else 1

    def comparable(self, series: CountSeries, t: int, years: int) -> int | None:
        """The period one or more years before t (None if outside the series)."""
        if not series.dated:
            back = t - years * series.freq
            return back if back >= 1 else None
        assert series.dates is not None
        return series.index_of(year_back(series, series.dates[t - 1], years))

    def window_ends(self, series: CountSeries, t: int) -> list[int]:
        """Last periods of the historical windows of t, year by year."""
        size, w = self.window(series), self.control["w"]
        ends = []
        for years in range(1, self.control["b"] + 1):
            centre = self.comparable(series, t, years)
            if centre is None:
                continue
            ends += [
                e for i in range(-w, w + 1) if (e := centre + i * size) - size + 1 >= 1 and e <= t - size
            ]
        return ends

    def earliest(self, series: CountSeries) -> int:
        require_calendar(series, self.name)
        first = self.window(series)
        return next((t for t in range(first, series.n + 1) if self.window_ends(series, t)), series.n + 1)

    def default_first(self, series: CountSeries) -> int:
        full = self.control["b"] * (2 * self.control["w"] + 1)
        start = self.earliest(series)
        return next(
            (t for t in range(start, series.n + 1) if len(self.window_ends(series, t)) == full), start
        )

    def _score(self, series: CountSeries, t: np.ndarray) -> dict[str, Any]:
        size = self.window(series)
        self.resolved_["window"] = size
        sums = np.concatenate([[0.0], np.cumsum(series.observed)])

        def window_sum(end: int | np.ndarray) -> np.ndarray:
            return sums[end] - sums[np.asarray(end) - size]

        current = window_sum(t)
        ends = [self.window_ends(series, int(k)) for k in t]
        upper = np.array([np.percentile(window_sum(np.array(e)), self.control["percentile"]) for e in ends])
        return {
            "upperbound": upper,
            "alarm": pd.Series(current > upper, dtype="boolean"),
            "window_count": current.astype(int),
            "n_windows": [len(e) for e in ends],
            "ref_idx": [";".join(map(str, e)) for e in ends],
        }
