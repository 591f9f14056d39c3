"""Farrington et al. (1996) as R ``surveillance::algo.farrington`` 1.20.3, and what farringtonFlexible shares.

For each period t: a quasi-Poisson log-linear GLM (intercept, optionally a linear trend in time) on the
reference values — periods t ± w in each of the b previous years — is fitted, the observations are
reweighted by their Anscombe residuals s_i (ω_i ∝ s_i⁻² where s_i > threshold, else constant; scaled to
mean 1) and the model refitted. The trend is kept if it is significant (p < 0.05), b ≥ 3 and the prediction
does not exceed the largest reference value. With μ₀ the prediction, φ = max(dispersion, 1) and
τ = φ + se(μ₀)²/μ₀, the upper bound on the 2/3-power scale is U = (μ₀^{2/3} + z·(4/9·μ₀^{1/3}·τ)^{1/2})^{3/2}
with the **two-sided** z = Φ⁻¹(1 - α/2). An alarm needs (y - μ₀)/(U - μ₀) > 1 and at least 5 cases in the
last 4 periods (``limit54``); otherwise the bound is reported as 0.

Reference periods of a dated series are found by calendar: t's date minus 1..b years (R's ``seq(by =
"-1 year")``), ± w periods, moved to t's weekday (weekly) or day of month (monthly). Index-only series
use t - freq·i ± w. Default range: from the first period with all b·(2w+1) reference values (the
package's own default, (freq·b - w):n, starts where most are missing); an earlier range is evaluated
on the reference values that exist, with a warning, as the package does.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from provista.errors import StatisticalWarning

from .base import RANGE, Detector, DetectorParameterError, Param, choice, parse_bool, parse_int_pair
from .glm import GlmFit, glm_fit
from .series import CountSeries, nearest_same_weekday, shift_months

B = Param("b", 5, int, "a whole number >= 1 (years back)", lambda v: v >= 1)
W = Param("w", 3, int, "a whole number >= 0 (half-window)", lambda v: v >= 0)
REWEIGHT = Param("reweight", True, parse_bool, "TRUE or FALSE")
ALPHA = Param("alpha", 0.05, float, "a probability between 0 and 1", lambda v: 0 < v < 1)
TREND = Param("trend", True, parse_bool, "TRUE or FALSE")
LIMIT54 = Param(
    "limit54",
    (5, 4),
    parse_int_pair,
    "cases,periods with cases >= 0 and periods > 0, e.g. 5,4",
    lambda v: v[0] >= 0 and v[1] > 0,
)
POWERTRANS = choice("powertrans", "2/3", "2/3", "1/2", "none")


def anscombe_residuals(fit: GlmFit, phi: float) -> np.ndarray:
    """Standardised Anscombe residuals 3/2·(y^{2/3}μ^{-1/6} - μ^{1/2}) / √(φ(1 - h))."""
    y, mu = fit.y, fit.mu
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = 1.5 * (y ** (2 / 3) * mu ** (-1 / 6) - mu**0.5)
        return raw / np.sqrt(phi * (1 - fit.hat_values()))


def downweights(s: np.ndarray, threshold: float) -> np.ndarray:
    """ω_i = γ·s_i⁻² where s_i > threshold, γ otherwise; γ makes the weights average 1."""
    high = s > threshold
    with np.errstate(divide="ignore"):
        inv2 = np.where(high, s ** (-2.0), 1.0)
    return inv2 * (len(s) / np.sum(inv2))


def floored(dispersion: float) -> float:
    """R's ``max(dispersion, 1)``, NaN staying NaN."""
    return dispersion if np.isnan(dispersion) else max(dispersion, 1.0)


