"""The rolling-origin backtest: origins, MAE and coverage computed by hand on tiny series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from provista.analytics.forecast.backtest import _history, backtest, origin_dates, statements, summarise
from provista.analytics.forecast.series import CensusSeries

DAYS = pd.date_range("2025-02-03", periods=42, freq="D")  # six weeks from a Monday


def _series(
    values: np.ndarray, observed: np.ndarray | None = None, department: str | None = "MED"
) -> CensusSeries:
    seen = np.ones(len(values), dtype=bool) if observed is None else observed
    return CensusSeries("H1", department, pd.Series(values, index=DAYS), pd.Series(seen, index=DAYS), 20)


def _tiny() -> np.ndarray:
    y = (np.arange(42) % 7).astype(float)  # weeks 1–4: 0 1 2 3 4 5 6
    y[28:35] += [1, 0, 0, 2, 0, 0, 0]  # week 5
    y[35:42] += [1, 0, 3, 2, 0, 0, 1]  # week 6
    return y


def test_origins_are_a_week_apart_and_leave_the_horizon_inside_the_data() -> None:
    starts = origin_dates(DAYS[-1], 2, 7)
    assert starts == [DAYS[27], DAYS[34]]  # the last one 7 days before the last census day


def test_seasonal_naive_mae_by_hand_on_a_six_week_series() -> None:
    # Origin day 27: forecasts y[21..27] for days 28..34; errors |y[28..34] − y[21..27]| = 1 0 0 2 0 0 0.
    # Origin day 34: forecasts y[28..34] for days 35..41; errors = |[1 0 3 2 0 0 1] − [1 0 0 2 0 0 0]|
    # = 0 0 3 0 0 0 1. MAE over the 14 days = (3 + 4) / 14 = 0.5.
    errors = backtest([_series(_tiny())], models=[], origins=2, horizon=7)
    assert set(errors["model"]) == {"snaive"}
    assert len(errors) == 14
    table = summarise(errors, 7)
    assert table.loc[0, "bucket"] == "1–7"
    assert table.loc[0, "mae"] == pytest.approx(7 / 14)
    assert table.loc[0, "ratio"] == pytest.approx(1.0)
    # Day 37 (error 3) was not observed (a gap filled from its neighbours): it is not scored.
    seen = np.ones(42, dtype=bool)
    seen[37] = False
    table = summarise(backtest([_series(_tiny(), seen)], models=[], origins=2, horizon=7), 7)
    assert table.loc[0, "n"] == 13
    assert table.loc[0, "mae"] == pytest.approx(4 / 13)


def test_a_gap_filled_from_after_the_origin_is_unknown_to_the_forecast_made_at_the_origin() -> None:
    seen = np.ones(42, dtype=bool)
    seen[26:28] = False  # days 26, 27 were filled from days 25 and 28: day 28 is after origin 27
    history = _history(_series(_tiny(), seen), 27)
    assert history.index[-1] == DAYS[27]
    assert history.iloc[-2:].isna().all() and history.iloc[:-2].notna().all()


def _errors(rows: list[tuple[str, str, int, float, float, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["department", "model", "h", "actual", "point", "lo80", "hi80"])
    return frame.assign(grain="department", hospital_id="H1", origin=DAYS[0].date(),
                        lo95=frame["lo80"] - 1, hi95=frame["hi80"] + 1)  # fmt: skip


def test_summary_mae_ratio_coverage_and_series_better_by_hand() -> None:
    errors = _errors(
        [
            # department, model, days ahead, actual, point, 80 % interval
            ("MED", "arx", 1, 10, 9, 8, 11),  # |e| 1, inside
            ("MED", "arx", 8, 10, 14, 12, 16),  # |e| 4, outside
            ("SUR", "arx", 1, 5, 5, 4, 6),  # |e| 0, inside
            ("SUR", "arx", 8, 5, 8, 6, 9),  # |e| 3, outside (95 %: 5..10, inside)
            ("MED", "snaive", 1, 10, 12, 11, 13),  # |e| 2, outside
            ("MED", "snaive", 8, 10, 12, 9, 13),  # |e| 2, inside
            ("SUR", "snaive", 1, 5, 4, 3, 5),  # |e| 1, inside
            ("SUR", "snaive", 8, 5, 5, 4, 6),  # |e| 0, inside
        ]
    )
    table = summarise(errors, 14).set_index(["bucket", "model"])
    assert table.loc[("1–7", "arx"), "mae"] == pytest.approx(0.5)
    assert table.loc[("1–7", "snaive"), "mae"] == pytest.approx(1.5)
    assert table.loc[("1–7", "arx"), "ratio"] == pytest.approx(1 / 3)
    assert table.loc[("1–7", "arx"), "coverage80"] == 1.0
    assert table.loc[("1–7", "snaive"), "coverage80"] == 0.5
    assert table.loc[("1–7", "arx"), "series_better"] == 1.0
    assert table.loc[("8–14", "arx"), "mae"] == pytest.approx(3.5)
    assert table.loc[("8–14", "snaive"), "mae"] == pytest.approx(1.0)
    assert table.loc[("8–14", "arx"), "coverage80"] == 0.0
    assert table.loc[("8–14", "arx"), "coverage95"] == 0.5  # MED 14 ± 3 misses 10; SUR 5..10 holds 5
    assert table.loc[("8–14", "arx"), "series_worse"] == 1.0
    assert np.isnan(table.loc[("8–14", "snaive"), "series_better"])
    said = statements(summarise(errors, 14))
    assert any("arx does NOT beat the seasonal-naive baseline for department series 8–14" in s for s in said)
    assert any("arx beats the seasonal-naive baseline for department series at 1–7 days" in s for s in said)
    assert any("arx's 80% intervals are too wide for department series 1–7" in s for s in said)


def test_a_tie_with_the_baseline_is_said_to_not_beat_it() -> None:
    errors = _errors([("MED", "arx", 1, 0, 0, 0, 0), ("MED", "snaive", 1, 0, 0, 0, 0)])  # an empty ward
    said = statements(summarise(errors, 7))
    assert (
        "arx does NOT beat the seasonal-naive baseline for department series 1–7 days ahead: MAE 0 vs 0 "
        "beds (a tie)." in said
    )
