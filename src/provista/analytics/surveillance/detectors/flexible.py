"""farringtonFlexible (Noufaily et al. 2013), as R ``surveillance::farringtonFlexible`` 1.20.3.

Differences from the classic method: the baseline can be every past period split into ``noPeriods``
seasonal blocks (the windows t ± w of the b previous years are block ``noPeriods``, the gaps between them
are cut into ``noPeriods - 1`` blocks that enter the GLM as a factor), the last ``pastWeeksNotIncluded``
periods are left out, the trend must reach p < ``pThresholdTrend``, reweighting uses
``weightsThreshold`` (2.58), and the threshold method is one of

- ``delta``: U = (μ₀^{2/3} + z·(4/9·μ₀^{1/3}·τ)^{1/2})^{3/2} with the **one-sided** z = Φ⁻¹(1 - α);
- ``nbPlugin``: U = the (1 - α) quantile of NB(mean μ₀, variance φ·μ₀) (Poisson when φ = 1), μ₀ = exp(η₀);
- ``muan``: the same with μ₀ = exp(the (1 - α) quantile of η₀ ~ N(η̂₀, se²)).

An alarm needs score = (y - fit)/(U - fit) > 1, y > 0 and ``limit54`` (else U is NA). Quirks of the
package kept on purpose: ``predict.glm`` ignores the dispersion it is given, and the fitting function
has overwritten the refitted model's working weights with the Anscombe weights ω, so se(η₀) and the
trend test use Σω·r²/df over the working residuals r = (y - μ)/μ (not floored at 1), while the threshold
uses φ = max(dispersion, 1); for nbPlugin/muan the score uses the log-scale η₀ in place of the mean.
Reference points of a dated weekly series are t's date minus 1..b years moved to the nearest same
weekday; windows running before the first period are cut (as the package does for period 0).
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from provista.errors import StatisticalWarning

from .base import RANGE, Detector, DetectorRangeError, Param, choice, parse_bool
from .farrington import (
    ALPHA,
    LIMIT54,
    POWERS,
    POWERTRANS,
    REWEIGHT,
    TREND,
    B,
    ReweightedFit,
    W,
    enough_cases,
    fit_reweighted,
    power_bound,
    require_calendar,
    year_back,
)
from .series import CountSeries

EPS = np.finfo(float).eps


def _r_colon(a: int, b: int) -> range:
    """R's ``a:b`` (runs backwards when b < a)."""
    return range(a, b + 1) if a <= b else range(a, b - 1, -1)


def reference_points(series: CountSeries, k: int, b: int) -> list[int] | None:
    """k and the same point 1..b years back (nearest same weekday for weekly dates); None if missing."""
    if not series.dated:
        points = [k - series.freq * i for i in range(b + 1)]
        return points if points[-1] >= 1 else None
    assert series.dates is not None
    day = series.dates[k - 1]
    found = [series.index_of(year_back(series, day, i)) for i in range(b + 1)]
    return None if None in found else [i for i in found if i is not None]


def _earliest(series: CountSeries, b: int) -> int:
    """The first period with all its reference points."""
    found = (k for k in range(1, series.n + 1) if reference_points(series, k, b) is not None)
    return next(found, series.n + 1)


@functools.lru_cache(maxsize=32)
def _earliest_on(dates: tuple[dt.date, ...], freq: int, b: int) -> int:
    """``_earliest`` of any series on this calendar, found once per calendar (not once per judged run)."""
    return _earliest(CountSeries(observed=np.zeros(len(dates)), dates=dates, freq=freq), b)


def discrete_quantile(p: float, cdf: Callable[[float], float]) -> float:
    """Smallest x = 0, 1, … with cdf(x) >= p·(1 - 64ε) (R's ``qnbinom``/``qpois`` with their fuzz)."""
    target = p * (1 - 64 * EPS)
    hi, step = 0.0, 1.0
    while cdf(hi) < target:
        hi += step
        step *= 2
    lo = -1.0 if hi == 0 else hi - step / 2  # cdf(lo) < target
    while hi - lo > 1:
        mid = np.floor((lo + hi) / 2)
        lo, hi = (lo, mid) if cdf(mid) >= target else (mid, hi)
    return hi