@dataclass
class ReweightedFit:
    fit: GlmFit
    phi: float
    columns: np.ndarray  # columns of the full design in this fit
    omega: np.ndarray | None = None  # the Anscombe weights, if reweighted

    @property
    def has_trend(self) -> bool:
        return 1 in self.columns

    def flexible_dispersion(self) -> float:
        """The dispersion farringtonFlexible's tests and standard errors use.

        ``algo.farrington.fitGLM.flexible`` overwrites the refitted model's working weights with the
        Anscombe weights, so ``summary.glm`` then sums ω·r² over the working residuals r = (y - μ)/μ.
        """
        if self.omega is None:
            return self.fit.dispersion()
        res, w = self.fit.residuals, self.omega
        return (
            float(np.sum((w * res**2)[w > 0]) / self.fit.df_residual) if self.fit.df_residual > 0 else np.nan
        )


def fit_reweighted(
    x: np.ndarray,
    y: np.ndarray,
    *,
    trend: bool,
    reweight: bool,
    threshold: float,
    offset: np.ndarray | None = None,
    give_up: bool = False,
) -> ReweightedFit | None:
    """Quasi-Poisson fit, then a refit with Anscombe weights. Column 1 of ``x`` is the time trend.

    If the fit does not converge with the trend it is tried without. ``give_up`` (farringtonFlexible)
    returns None when even that fails; algo.farrington goes on with the last fit.
    """
    columns = np.arange(x.shape[1]) if trend else np.delete(np.arange(x.shape[1]), 1)
    fit = glm_fit(x[:, columns], y, offset=offset)
    if not fit.converged:
        if trend:
            columns = np.delete(np.arange(x.shape[1]), 1)
            fit = glm_fit(x[:, columns], y, offset=offset)
        if give_up and not fit.converged:
            return None
    phi = floored(fit.dispersion())
    if not reweight:
        return ReweightedFit(fit, phi, columns)
    omega = downweights(anscombe_residuals(fit, phi), threshold)
    fit = glm_fit(x[:, columns], y, prior_weights=omega, offset=offset)
    return ReweightedFit(fit, floored(fit.dispersion()), columns, omega)


POWERS = {"none": 1.0, "1/2": 0.5, "2/3": 2 / 3}


def power_bound(mu0: float, se_fit: float, phi: float, powertrans: str, z: float) -> tuple[float, float]:
    """Upper bound and the SD on the power scale: (μ₀^e + z·sd)^{1/e}, sd² = var(h(Y₀) - h(μ₀))."""
    e = POWERS[powertrans]
    tau = phi + se_fit**2 / mu0
    sd = {1.0: np.sqrt(mu0 * tau), 0.5: np.sqrt(tau / 4)}.get(e, np.sqrt(4 / 9 * mu0 ** (1 / 3) * tau))
    return float((mu0**e + z * sd) ** (1 / e)), float(sd)


def enough_cases(series: CountSeries, k: int, limit54: tuple[int, int]) -> bool:
    """At least limit54[0] cases in the limit54[1] periods up to and including k."""
    cases, periods = limit54
    return bool(series.y(np.arange(max(1, k - periods + 1), k + 1)).sum() >= cases)


def year_back(series: CountSeries, day: dt.date, years: int) -> dt.date:
    """``day`` minus whole years (R's rollover), moved to ``day``'s weekday for weekly series."""
    back = shift_months(day, -12 * years)
    return nearest_same_weekday(back, day) if series.freq == 52 else back


def require_calendar(series: CountSeries, method: str) -> None:
    if series.dated and series.freq not in (12, 52, 365):
        raise DetectorParameterError(
            f"{method}: a dated series needs freq 12, 52 or 365, not {series.freq}",
            hint="use weekly, daily or monthly dates, or an index-only series (empty date column)",
        )


def classic_reference(series: CountSeries, k: int, b: int, w: int) -> list[int | None]:
    """Reference periods of k in R's order (None where the period is not in the series)."""
    if not series.dated:
        return [
            i if i >= 1 else None
            for year in range(b, 0, -1)
            for i in range(k - series.freq * year - w, k - series.freq * year + w + 1)
        ]
    assert series.dates is not None
    t0 = series.dates[k - 1]
    days: list[dt.date] = []
    for year in range(1, b + 1):
        ref = shift_months(t0, -12 * year)
        for step in range(-w, w + 1):
            if series.freq == 12:
                day = shift_months(ref, step)
                days.append(day - dt.timedelta(days=day.day - t0.day))
            elif series.freq == 52:
                days.append(nearest_same_weekday(ref + dt.timedelta(weeks=step), t0))
            else:
                days.append(ref + dt.timedelta(days=step))
    return [series.index_of(day) for day in days]


