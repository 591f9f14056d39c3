"""GLR detectors for a change in level (广义似然比), as R ``surveillance::glrnb`` 1.20.3, change "intercept".

In-control means μ₀,t come from a log-linear GLM y ~ 1 [+ t] + Σ_s cos(2πst/freq) + sin(2πst/freq) fitted
to the periods before the range (t = the row index): Poisson for ``glr-pois``, negative binomial for
``glr-nb`` with α = 1/θ from ``MASS::glm.nb`` unless ``alpha`` is given. Under the alternative the mean is
μ₀,t·e^κ from an unknown change point on; at period n the statistic is

    GLR_n = max_k sup_κ Σ_{t=k..n} log f(y_t; μ₀,t e^κ) / f(y_t; μ₀,t)

with κ ≥ 0 for dir = "inc" (≤ 0 for "dec"); closed form for Poisson (κ̂ = log Σy/Σμ₀), by Newton-Raphson
for the negative binomial (as the package's C code: start 0.5, warm start across k, stop at
|Δκ| ≤ 1e-6 or κ ≤ -18). An alarm is raised when
GLR_n >= c.ARL, and the detector restarts after every alarm (refitting μ₀ first if mu0.refit).
``upperbound`` is the statistic (ret = "value"); ``M`` > 0 limits the change point to the last M periods.
R's ``mu0 = list(S, trend, refit)`` is given as ``mu0.S``, ``mu0.trend``, ``mu0.refit``. Default range
(Provista's; R's ``glrnb`` needs one): the last two years (2·freq periods), or the second half of a
shorter series.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .base import RANGE, Detector, Param, choice, parse_bool
from .glm import POISSON, Family, glm_fit, glm_nb
from .series import CountSeries

GLR_PARAMS = (
    RANGE,
    Param("c.ARL", 5.0, float, "a number > 0 (alarm threshold)", lambda v: v > 0),
    Param("Mtilde", 1, int, "a whole number >= 1", lambda v: v >= 1),
    Param("M", -1, int, "-1 (no window) or a whole number >= 1", lambda v: v == -1 or v >= 1),
    choice("change", "intercept", "intercept"),
    choice("dir", "inc", "inc", "dec"),
    choice("ret", "value", "value"),
    Param("mu0.S", 1, int, "a whole number >= 0 (harmonics)", lambda v: v >= 0),
    Param("mu0.trend", False, parse_bool, "TRUE or FALSE"),
    Param("mu0.refit", False, parse_bool, "TRUE or FALSE"),
)


def poisson_glr(x: np.ndarray, mu0: np.ndarray, n: int, direction: int, m: int, mtilde: int) -> float:
    """GLR at n (0-based) over change points k: C's ``glr`` (m = -1) or ``glr_window``."""
    ks = np.arange(n, -1, -1) if m == -1 else np.arange(n - mtilde, max(0, n - m) - 1, -1)
    if len(ks) == 0:
        return -1e99
    sx = np.cumsum(x[n::-1])[n - ks]
    smu = np.cumsum(mu0[n::-1])[n - ks]
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = direction * np.maximum(0, direction * np.log(sx / smu))
        value = kappa * sx + (1 - np.exp(kappa)) * smu
    value = value[~np.isnan(value)]
    return float(max(value.max(), -1e99)) if len(value) else -1e99


def nb_glr(
    x: np.ndarray, mu0: np.ndarray, alpha: float, n: int, direction: int, m: int, mtilde: int
) -> float:
    """GLR at n (0-based) for the negative binomial: C's ``glr_nb_window`` loop, k ascending, warm start."""
    low = 0 if m == -1 else max(0, n - m)
    best, kappa_ml = -1e99, 0.5
    for k in range(low, n - mtilde + 2):
        xs, ms = x[k : n + 1], mu0[k : n + 1]
        kappa_old, kappa_new, it = 0.4, kappa_ml, 0
        while kappa_new > -18 and abs(kappa_new - kappa_old) > 1e-6 and it < 1000:
            it += 1
            kappa_old = kappa_new
            e = np.exp(kappa_old)
            d = 1 + alpha * e * ms
            score = np.sum((xs - e * ms) / d)
            fisher = e * np.sum(ms * (alpha * xs + 1) / d**2)
            kappa_new = kappa_old + score / fisher
        kappa_ml = direction * max(0.0, direction * kappa_new)
        lnk = float(
            np.sum(
                kappa_ml * xs
                + (xs + 1 / alpha) * np.log((1 + alpha * ms) / (1 + alpha * ms * np.exp(kappa_ml)))
            )
        )
        best = max(best, lnk)
    return best


