"""Census series with known structure, generated in the tests (no warehouse): what the models should learn."""

from __future__ import annotations

import numpy as np
import pandas as pd

from provista.analytics.forecast.calendar import day_features

START = "2024-01-01"  # a Monday; the series cross the 2024 and 2025 holidays
WEEKLY = np.array([10.0, 14.0, 12.0, 8.0, 4.0, -18.0, -30.0])  # Monday … Sunday
SIGMA = 6.0


def weekly(days: int, seed: int) -> pd.Series:
    """``200 + WEEKLY[weekday] + N(0, SIGMA²)``, independent days: the best forecast is the weekday mean."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(START, periods=days, freq="D")
    return pd.Series(200.0 + WEEKLY[index.day_of_week] + rng.normal(0.0, SIGMA, days), index=index)


def ward(days: int, seed: int, mean: float = 200.0, stay: float = 7.0, holiday: float = 0.4) -> pd.Series:
    """A ward's midnight census: Poisson admissions by weekday (× ``holiday`` on statutory holidays), each
    patient discharged with probability ``1/stay`` a day: ``census_t = census_{t-1} − Bin(census_{t-1},
    1/stay) + Pois(λ_t)``."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(START, periods=days, freq="D")
    factor = np.array([1.3, 1.15, 1.1, 1.05, 1.0, 0.75, 0.65])[index.day_of_week]
    factor = factor / factor.mean()
    factor[day_features(index)[:, 6] == 1] *= holiday
    admissions = rng.poisson(mean / stay * factor)
    census = np.empty(days)
    current = int(mean)
    for t in range(days):
        current = current - rng.binomial(current, 1.0 / stay) + admissions[t]
        census[t] = current
    return pd.Series(census, index=index)