def nb_plugin_bound(mu0: float, phi: float, alpha: float, y: float) -> tuple[float, float]:
    """(1 - alpha) quantile of NB(mean mu0, variance phi·mu0), Poisson if phi = 1; and P(Y >= y)."""
    if phi > 1:
        size, prob = mu0 / (phi - 1), 1 / phi
        upper = discrete_quantile(1 - alpha, lambda x: float(special.betainc(size, x + 1, prob)))
        tail = float(special.betainc(y, size, 1 - prob)) if y > 0 else 1.0
    else:
        upper = discrete_quantile(1 - alpha, lambda x: float(special.gammaincc(x + 1, mu0)))
        tail = float(special.gammainc(y, mu0)) if y > 0 else 1.0
    return upper, tail


class FarringtonFlexible(Detector):
    """farringtonFlexible with thresholdMethod delta, nbPlugin (Noufaily) or muan."""

    name = "farrington-flexible"
    title = "farringtonFlexible"
    params = (
        RANGE,
        B,
        W,
        REWEIGHT,
        Param("weightsThreshold", 2.58, float, "a number > 0", lambda v: v > 0),
        ALPHA,
        TREND,
        Param("pThresholdTrend", 0.05, float, "a probability between 0 and 1", lambda v: 0 <= v <= 1),
        LIMIT54,
        POWERTRANS,
        Param("populationOffset", False, parse_bool, "TRUE or FALSE"),
        Param("noPeriods", 1, int, "a whole number >= 1", lambda v: v >= 1),
        Param("pastWeeksNotIncluded", None, int, "a whole number >= 0", lambda v: v >= 0),
        choice("thresholdMethod", "delta", "delta", "nbPlugin", "muan"),
    )

    def reference_points(self, series: CountSeries, k: int) -> list[int] | None:
        """k and the same point 1..b years back (nearest same weekday for weekly dates); None if missing."""
        return reference_points(series, k, self.control["b"])

    def earliest(self, series: CountSeries) -> int:
        require_calendar(series, self.name)
        if series.dates is not None:  # the calendar's alone: the series of a panel share it
            return _earliest_on(series.dates, series.freq, self.control["b"])
        return _earliest(series, self.control["b"])

    def default_first(self, series: CountSeries) -> int:
        """R's default (freq·b + w + 1), or later if the calendar needs it."""
        return max(series.freq * self.control["b"] + self.control["w"] + 1, self.earliest(series))

    def blocks(self, series: CountSeries, k: int, points: list[int]) -> np.ndarray:
        """Seasonal block of every period (NaN: not in the baseline), as the package's ``blocks()``."""
        w, p = self.control["w"], self.control["noPeriods"]
        blocks = np.full(series.n + 1, np.nan)  # position 0 stands for R's ignored index 0

        def put(where: range, value: int) -> None:
            idx = np.array([i for i in where if 0 <= i <= series.n], dtype=int)
            blocks[idx] = value

        put(_r_colon(k - w, k), p)
        weeks = sorted(points, reverse=True)
        for i in range(1, len(weeks)):
            ref = weeks[i]
            put(_r_colon(ref - w, ref + w), p)
            if p == 1:
                continue
            gap = weeks[i - 1] - 2 * w - 1 - ref
            if gap < p - (2 * w + 1):
                raise DetectorRangeError(
                    f"{self.name}: noPeriods={p} is too many for the {gap} periods between windows",
                    hint="use fewer noPeriods or a smaller w",
                )
            lengths = [gap // (p - 1) + (1 if j < gap % (p - 1) else 0) for j in range(p - 1)]
            starts = np.concatenate([[0], np.cumsum(lengths)])
            for j in range(p - 1):
                put(_r_colon(ref + w + 1 + int(starts[j]), ref + w + int(starts[j + 1])), j + 1)
        blocks[0] = np.nan
        return blocks

    def _design(self, series: CountSeries, k: int, idx: np.ndarray, seas: np.ndarray):
        """Design (intercept, wtime, season dummies) for the baseline and the row for period k."""
        if series.dated:
            assert series.dates is not None
            spacing = series.day_spacing()
            origin = series.dates[idx[0] - 1]
            wtime = np.array([(series.dates[i - 1] - origin).days / spacing for i in idx])
            wtime_k = (series.dates[k - 1] - origin).days / spacing
        else:
            wtime, wtime_k = idx.astype(float), float(k)
        columns = [np.ones(len(idx)), wtime]
        row = [1.0, wtime_k]
        if self.control["noPeriods"] != 1:
            for level in np.unique(seas)[1:]:
                columns.append((seas == level).astype(float))
                row.append(float(level == self.control["noPeriods"]))
        return np.column_stack(columns), np.array(row)

    def _fit(
        self, x: np.ndarray, y: np.ndarray, offset: np.ndarray | None, trend: bool
    ) -> ReweightedFit | None:
        c = self.control
        return fit_reweighted(
            x,
            y,
            trend=trend,
            reweight=c["reweight"],
            threshold=c["weightsThreshold"],
            offset=offset,
            give_up=True,
        )

    def _score(self, series: CountSeries, t: np.ndarray) -> dict[str, Any]:
        c = self.control
        pwni = c["pastWeeksNotIncluded"] if c["pastWeeksNotIncluded"] is not None else c["w"]
        rows = []
        for k in map(int, t):
            points = self.reference_points(series, k)
            if points is None:
                raise DetectorRangeError(
                    f"{self.name}: the reference periods of t = {k} are not all in the series",
                    hint="decrease b or start the range later",
                )
            blocks = self.blocks(series, k, points)
            kept = blocks.copy()
            kept[[i for i in _r_colon(k - pwni, k) if 0 <= i <= series.n]] = np.nan
            idx = np.flatnonzero(~np.isnan(kept))
            x, x0 = self._design(series, k, idx, blocks[idx])
            y = series.y(idx)
            offset = np.log(series.pop()[idx - 1]) if c["populationOffset"] else None
            offset0 = float(np.log(series.pop()[k - 1])) if c["populationOffset"] else 0.0
            rows.append(
                self._one_period(series, k, x, x0, y, offset, offset0) | {"ref_idx": ";".join(map(str, idx))}
            )
        table = pd.DataFrame(rows)
        columns = {name: table[name].to_numpy() for name in table.columns}
        columns["alarm"] = table["alarm"].astype("boolean")
        columns["trend_fitted"] = table["trend_fitted"].astype("boolean")
        if c["thresholdMethod"] == "delta":
            del columns["mu0"]
        return columns

    def _one_period(
        self,
        series: CountSeries,
        k: int,
        x: np.ndarray,
        x0: np.ndarray,
        y: np.ndarray,
        offset: np.ndarray | None,
        offset0: float,
    ) -> dict[str, Any]:
        c = self.control
        model = self._fit(x, y, offset, c["trend"])
        do_trend = False
        if model is not None and model.has_trend:
            mu_hat, _ = model.fit.predict_response(x0, offset0)
            p_trend = model.fit.coefficient_p_value(1, model.flexible_dispersion())
            significant = p_trend < c["pThresholdTrend"]
            do_trend = c["b"] >= 3 and significant and mu_hat <= y.max()
            if not do_trend:
                model = self._fit(x, y, offset, False)
        if model is None:
            warnings.warn(
                f"{self.name}: the GLM did not converge with or without trend at t = {k}; no result there",
                StatisticalWarning,
                stacklevel=3,
            )
            nan = float("nan")
            return dict.fromkeys(
                ("upperbound", "expected", "pvalue", "score", "phi", "trend_coef", "mu0"), nan
            ) | {
                "alarm": pd.NA,
                "trend_fitted": pd.NA,
            }
        x0 = x0[model.columns]
        yk = float(series.y(k))
        phi = model.phi
        if c["thresholdMethod"] == "delta":
            fit, se = model.fit.predict_response(x0, offset0, model.flexible_dispersion())
            upper, sd = power_bound(fit, se, phi, c["powertrans"], float(stats.norm.ppf(1 - c["alpha"])))
            e = POWERS[c["powertrans"]]
            pvalue = float(stats.norm.sf(yk**e, loc=fit**e, scale=sd))
            mean, mu0 = fit, float("nan")
        else:
            fit, se = model.fit.predict_link(x0, offset0, model.flexible_dispersion())
            mu0 = float(
                np.exp(fit if c["thresholdMethod"] == "nbPlugin" else stats.norm.ppf(1 - c["alpha"], fit, se))
            )
            upper, pvalue = (
                nb_plugin_bound(mu0, phi, c["alpha"], yk) if np.isfinite(mu0) else (np.nan, np.nan)
            )
            mean = float(np.exp(fit))
        score = (yk - fit) / (upper - fit) if not np.isnan(upper) else np.nan
        enough = enough_cases(series, k, c["limit54"])
        return {
            "upperbound": upper if enough else np.nan,
            "alarm": bool(enough and not np.isnan(score) and score > 1 and yk != 0),
            "expected": mean if enough and not np.isnan(upper) else np.nan,
            "pvalue": pvalue,
            "score": score,
            "phi": phi,
            "trend_fitted": do_trend,
            "trend_coef": float(model.fit.coef[1]) if do_trend else np.nan,
            "mu0": mu0,
        }
