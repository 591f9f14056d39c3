"""Epidemic curves: zero-filled counts by onset day or ISO week."""

from __future__ import annotations

import pandas as pd
import pytest

from provista.analytics.epi import EpiInputError, epidemic_curve


def test_daily_curve_fills_days_without_cases() -> None:
    cases = pd.DataFrame({"onset_date": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-03"])})
    curve = epidemic_curve(cases)
    assert curve["period"].tolist() == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert curve["cases"].tolist() == [1, 0, 2]


def test_weekly_curve_uses_iso_weeks_starting_monday() -> None:
    # 2024-12-30 (Monday) opens ISO week 2025-W01; 2024-12-29 (Sunday) closes 2024-W52.
    dates = ["2024-12-29", "2024-12-30", "2025-01-05", "2025-01-13"]
    curve = epidemic_curve(pd.DataFrame({"onset_date": pd.to_datetime(dates)}), interval="week")
    assert curve["period"].tolist() == ["2024-W52", "2025-W01", "2025-W02", "2025-W03"]
    assert curve["cases"].tolist() == [1, 2, 0, 1]
    assert curve["period_start"].dt.day_of_week.eq(0).all()


def test_curve_by_group_with_a_fixed_window() -> None:
    cases = pd.DataFrame(
        {"onset_date": pd.to_datetime(["2024-05-02", "2024-05-02", "2024-05-09"]), "disease": ["a", "b", "b"]}
    )
    curve = epidemic_curve(cases, by=["disease"], start="2024-05-01", end="2024-05-03")
    assert len(curve) == 6
    assert curve.groupby("disease")["cases"].sum().to_dict() == {"a": 1, "b": 1}


def test_month_is_not_an_epidemic_curve_interval() -> None:
    with pytest.raises(EpiInputError):
        epidemic_curve(pd.DataFrame({"onset_date": []}), interval="month")