class _Glr(Detector):
    fixed_alpha: ClassVar[float | None]

    def n_coefficients(self) -> int:
        return 1 + int(self.control["mu0.trend"]) + 2 * self.control["mu0.S"]

    def earliest(self, series: CountSeries) -> int:
        return self.n_coefficients() + 1

    def default_first(self, series: CountSeries) -> int:
        return max(series.n - 2 * series.freq + 1, series.n // 2 + 1, self.earliest(series))

    def _design(self, t: np.ndarray, freq: int) -> np.ndarray:
        columns = [np.ones(len(t))]
        if self.control["mu0.trend"]:
            columns.append(t.astype(float))
        for s in range(1, self.control["mu0.S"] + 1):
            columns += [np.cos(2 * s * np.pi / freq * t), np.sin(2 * s * np.pi / freq * t)]
        return np.column_stack(columns)

    def _mu0(self, series: CountSeries, t: np.ndarray, alpha: float | None) -> tuple[np.ndarray, float]:
        """μ₀ over ``t`` from a GLM on the periods before it; the alpha used (estimated if None)."""
        train = np.arange(1, t[0])
        x = self._design(train, series.freq)
        if alpha is None:
            fit, theta = glm_nb(x, series.y(train))
            alpha = 1 / theta
        else:
            fit = glm_fit(x, series.y(train), POISSON if alpha == 0 else Family(1 / alpha))
        self.resolved_.setdefault("mu0_coefficients", fit.coef.tolist())
        return np.exp(self._design(t, series.freq) @ np.nan_to_num(fit.coef)), alpha

    def _score(self, series: CountSeries, t: np.ndarray) -> dict[str, Any]:
        c = self.control
        direction = 1 if c["dir"] == "inc" else -1
        mu0, alpha = self._mu0(series, t, self.alpha_param())
        self.resolved_["alpha"] = alpha
        x = series.y(t)
        stat = np.zeros(len(t))
        alarm = np.zeros(len(t), dtype=bool)
        start = 0
        while start < len(t):
            for n in range(start, len(t)):
                xs, ms = x[start:], mu0[start:]
                i = n - start
                if alpha == 0:
                    first = c["Mtilde"] if c["M"] > 0 else c["Mtilde"] - 1
                    value = poisson_glr(xs, ms, i, direction, c["M"], c["Mtilde"]) if i >= first else 0.0
                else:
                    value = (
                        nb_glr(xs, ms, alpha, i, direction, c["M"], c["Mtilde"])
                        if i >= c["Mtilde"] - 1
                        else 0.0
                    )
                stat[n] = value
                if value >= c["c.ARL"]:
                    alarm[n] = True
                    break
            else:
                break
            start = n + 1
            if c["mu0.refit"] and start < len(t):
                mu0[start:], _ = self._mu0(series, t[start:], alpha)
        return {"upperbound": np.maximum(np.nan_to_num(stat, nan=0.0), 0.0), "alarm": alarm, "mu0": mu0}

    def alpha_param(self) -> float | None:
        return self.fixed_alpha


class GlrPoisson(_Glr):
    """Poisson GLR (``glrnb`` with alpha = 0, i.e. ``glrpois``)."""

    name = "glr-pois"
    title = "GLR (Poisson)"
    fixed_alpha = 0.0
    params = (
        *GLR_PARAMS,
        Param("alpha", 0.0, float, "0: glr-pois is glrnb with alpha = 0", lambda v: v == 0),
    )


class GlrNegBin(_Glr):
    """Negative-binomial GLR (``glrnb``); alpha = 1/θ of ``MASS::glm.nb`` unless given (0 is Poisson)."""

    name = "glr-nb"
    title = "GLR (negative binomial)"
    fixed_alpha = None
    params = (
        *GLR_PARAMS,
        Param("alpha", None, float, "NULL (estimate) or a number >= 0 (0: Poisson)", lambda v: v >= 0),
    )

    def alpha_param(self) -> float | None:
        return self.control["alpha"]
