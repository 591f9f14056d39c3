"""The alert list: ids stable across builds, every producer's rows kept, a producer's mistake named."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pandas as pd
import pytest

from provista.engine import DuckDBEngine
from provista.warehouse.alerts import derive_alerts

ROWS = pd.DataFrame(
    {
        "source": ["surveillance", "surveillance", "operations"],
        "rule": ["ears-c1", "ears-c1", "occupancy_high"],
        "city_code": ["3301", "3301", "3302"],
        "county_code": ["330102", "330102", "330203"],
        "hospital_id": [None, None, "H001"],
        "subject": ["A09", "A09", "bed_occupancy"],
        "frequency": ["daily", "daily", "daily"],
        "period_start": ["2024-03-01", "2024-03-02", "2024-03-01"],
        "period_end": ["2024-03-01", "2024-03-02", "2024-03-03"],
        "observed": [9.0, 11.0, 0.97],
        "threshold": [5.2, 5.9, 0.95],
        "severity": ["warning", "warning", "critical"],
        "detail_zh": ["x", "y", "z"],
        "detail_en": ["x", "y", "z"],
    }
)


@pytest.fixture
def producer_module() -> str:
    module = types.ModuleType("provista_test_producers")
    module.rows = lambda engine, report: ROWS  # type: ignore[attr-defined]
    module.none = lambda engine, report: ROWS.iloc[:0]  # type: ignore[attr-defined]
    module.broken = lambda engine, report: ROWS.drop(columns=["severity"])  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    return module.__name__


def test_alerts_keep_their_ids_across_builds(tmp_path: Path, producer_module: str) -> None:
    ids = []
    for build in range(2):
        with DuckDBEngine(tmp_path / f"w{build}.duckdb") as engine:
            n = derive_alerts(engine, lambda *a: None, [f"{producer_module}:rows", f"{producer_module}:none"])
            assert n == 3
            frame = engine.frame("SELECT * FROM alert ORDER BY period_start, source")
            ids.append(sorted(frame["alert_id"]))
    assert ids[0] == ids[1]
    assert len(set(ids[0])) == 3
    assert frame.loc[frame["source"] == "operations", "hospital_id"].tolist() == ["H001"]


def test_a_producer_that_leaves_out_a_column_is_named(tmp_path: Path, producer_module: str) -> None:
    with DuckDBEngine(tmp_path / "w.duckdb") as engine, pytest.raises(ValueError, match="severity"):
        derive_alerts(engine, lambda *a: None, [f"{producer_module}:broken"])
