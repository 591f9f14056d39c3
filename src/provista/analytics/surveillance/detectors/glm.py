"""Log-link GLMs fitted the way R's ``glm.fit`` does it, and ``MASS::glm.nb``'s theta estimation.

The detectors must agree with R ``surveillance`` to 1e-6, and R stops IRLS on a deviance criterion, so the
iteration here is R's own: start at ``mustart`` (Poisson: y + 0.1; negative binomial: y + (y == 0)/6) or at
``etastart``, solve the weighted least squares by QR, stop when |dev - dev_old| / (|dev| + 0.1) < 1e-8
(at most 25 iterations). The working weights kept for standard errors and hat values are those of the
last iteration's start, as R keeps them. Families: Poisson (also quasi-Poisson: the same fit, with the
dispersion estimated afterwards) and negative binomial with a fixed theta.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

EPS = np.finfo(float).eps


@dataclass(frozen=True)
class Family:
    """Variance function and deviance of a log-link family; ``theta`` None is Poisson."""

    theta: float | None = None

    def variance(self, mu: np.ndarray) -> np.ndarray:
        return mu if self.theta is None else mu + mu**2 / self.theta

    def mustart(self, y: np.ndarray) -> np.ndarray:
        return y + 0.1 if self.theta is None else y + (y == 0) / 6

    def deviance(self, y: np.ndarray, mu: np.ndarray, wt: np.ndarray) -> float:
        if self.theta is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(y > 0, wt * (y * np.log(y / mu) - (y - mu)), mu * wt)
            return float(np.sum(2 * r))
        th = self.theta
        return float(
            np.sum(2 * wt * (y * np.log(np.maximum(1, y) / mu) - (y + th) * np.log((y + th) / (mu + th))))
        )


POISSON = Family()


def _exp(eta: np.ndarray) -> np.ndarray:
    """R's log-link ``linkinv`` and ``mu.eta``: exp(eta), at least machine epsilon."""
    return np.maximum(np.exp(eta), EPS)


@dataclass
class GlmFit:
    """A converged (or not) IRLS fit, with what ``summary.glm`` and ``predict.glm`` need."""

    coef: np.ndarray  # NaN for aliased columns
    kept: np.ndarray  # columns in the fit (R's pivot, aliased ones left out)
    y: np.ndarray
    mu: np.ndarray
    weights: np.ndarray  # working weights of the last iteration
    residuals: np.ndarray  # working residuals
    q: np.ndarray  # thin Q of sqrt(W) X[:, kept]
    r: np.ndarray  # its R
    good: np.ndarray
    df_residual: int
    converged: bool

    def dispersion(self) -> float:
        """``summary.glm(fit)$dispersion``: sum of weights x residuals^2 over the residual df."""
        if self.df_residual <= 0:
            return float("nan")
        w = self.weights
        return float(np.sum((w * self.residuals**2)[w > 0]) / self.df_residual)

    def cov_unscaled(self) -> np.ndarray:
        r_inv = np.linalg.inv(self.r)
        return r_inv @ r_inv.T

    def coefficient_p_value(self, column: int, dispersion: float | None = None) -> float:
        """Two-sided t-test p-value of one coefficient, the dispersion estimated (quasi families)."""
        j = int(np.flatnonzero(self.kept == column)[0])
        scale = self.dispersion() if dispersion is None else dispersion
        se = np.sqrt(scale * self.cov_unscaled()[j, j])
        return float(2 * stats.t.sf(abs(self.coef[column] / se), self.df_residual))

    def predict_link(self, x0: np.ndarray, offset: float = 0.0, dispersion: float | None = None):
        """Linear predictor at ``x0`` and its standard error (``predict.glm(se.fit = TRUE)``)."""
        x = np.asarray(x0, dtype=float)[self.kept]
        eta = float(x @ self.coef[self.kept] + offset)
        scale = self.dispersion() if dispersion is None else dispersion
        xr = np.linalg.solve(self.r.T, x)
        return eta, float(np.sqrt(np.sum(xr**2) * scale))

    def predict_response(self, x0: np.ndarray, offset: float = 0.0, dispersion: float | None = None):
        """Mean at ``x0`` and its standard error by the delta method (``type = "response"``)."""
        eta, se = self.predict_link(x0, offset, dispersion)
        mu = float(_exp(np.array(eta)))
        return mu, se * mu

    def hat_values(self) -> np.ndarray:
        h = np.zeros(len(self.y))
        h[self.good] = np.sum(self.q**2, axis=1)
        h[h > 1 - 10 * EPS] = 1.0
        return h


