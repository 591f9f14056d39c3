"""The models on series with known structure: error against theory, interval coverage, the baseline by hand.

Each check scores forecasts from rolling origins (every 7 days) on several seeds, as the backtest does.
Tolerances are stated beside each assertion; they hold for these fixed seeds and were chosen to be wide
enough for sampling noise (about 1,000 scored days per check) and narrow enough to catch a wrong model.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from provista.analytics.forecast.calendar import FEATURES
from provista.analytics.forecast.models import (
    LEVELS,
    DynamicRegression,
    ExponentialSmoothing,
    ForecastError,
    SeasonalNaive,
    model,
)
from tests.analytics.forecast.synthetic import SIGMA, ward, weekly

HORIZON = 28


def _score(make, name: str, seeds: int = 4, origins: int = 10) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """Absolute errors and in-interval flags, days ahead in columns."""
    errors, inside = [], {lv: [] for lv in LEVELS}
    for seed in range(seeds):
        y = make(400 + 7 * origins, seed)
        for k in range(origins):
            origin = 400 + 7 * k - HORIZON
            actual = y.iloc[origin : origin + HORIZON].to_numpy()
            fc = model(name).fit(y.iloc[:origin]).forecast(HORIZON)
            errors.append(np.abs(actual - fc.point))
            for lv in LEVELS:
                inside[lv].append((fc.lower[lv] <= actual) & (actual <= fc.upper[lv]))
    return {"error": np.array(errors), **{f"in{lv}": np.array(v) for lv, v in inside.items()}}


def test_weekly_pattern_plus_noise_the_model_reaches_the_noise_floor_and_the_baseline_pays_root_two() -> None:
    # y = 200 + weekday effect + N(0, σ²): the best forecast errs by |N(0, σ²)|, mean σ·√(2/π) = 4.79;
    # same-weekday-last-week errs by |N(0, 2σ²)|, mean √2 times that = 6.77.
    arx, naive = _score(weekly, "arx"), _score(weekly, "snaive")
    floor = SIGMA * math.sqrt(2 / math.pi)
    assert arx["error"].mean() == pytest.approx(floor, rel=0.08)
    assert naive["error"].mean() == pytest.approx(math.sqrt(2) * floor, rel=0.08)
    # Beats the baseline in every horizon bucket: by 1 − 1/√2 = 29 % in theory; asserted: 15 %.
    for week in range(4):
        cols = slice(7 * week, 7 * week + 7)
        assert arx["error"][:, cols].mean() < 0.85 * naive["error"][:, cols].mean()
    # Nominal coverage within 4 points (80 %) and 2.5 points (95 %); whole-bed bounds add a little.
    assert arx["in0.8"].mean() == pytest.approx(0.80, abs=0.04)
    assert arx["in0.95"].mean() == pytest.approx(0.95, abs=0.025)


def test_ward_census_with_holidays_the_model_beats_the_baseline_at_every_horizon() -> None:
    # A stock (admissions by weekday, geometric stays): the baseline's error grows with the horizon
    # (it carries one week's noise and ignores the pull back to the mean); the model's does not as much.
    arx, naive = _score(ward, "arx"), _score(ward, "snaive")
    for week in range(4):  # by 60 % or more with these seeds; asserted: 40 %
        cols = slice(7 * week, 7 * week + 7)
        assert arx["error"][:, cols].mean() < 0.6 * naive["error"][:, cols].mean()
    # Residual bootstrap ignores the estimation error of the coefficients: within 5 points (80 %) and
    # 4 points (95 %) of nominal.
    assert arx["in0.8"].mean() == pytest.approx(0.80, abs=0.05)
    assert arx["in0.95"].mean() == pytest.approx(0.95, abs=0.04)


def test_the_holiday_and_weekday_effects_are_learned_with_their_signs() -> None:
    fitted = DynamicRegression().fit(ward(500, seed=1, holiday=0.2))
    coef = dict(zip(FEATURES, fitted.coef_[2:], strict=True))
    assert coef["holiday"] < -5  # admissions at a fifth on holidays: the census drops
    assert coef["sat"] < 0 and coef["sun"] < 0  # fewer weekend admissions than on Monday
    assert 0.6 < fitted.phi_ < 0.95  # 1 − 1/7 = 0.857 stay on each night, plus the weekday pattern


def test_seasonal_naive_is_the_same_weekday_of_the_last_week_with_a_census() -> None:
    index = pd.date_range("2025-03-03", periods=35, freq="D")  # Monday 3 March … Sunday 6 April
    y = pd.Series(np.arange(35, dtype=float), index=index)
    y.iloc[-3] = np.nan  # Friday 4 April is unknown: next Friday comes from 28 March (day 25)
    fc = SeasonalNaive().fit(y).forecast(14)
    assert fc.dates[0] == pd.Timestamp("2025-04-07")
    assert fc.point[:7].tolist() == [28, 29, 30, 31, 25, 33, 34]
    assert fc.point[7:].tolist() == [28, 29, 30, 31, 25, 33, 34]
    for lv in LEVELS:  # every weekly difference is 7: no spread around the mean difference, no width
        assert (fc.lower[lv] == fc.point).all() and (fc.upper[lv] == fc.point).all()


def test_a_history_ending_in_unknown_days_is_simulated_through() -> None:
    y = weekly(120, seed=3)
    y.iloc[-3:] = np.nan
    fc = DynamicRegression().fit(y).forecast(7)
    assert fc.dates[0] == y.index[-1] + pd.Timedelta(days=1)
    assert len(fc.point) == 7 and not np.isnan(fc.point).any()
    for lv in LEVELS:
        assert (fc.lower[lv] <= fc.point).all() and (fc.point <= fc.upper[lv]).all()
    assert (fc.lower[0.95] <= fc.lower[0.8]).all() and (fc.upper[0.8] <= fc.upper[0.95]).all()


def test_too_little_history_is_refused_with_what_to_do() -> None:
    y = weekly(20, seed=0)
    with pytest.raises(ForecastError, match="needs 28") as caught:
        DynamicRegression().fit(y)
    assert caught.value.hint
    with pytest.raises(ForecastError, match="unknown model"):
        model("prophet")


def test_ets_from_statsmodels_is_close_to_the_noise_floor_too() -> None:
    # One fit (statsmodels is slow): ETS(A,N,A) is also right for a weekly pattern plus noise.
    y = weekly(400 + HORIZON, seed=5)
    fc = ExponentialSmoothing().fit(y.iloc[:400]).forecast(HORIZON)
    error = np.abs(y.iloc[400:].to_numpy() - fc.point).mean()
    assert error == pytest.approx(SIGMA * math.sqrt(2 / math.pi), rel=0.25)  # one path of 28 days: wider
