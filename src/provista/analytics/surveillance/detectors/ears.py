"""CDC EARS C1, C2, C3 (早期异常报告系统), as R ``surveillance::earsC`` 1.20.3 computes them.

With a reference window of ``baseline`` periods, mean Ȳ and sample SD s (n - 1), z = Φ⁻¹(1 - alpha):

- C1: reference y[t-baseline .. t-1]; U = Ȳ + z·max(s, minSigma).
- C2: reference y[t-baseline-2 .. t-3] (a two-period guard band); U as C1.
- C3: with C2_i = (y_i - Ȳ_i) / max(s_i, minSigma) over C2's reference of period i, the package's bound is
  U = max(0, y_t + s_t·(z - [max(0, C2_{t-2} - 1) + max(0, C2_{t-1} - 1)])). It uses y_t where the help page
  says Ȳ and leaves out C2_t, so "y > U" means "the lagged part exceeds z and y > 0"; the textbook
  C3 = Σ_{i=t-2..t} max(0, C2_i - 1) is given beside it (``stat_C3_textbook``).

Alarm when y > U (strict). With minSigma = 0 and a constant reference window C1/C2 give U = Ȳ, C3 gives NA.
Default alpha: 0.001 (C1, C2), 0.025 (C3).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from .base import RANGE, Detector, DetectorParameterError, Param, lagged
from .series import CountSeries


def _probability(v: float) -> bool:
    return 0 < v < 1


class _Ears(Detector):
    guard: ClassVar[int]  # periods between t and its reference window (0 for C1, 2 for C2)
    default_alpha: ClassVar[float] = 0.001
    params = (
        RANGE,
        Param("method", None, str, "the --method's own (C1 for ears-c1, …); choose C2/C3 with --method"),
        Param("baseline", 7, int, "a whole number >= 3", lambda v: v >= 3),
        Param("minSigma", 0.0, float, "a number >= 0", lambda v: v >= 0),
        Param("alpha", None, float, "a probability between 0 and 1", _probability),
    )

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        own = self.name.rsplit("-", 1)[1].upper()
        if self.control["method"] not in (None, own):
            raise DetectorParameterError(
                f"{self.name}: method={self.control['method']} contradicts --method {self.name}",
                hint=f"use --method ears-{str(self.control['method']).lower()} (and no method parameter)",
            )

    @property
    def z(self) -> float:
        alpha = self.control["alpha"] if self.control["alpha"] is not None else self.default_alpha
        return float(stats.norm.ppf(1 - alpha))

    def earliest(self, series: CountSeries) -> int:
        return self.control["baseline"] + self.guard + 1

    def reference(self, series: CountSeries, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and max(SD, minSigma) of each period's reference window."""
        b = self.control["baseline"]
        window = lagged(series, t, range(self.guard + 1, self.guard + b + 1))
        return window.mean(axis=1), np.maximum(window.std(axis=1, ddof=1), self.control["minSigma"])


def _z_scores(y: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (y - mean) / sd


def _exceeds(y: np.ndarray, bound: np.ndarray) -> pd.Series:
    """y > U, NA where U is NaN (as R)."""
    return pd.Series(y > bound, dtype="boolean").mask(np.isnan(bound))


class EarsC1(_Ears):
    """EARS C1: the last ``baseline`` periods as reference."""

    name = "ears-c1"
    title = "EARS C1"
    guard = 0

    def _score(self, series: CountSeries, t: np.ndarray) -> dict[str, Any]:
        y = series.y(t)
        mean, sd = self.reference(series, t)
        upper = mean + self.z * sd
        return {
            "upperbound": upper,
            "alarm": _exceeds(y, upper),
            "ref_mean": mean,
            "ref_sd": sd,
            "stat_C1": _z_scores(y, mean, sd),
        }


class EarsC2(_Ears):
    """EARS C2: reference lagged by a two-period guard band."""

    name = "ears-c2"
    title = "EARS C2"
    guard = 2

    def _score(self, series: CountSeries, t: np.ndarray) -> dict[str, Any]:
        y = series.y(t)
        mean, sd = self.reference(series, t)
        upper = mean + self.z * sd
        return {
            "upperbound": upper,
            "alarm": _exceeds(y, upper),
            "ref_mean": mean,
            "ref_sd": sd,
            "stat_C2": _z_scores(y, mean, sd),
        }


class EarsC3(_Ears):
    """EARS C3: the C2 statistics of the two previous periods, as the package combines them."""

    name = "ears-c3"
    title = "EARS C3"
    guard = 2
    default_alpha = 0.025

    def earliest(self, series: CountSeries) -> int:
        return self.control["baseline"] + 5

    def _score(self, series: CountSeries, t: np.ndarray) -> dict[str, Any]:
        y = series.y(t)
        mean, sd = self.reference(series, t)
        c2 = {}
        for lag in (0, 1, 2):
            m, s = self.reference(series, t - lag)
            c2[lag] = _z_scores(series.y(t - lag), m, s)
        lagged_part = np.maximum(0, c2[2] - 1) + np.maximum(0, c2[1] - 1)
        with np.errstate(invalid="ignore"):
            upper = np.maximum(0, y + sd * (self.z - lagged_part))
        return {
            "upperbound": upper,
            "alarm": _exceeds(y, upper),
            "ref_mean": mean,
            "ref_sd": sd,
            "stat_C2": c2[0],
            "stat_C2_lag1": c2[1],
            "stat_C2_lag2": c2[2],
            "stat_C3_textbook": lagged_part + np.maximum(0, c2[0] - 1),
        }
