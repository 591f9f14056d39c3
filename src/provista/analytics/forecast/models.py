"""Forecast models of daily occupied beds (midnight census, 午夜占用床位数), with prediction intervals.

- ``arx``, dynamic regression (动态回归; Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*,
  3rd ed., ch. 10): ``y_t = c + φ·y_{t-1} + Σ β_k·x_{k,t} + ε_t`` with weekday, statutory-holiday and
  make-up-workday indicators ``x`` (calendar.py), fitted by least squares. A census is a stock: tonight's
  patients are last night's, less discharges, plus admissions, and admissions follow the week and stop on
  holidays — the lagged term and the day indicators say exactly that. Forecast paths are simulated by
  resampling the fitted residuals (bootstrapped prediction intervals, FPP §5.5), kept at zero or above; the
  point forecast is the paths' median, the forecast that minimises the expected absolute error the backtest
  scores.
- ``snaive``, the seasonal-naive baseline: the same weekday of the last observed week
  (``ŷ_{T+h} = y_{T+h-7k}``, ``k = ⌈h/7⌉``); its intervals add ``k`` resampled weekly differences
  (centred: the baseline assumes no drift, and its intervals sit around its point).
- ``ets``, exponential smoothing ETS(A,N,A) with a weekly season (statsmodels ``ETSModel``, maximum
  likelihood; analytic Gaussian intervals). A library reference for the backtest; slow (a numerical fit per
  series and origin), so not a default.

Each model takes the history as a daily series (``NaN`` where the census is unknown), keeps its learned
state in attributes ending in ``_`` (``fit`` returns the model), and forecasts the ``horizon`` days after the
history's last date, simulating through any unknown days at its end.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np
import pandas as pd
from scipy import stats

from provista.analytics.forecast.calendar import day_features
from provista.errors import ProvistaError, StatisticalWarning

LEVELS = (0.80, 0.95)  # nominal coverage of the prediction intervals
MIN_HISTORY = 28  # observed days a model needs before it forecasts
WINDOW = 365  # days of history a model is fitted on (the latest)
PATHS = 1000  # simulated paths per forecast
PHI_BOUNDS = (-0.99, 0.995)  # the lagged coefficient is held inside these, so forecasts cannot explode


class ForecastError(ProvistaError, ValueError):
    """A series cannot be forecast (too little history), or a forecast was asked for wrongly."""


@dataclass(frozen=True)
class Forecast:
    """Point forecast and interval bounds for each day after the history (``lower[0.8]`` …)."""

    dates: pd.DatetimeIndex
    point: np.ndarray
    lower: dict[float, np.ndarray]
    upper: dict[float, np.ndarray]

    def frame(self) -> pd.DataFrame:
        """One row per day: date, horizon (1 = the day after the history), point, lo80, hi80, lo95, hi95."""
        out = pd.DataFrame(
            {"date": self.dates.date, "horizon": np.arange(1, len(self.dates) + 1), "point": self.point}
        )
        for level in LEVELS:
            out[f"lo{level * 100:.0f}"] = self.lower[level]
            out[f"hi{level * 100:.0f}"] = self.upper[level]
        return out


def _daily(history: pd.Series) -> pd.Series:
    if not isinstance(history.index, pd.DatetimeIndex) or history.empty:
        raise ForecastError("the history must be a non-empty series indexed by date")
    if history.index.freqstr == "D" and history.dtype == float:
        return history
    full = history.astype(float).asfreq("D")
    if len(full) != len(history):
        raise ForecastError(
            "the history's dates are not consecutive days", hint="give one value per day, NaN where unknown"
        )
    return full


def _from_paths(dates: pd.DatetimeIndex, paths: np.ndarray, point: np.ndarray | None = None) -> Forecast:
    """Interval bounds (and, unless given, the median) of simulated paths (paths × days).

    A census is a count: the paths are rounded to whole beds, and each bound is taken outward to a whole
    bed, so that an interval holds the counts it claims to (a bound of 0.4 would exclude both 0 and 1).
    """
    beds = np.round(paths)
    probs = np.array([0.5, *((1 - level) / 2 for level in LEVELS), *((1 + level) / 2 for level in LEVELS)])
    ordered = np.sort(beds, axis=0)  # numpy's default ("linear") quantiles, one sort for all of them
    at = probs * (len(beds) - 1)
    below = np.floor(at).astype(int)
    above = np.minimum(below + 1, len(beds) - 1)
    share = (at - below)[:, None]
    q = ordered[below] * (1 - share) + ordered[above] * share
    n = len(LEVELS)
    lower = {level: np.floor(q[1 + i]) for i, level in enumerate(LEVELS)}
    upper = {level: np.ceil(q[1 + n + i]) for i, level in enumerate(LEVELS)}
    return Forecast(dates, q[0] if point is None else point, lower, upper)


class CensusModel:
    """What every model shares: the history window, the check for enough data, the forecast dates."""

    name: ClassVar[str]
    title: ClassVar[str]

    def __init__(self, window: int = WINDOW, seed: int = 0) -> None:
        self.window = window
        self.seed = seed

    def _prepare(self, history: pd.Series) -> pd.Series:
        y = _daily(history).iloc[-self.window :]
        observed = int(y.notna().sum())
        if observed < MIN_HISTORY:
            raise ForecastError(
                f"only {observed} day(s) of census in the last {self.window} days; "
                f"a forecast needs {MIN_HISTORY}",
                hint="wait for more census days, or forecast the hospital's total instead of the department",
            )
        self.end_: pd.Timestamp = y.index[-1]
        return y

    def _dates(self, horizon: int) -> pd.DatetimeIndex:
        if horizon < 1:
            raise ForecastError(f"horizon {horizon} is not a number of days ahead", hint="use 1 or more")
        return pd.date_range(self.end_ + pd.Timedelta(days=1), periods=horizon, freq="D")

    def fit(self, history: pd.Series) -> Self:
        raise NotImplementedError

    def forecast(self, horizon: int) -> Forecast:
        raise NotImplementedError


class SeasonalNaive(CensusModel):
    """``ŷ_{T+h} = y_{T+h-7k}``: the same weekday of the latest week with a census (the baseline)."""

    name = "snaive"
    title = "seasonal naive (same weekday last week) / 季节朴素（上周同日）"

    def fit(self, history: pd.Series) -> Self:
        y = self._prepare(history).to_numpy()
        self.y_ = y
        diffs = y[7:] - y[:-7]
        diffs = diffs[~np.isnan(diffs)]
        self.residuals_ = diffs - diffs.mean() if len(diffs) else np.zeros(1)  # no drift, as the point
        return self

    def _same_weekday(self, day: pd.Timestamp) -> tuple[float, int]:
        """The latest known value ``k`` whole weeks before ``day`` (``k ≥ 1`` and reaching the history)."""
        ahead = (day - self.end_).days  # days after the history's last day
        k = -(-ahead // 7)
        while (source := len(self.y_) - 1 + ahead - 7 * k) >= 0:
            if not np.isnan(self.y_[source]):
                return float(self.y_[source]), k
            k += 1
        raise ForecastError(
            f"no {day.day_name()} in the history has a census", hint="fill the census gaps first"
        )

    def forecast(self, horizon: int) -> Forecast:
        dates = self._dates(horizon)
        point, weeks = np.empty(horizon), np.empty(horizon, dtype=int)
        for j, day in enumerate(dates):
            point[j], weeks[j] = self._same_weekday(day)
        rng = np.random.default_rng(self.seed)
        steps = rng.choice(self.residuals_, size=(PATHS, horizon, int(weeks.max())))
        noise = (steps * (np.arange(steps.shape[2]) < weeks[:, None])).sum(axis=2)  # k weekly steps each
        return _from_paths(dates, np.maximum(0.0, point + noise), point)


class DynamicRegression(CensusModel):
    """``y_t = c + φ·y_{t-1} + β·x_t + ε_t`` (x: weekday, holiday, make-up workday), bootstrapped paths."""

    name = "arx"
    title = "dynamic regression AR(1) + weekday + holidays / 动态回归（自回归＋星期＋节假日）"

    def fit(self, history: pd.Series) -> Self:
        y = self._prepare(history)
        values = y.to_numpy()
        features = day_features(y.index)
        rows = np.flatnonzero(~np.isnan(values[1:]) & ~np.isnan(values[:-1])) + 1
        if len(rows) < MIN_HISTORY:
            raise ForecastError(
                f"only {len(rows)} pairs of consecutive census days; the model needs {MIN_HISTORY}",
                hint="fill the census gaps, or use the seasonal-naive model",
            )
        target, lagged, x = values[rows], values[rows - 1], features[rows]
        design = np.column_stack([np.ones(len(rows)), lagged, x])
        coef = np.linalg.lstsq(design, target, rcond=None)[0]
        phi = float(np.clip(coef[1], *PHI_BOUNDS))
        if phi != coef[1]:  # held at its bound: fit the rest given φ
            rest = np.linalg.lstsq(np.delete(design, 1, axis=1), target - phi * lagged, rcond=None)[0]
            coef = np.insert(rest, 1, phi)
        self.coef_ = coef
        self.phi_ = phi
        fitted = design @ coef
        residuals = target - fitted
        self.residuals_ = residuals - residuals.mean()
        last = int(np.flatnonzero(~np.isnan(values))[-1])
        self.last_date_: pd.Timestamp = y.index[last]
        self.last_value_ = float(values[last])
        return self

    def forecast(self, horizon: int) -> Forecast:
        dates = self._dates(horizon)
        steps = pd.date_range(self.last_date_ + pd.Timedelta(days=1), dates[-1], freq="D")
        drift = self.coef_[0] + day_features(steps) @ self.coef_[2:]
        rng = np.random.default_rng(self.seed)
        shocks = rng.choice(self.residuals_, size=(PATHS, len(steps)))
        level = np.full(PATHS, self.last_value_)
        paths = np.empty((PATHS, len(steps)))
        for j in range(len(steps)):  # the linear model runs unbounded; only what it forecasts is held ≥ 0
            level = drift[j] + self.phi_ * level + shocks[:, j]
            paths[:, j] = level
        return _from_paths(dates, np.maximum(0.0, paths[:, len(steps) - horizon :]))


class ExponentialSmoothing(CensusModel):
    """ETS(A,N,A), weekly season (statsmodels ``ETSModel``) on the latest stretch without unknown days."""

    name = "ets"
    title = "exponential smoothing ETS(A,N,A), weekly / 指数平滑 ETS(A,N,A)，周季节"

    def fit(self, history: pd.Series) -> Self:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        y = self._prepare(history)
        known = y.notna().to_numpy()
        last = int(np.flatnonzero(known)[-1])
        gaps = np.flatnonzero(~known[: last + 1])
        stretch = y.iloc[(gaps[-1] + 1 if len(gaps) else 0) : last + 1]
        if len(stretch) < MIN_HISTORY:
            raise ForecastError(
                f"the latest stretch without unknown days is {len(stretch)} days; ETS needs {MIN_HISTORY}",
                hint="fill the census gaps, or use the arx model",
            )
        self.last_date_: pd.Timestamp = stretch.index[-1]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = ETSModel(stretch, error="add", trend=None, seasonal="add", seasonal_periods=7)
            self.result_ = model.fit(disp=False)
        if any("converge" in str(w.message).lower() for w in caught):
            warnings.warn(
                "ETS: the likelihood optimisation did not converge", StatisticalWarning, stacklevel=2
            )
        return self

    def forecast(self, horizon: int) -> Forecast:
        dates = self._dates(horizon)
        ahead = (dates[-1] - self.last_date_).days
        n = len(self.result_.model.endog)
        prediction = self.result_.get_prediction(start=n, end=n + ahead - 1)
        mean = np.asarray(prediction.predicted_mean)[-horizon:]
        sd = np.sqrt(np.asarray(prediction.var_pred_mean))[-horizon:]
        lower, upper = {}, {}
        for level in LEVELS:  # bounds outward to whole beds, as for the simulated models
            z = stats.norm.ppf((1 + level) / 2)
            lower[level] = np.maximum(0.0, np.floor(mean - z * sd))
            upper[level] = np.maximum(0.0, np.ceil(mean + z * sd))
        return Forecast(dates, np.maximum(0.0, mean), lower, upper)


MODELS: dict[str, type[CensusModel]] = {
    m.name: m for m in (DynamicRegression, SeasonalNaive, ExponentialSmoothing)
}
DEFAULT_MODEL = DynamicRegression.name
BASELINE = SeasonalNaive.name


def model(name: str, **options: int) -> CensusModel:
    """A model by name (``arx``, ``snaive``, ``ets``)."""
    if name not in MODELS:
        raise ForecastError(f"unknown model '{name}'", hint=f"use one of {', '.join(MODELS)}")
    return MODELS[name](**options)
