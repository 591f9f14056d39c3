"""Bed-demand forecasting (床位需求预测): daily occupied beds per hospital and department, 1 to 28 days ahead,
with 80 % and 95 % prediction intervals, and a rolling-origin backtest against the seasonal-naive baseline.

- ``series``: the midnight-census series from the warehouse (gap rules, hospital totals);
- ``models``: ``arx`` (dynamic regression, the default), ``snaive`` (the baseline), ``ets`` (statsmodels);
- ``forecasts``: many series at once, one table;
- ``backtest``: origins, scores (MAE, coverage) and the plain statements of where a model loses.
"""

from provista.analytics.forecast.backtest import backtest, statements, summarise
from provista.analytics.forecast.forecasts import forecast_table
from provista.analytics.forecast.models import BASELINE, DEFAULT_MODEL, MODELS, Forecast, ForecastError, model
from provista.analytics.forecast.series import CensusSeries, census_series, read_census

__all__ = ["BASELINE", "DEFAULT_MODEL", "MODELS", "CensusSeries", "Forecast", "ForecastError", "backtest",
           "census_series", "forecast_table", "model", "read_census", "statements", "summarise"]  # fmt: skip
