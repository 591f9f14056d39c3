"""Forecast many census series at once: one table, one row per series and day ahead."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pandas as pd

from provista.analytics.forecast.models import DEFAULT_MODEL, ForecastError, model
from provista.analytics.forecast.series import CensusSeries
from provista.errors import StatisticalWarning

COLUMNS = ("hospital_id", "department", "grain", "model", "date", "horizon", "point", "lo80", "hi80",
           "lo95", "hi95", "open_beds", "occupancy")  # fmt: skip


def forecast_table(
    series: Sequence[CensusSeries], horizon: int, model_name: str = DEFAULT_MODEL
) -> pd.DataFrame:
    """Each series' forecast for the ``horizon`` days after its last day.

    ``occupancy`` is the point forecast over the open beds of the last census day (%); a series with too
    little history is left out with a ``StatisticalWarning`` that names it.
    """
    parts = []
    for s in series:
        try:
            frame = model(model_name).fit(s.occupied).forecast(horizon).frame()
        except ForecastError as exc:
            warnings.warn(f"{s.label}: not forecast: {exc.message}", StatisticalWarning, stacklevel=2)
            continue
        frame.insert(0, "hospital_id", s.hospital_id)
        frame.insert(1, "department", s.department or "")
        frame.insert(2, "grain", s.grain)
        frame.insert(3, "model", model_name)
        frame["open_beds"] = s.open_beds
        frame["occupancy"] = frame["point"] / s.open_beds * 100.0 if s.open_beds > 0 else float("nan")
        parts.append(frame)
    if not parts:
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(COLUMNS)]