class Farrington(Detector):
    """Classic Farrington (``algo.farrington``, fitFun ``algo.farrington.fitGLM.fast``)."""

    name = "farrington"
    title = "Farrington (classic)"
    params = (RANGE, B, W, REWEIGHT, ALPHA, TREND, LIMIT54, POWERTRANS)

    def _first_with(self, series: CountSeries, enough: Callable[[list[int | None]], bool]) -> int:
        require_calendar(series, self.name)
        b, w = self.control["b"], self.control["w"]
        return next(
            (k for k in range(1, series.n + 1) if enough(classic_reference(series, k, b, w))), series.n + 1
        )

    def earliest(self, series: CountSeries) -> int:
        """First period with 3 reference values; like the package, fewer than b·(2w+1) only warn."""
        return self._first_with(series, lambda refs: sum(i is not None for i in refs) >= 3)

    def default_first(self, series: CountSeries) -> int:
        """First period with all b·(2w+1) reference values (the package's default range has fewer)."""
        return self._first_with(series, lambda refs: None not in refs)

    def _score(self, series: CountSeries, t: np.ndarray) -> dict[str, Any]:
        c = self.control
        z = float(stats.norm.ppf(1 - c["alpha"] / 2))
        rows, incomplete = [], []
        for k in t:
            all_refs = classic_reference(series, int(k), c["b"], c["w"])
            refs = [i for i in all_refs if i is not None]
            if len(refs) < len(all_refs):
                incomplete.append(int(k))
            wtime = np.array(refs, dtype=float)
            y = series.y(np.array(refs))
            x = np.column_stack([np.ones(len(refs)), wtime])
            model = fit_reweighted(x, y, trend=c["trend"], reweight=c["reweight"], threshold=1.0)
            assert model is not None
            do_trend = model.has_trend
            if do_trend:
                significant = model.fit.coefficient_p_value(1) < 0.05
                mu_hat, _ = model.fit.predict_response(np.array([1.0, k]))
                if not (c["b"] >= 3 and significant and mu_hat <= y.max()):
                    do_trend = False
                    model = fit_reweighted(x, y, trend=False, reweight=c["reweight"], threshold=1.0)
                    assert model is not None
            if not model.fit.converged:
                warnings.warn(f"farrington: no GLM convergence at t = {k}", StatisticalWarning, stacklevel=2)
            mu0, se = model.fit.predict_response(np.array([1.0, k])[model.columns], dispersion=model.phi)
            upper, sd = power_bound(mu0, se, model.phi, c["powertrans"], z)
            e = POWERS[c["powertrans"]]
            yk = float(series.y(k))
            enough = enough_cases(series, int(k), c["limit54"])
            score = (yk - mu0) / (upper - mu0) if enough else 0.0
            rows.append(
                {
                    "upperbound": upper if enough else 0.0,
                    "alarm": pd.NA if np.isnan(score) else bool(score > 1),
                    "trend_fitted": do_trend,
                    "prob_q": float(stats.norm.cdf(yk**e, loc=mu0**e, scale=sd)),
                    "pred_median": float(stats.norm.ppf(0.5, loc=mu0**e, scale=sd) ** (1 / e)),
                    "ref_idx": ";".join(map(str, refs)),
                }
            )
        if incomplete:
            warnings.warn(
                f"{self.name}: {len(incomplete)} period(s) from t = {incomplete[0]} on lack some of the "
                f"{c['b'] * (2 * c['w'] + 1)} reference values (before the first period); fitted on the rest",
                StatisticalWarning,
                stacklevel=3,
            )
        table = pd.DataFrame(rows)
        return {name: table[name].to_numpy() for name in table.columns} | {
            "alarm": table["alarm"].astype("boolean")
        }