def _least_squares(xw: np.ndarray, zw: np.ndarray, tol: float):
    """QR least squares leaving out columns that are (near) linear combinations of earlier ones."""
    kept = np.arange(xw.shape[1])
    norms = np.linalg.norm(xw, axis=0)
    while True:
        q, r = np.linalg.qr(xw[:, kept])
        diag = np.abs(np.diag(r))
        bad = np.flatnonzero(diag < tol * np.where(norms[kept] > 0, norms[kept], 1.0))
        if len(bad) == 0:
            break
        kept = np.delete(kept, bad[0])
    beta = np.linalg.solve(r, q.T @ zw)  # small and triangular: LAPACK's general solver is faster here
    return beta, kept, q, r


def glm_fit(
    x: np.ndarray,
    y: np.ndarray,
    family: Family = POISSON,
    *,
    prior_weights: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    etastart: np.ndarray | None = None,
    maxit: int = 25,
    epsilon: float = 1e-8,
) -> GlmFit:
    """IRLS for a log-link GLM, iteration for iteration as R's ``glm.fit``."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = x.shape
    pw = np.ones(n) if prior_weights is None else np.asarray(prior_weights, dtype=float)
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    eta = np.log(family.mustart(y)) if etastart is None else np.asarray(etastart, dtype=float)
    mu = _exp(eta)
    dev_old = family.deviance(y, mu, pw)
    converged = False
    coef = np.zeros(p)
    for _ in range(maxit):
        mu_eta = _exp(eta)
        good = (pw > 0) & (mu_eta != 0)
        z = (eta - off)[good] + (y - mu)[good] / mu_eta[good]
        w = np.sqrt(pw[good] * mu_eta[good] ** 2 / family.variance(mu)[good])
        beta, kept, q, r = _least_squares(x[good] * w[:, None], z * w, min(1e-7, epsilon / 1000))
        if not np.all(np.isfinite(beta)):
            break
        coef = np.zeros(p)
        coef[kept] = beta
        eta = x @ coef + off
        mu = _exp(eta)
        dev = family.deviance(y, mu, pw)
        if not np.isfinite(dev):
            break
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            converged = True
            break
        dev_old = dev
    weights = np.zeros(n)
    weights[good] = w**2
    full = np.full(p, np.nan)
    full[kept] = coef[kept]
    return GlmFit(
        coef=full,
        kept=kept,
        y=y,
        mu=mu,
        weights=weights,
        residuals=(y - mu) / _exp(eta),
        q=q,
        r=r,
        good=good,
        df_residual=int(np.sum(pw != 0)) - len(kept),
        converged=converged,
    )


def theta_ml(y: np.ndarray, mu: np.ndarray, limit: int = 25) -> float:
    """ML estimate of the negative-binomial size theta for fixed means (``MASS::theta.ml``)."""
    n = len(y)
    eps = EPS**0.25
    t0 = n / np.sum((y / mu - 1) ** 2)
    it, delta = 0, 1.0
    while (it := it + 1) < limit and abs(delta) > eps:
        t0 = abs(t0)
        score = np.sum(
            special.digamma(t0 + y)
            - special.digamma(t0)
            + np.log(t0)
            + 1
            - np.log(t0 + mu)
            - (y + t0) / (mu + t0)
        )
        info = np.sum(
            -special.polygamma(1, t0 + y)
            + special.polygamma(1, t0)
            - 1 / t0
            + 2 / (mu + t0)
            - (y + t0) / (mu + t0) ** 2
        )
        delta = score / info
        t0 = t0 + delta
    return float(max(t0, 0.0))


def _nb_loglik(theta: float, mu: np.ndarray, y: np.ndarray) -> float:
    return float(
        np.sum(
            special.gammaln(theta + y)
            - special.gammaln(theta)
            - special.gammaln(y + 1)
            + theta * np.log(theta)
            + y * np.log(mu + (y == 0))
            - (theta + y) * np.log(theta + mu)
        )
    )


def glm_nb(x: np.ndarray, y: np.ndarray, maxit: int = 25, epsilon: float = 1e-8) -> tuple[GlmFit, float]:
    """Negative-binomial GLM, theta estimated by alternation as ``MASS::glm.nb``; returns (fit, theta)."""
    y = np.asarray(y, dtype=float)
    fit = glm_fit(x, y, POISSON, maxit=maxit, epsilon=epsilon)
    mu = fit.mu
    theta = theta_ml(y, mu, limit=maxit)
    d1 = np.sqrt(2 * max(1, fit.df_residual))
    d2 = delta = 1.0
    lm = _nb_loglik(theta, mu, y)
    lm0 = lm + 2 * d1
    it = 0
    while (it := it + 1) <= maxit and (abs(lm0 - lm) / d1 + abs(delta) / d2) > epsilon:
        fit = glm_fit(x, y, Family(theta), etastart=np.log(mu), maxit=maxit, epsilon=epsilon)
        t0 = theta
        theta = theta_ml(y, mu, limit=maxit)
        mu = fit.mu
        delta = t0 - theta
        lm0, lm = lm, _nb_loglik(theta, mu, y)
    return fit, theta
