"""CUSUM on standardised counts (累积和控制图), as R ``surveillance::algo.cusum`` 1.20.3.

With m the in-control mean (default: the mean of all periods before the range), each count is
standardised, e.g. z_t = (y_t - m)/√m for ``trans = "standard"``; C_t = max(0, C_{t-1} + z_t - k) from
C = 0 before the range, alarm when C_t >= h, and the chart is **not** reset after an alarm. The upper
bound is the count that would have raised the alarm, back-transformed: for "standard"
U_t = ceil(√m·(h + k - C_{t-1}) + m). NaN or negative bounds are reported as 0.

Default range (Provista's; R's ``cusum`` needs one): the last two years (2·freq periods), or the second
half of a shorter series.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import RANGE, Detector, Param, choice
from .series import CountSeries


def _standardise(trans: str, x: np.ndarray, m: float, alpha: float) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "standard": lambda: (x - m) / np.sqrt(m),
            "rossi": lambda: (x - 3 * m + 2 * np.sqrt(x * m)) / (2 * np.sqrt(m)),
            "anscombe": lambda: 1.5 * (x ** (2 / 3) - m ** (2 / 3)) / m ** (1 / 6),
            "anscombe2nd": lambda: (
                (x ** (2 / 3) - (m ** (2 / 3) - m ** (-1 / 3) / 9)) / (2 / 3 * m ** (1 / 6))
            ),
            "pearsonNegBin": lambda: (x - m) / np.sqrt(m + alpha * m**2),
            "none": lambda: x.astype(float),
        }[trans]()


def _bound(trans: str, m: float, h: float, k: float, c_prev: np.ndarray, c: np.ndarray, alpha: float):
    """The count at which C_t would reach h, on the count scale."""
    room = h + k - c_prev
    with np.errstate(invalid="ignore"):
        if trans == "standard":
            return np.ceil(np.sqrt(m) * room + m)
        if trans == "rossi":
            s = np.sqrt(m)
            return 2 * s * room + 5 * m - 2 * np.sqrt(4 * m**2 + 2 * m**1.5 * room)
        if trans in ("anscombe", "anscombe2nd"):
            base = 2 / 3 * m ** (1 / 6) * room + (
                m ** (2 / 3) - (m ** (1 / 3) / 9 if trans == "anscombe2nd" else 0)
            )
            return np.where(base < 0, 0.0, np.abs(base) ** 1.5)
        if trans == "pearsonNegBin":
            return np.sqrt(m + alpha * m**2) * room + m
        return h - c


class Cusum(Detector):
    """CUSUM (``algo.cusum``) for a rise over a constant in-control mean."""

    name = "cusum"
    title = "CUSUM"
    params = (
        RANGE,
        Param("k", 1.04, float, "a number (reference value)"),
        Param("h", 2.26, float, "a number > 0 (decision interval)", lambda v: v > 0),
        Param("m", None, float, "a positive number (in-control mean)", lambda v: v > 0),
        choice("trans", "standard", "standard", "rossi", "anscombe", "anscombe2nd", "pearsonNegBin", "none"),
        Param("alpha", 0.1, float, "a number >= 0 (NB dispersion for pearsonNegBin)", lambda v: v >= 0),
    )

    def earliest(self, series: CountSeries) -> int:
        return 1 if self.control["m"] is not None else 2

    def default_first(self, series: CountSeries) -> int:
        return max(series.n - 2 * series.freq + 1, series.n // 2 + 1, self.earliest(series))

    def _score(self, series: CountSeries, t: np.ndarray) -> dict[str, Any]:
        c = self.control
        m = c["m"] if c["m"] is not None else float(np.mean(series.y(np.arange(1, t[0]))))
        self.resolved_["m"] = m
        z = _standardise(c["trans"], series.y(t), m, c["alpha"])
        stat = np.zeros(len(t) + 1)
        for i, zi in enumerate(z):
            # np.maximum, not max(): a NaN (in-control mean 0 and a zero count: 0/0) stays NaN as in R's
            # pmax and raises nothing after it; Python's max(0.0, nan) would reset the sum to 0
            stat[i + 1] = np.maximum(0.0, stat[i] + (zi - c["k"]))
        upper = _bound(c["trans"], m, c["h"], c["k"], stat[:-1], stat[1:], c["alpha"])
        upper = np.where(np.isnan(upper) | (upper < 0), 0.0, upper)
        return {
            "upperbound": upper,
            "alarm": stat[1:] >= c["h"],
            "cusum_stat": stat[1:],
            "m": np.full(len(t), m),
        }
