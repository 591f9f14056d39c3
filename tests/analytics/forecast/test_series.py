"""Census rows → series: the gap rules of series.py, checked on rows written by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from provista.analytics.forecast.models import ForecastError
from provista.analytics.forecast.series import census_series

DAYS = pd.date_range("2025-01-01", periods=30, freq="D")


def _rows(hospital: str, department: str, values: list[float | None], beds: int = 10) -> pd.DataFrame:
    keep = [i for i, v in enumerate(values) if v is not None]
    return pd.DataFrame(
        {
            "hospital_id": hospital,
            "department": department,
            "date": DAYS[keep],
            "occupied_beds": [float(values[i]) for i in keep],  # type: ignore[arg-type]
            "open_beds": float(beds),
        }
    )


def test_short_gaps_are_filled_by_a_line_long_ones_stay_unknown_and_totals_add_up() -> None:
    med = [5.0] * 30
    med[3:5] = [None, None]  # 2 days between 5 and 8: filled 6, 7
    med[5] = 8.0
    med[10:18] = [None] * 8  # 8 days: longer than MAX_GAP_DAYS (7), unknown
    sur: list[float | None] = [2.0] * 30
    sur[29] = None  # the last day unknown: still open (1 day ≤ 7), the total is unknown that day
    closed: list[float | None] = [1.0] * 10 + [None] * 20  # last census 20 days ago: taken as closed
    late: list[float | None] = [None] * 12 + [3.0] * 18  # opens on day 12: zero before in the total
    wards = [("MED", med, 10), ("SUR", sur, 4), ("ORT", closed, 10), ("PED", late, 6)]
    census = pd.concat([_rows("H1", name, values, beds) for name, values, beds in wards])
    found = {s.label: s for s in census_series(census)}
    assert sorted(found) == ["H1", "H1/MED", "H1/PED", "H1/SUR"]  # ORT is closed: no series
    m = found["H1/MED"]
    assert m.occupied.iloc[3:6].tolist() == [6.0, 7.0, 8.0]
    assert not m.observed.iloc[3] and not m.observed.iloc[4] and m.observed.iloc[5]
    assert m.occupied.iloc[10:18].isna().all()
    assert found["H1/PED"].occupied.index[0] == DAYS[12]
    total = found["H1"]
    assert total.open_beds == 10 + 4 + 6  # the closed ward's beds are not counted
    assert total.occupied.iloc[0] == 5 + 2 + 1  # ORT counts while it reported, PED not yet
    assert total.occupied.iloc[3] == 6 + 2 + 1 and not total.observed.iloc[3]  # a filled day: not observed
    assert total.occupied.iloc[20] == 5 + 2 + 0 + 3 and total.observed.iloc[20]
    assert total.occupied.iloc[10:18].isna().all()  # MED unknown: the total is unknown
    assert np.isnan(total.occupied.iloc[29])  # SUR's last day unknown
    assert all(s.occupied.index[-1] == DAYS[-1] for s in found.values())


def test_two_rows_for_one_day_are_refused() -> None:
    rows = _rows("H1", "MED", [1.0] * 30)
    with pytest.raises(ForecastError, match="same hospital, department and day") as caught:
        census_series(pd.concat([rows, rows.iloc[[4]]]))
    assert "2025-01-05" in caught.value.message and caught.value.hint
