"""Operational alert rules on fixtures with known runs and a known outlier, and on a real build."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from provista.analytics.operations.alerts import (
    RULES_FILE,
    last_complete_month,
    load_rules,
    operational_alerts,
)
from provista.analytics.operations.definitions import DefinitionError
from provista.engine import DuckDBEngine
from provista.warehouse.alerts import PRODUCERS, columns, derive_alerts

PRODUCER = "provista.analytics.operations.alerts:operational_alerts"


def _alerts(path: Path, rules: Path = RULES_FILE) -> pd.DataFrame:
    with DuckDBEngine(path, read_only=True) as engine:
        return operational_alerts(engine, lambda *a: None, rules_file=rules)


def test_a_three_day_run_above_95_percent_is_raised_and_shorter_or_equal_ones_are_not(
    ops_warehouse: Path,
) -> None:
    alerts = _alerts(ops_warehouse).sort_values("period_start")
    assert list(alerts.columns) == columns()[1:]
    # HB SUR: 100 % on 10–12 Feb (3 days) → warning; 20–21 Feb is only 2 days. HB MED: 150 % on 24–27 Feb
    # → critical (peak above 105). HA MED sits at exactly 95 % all February: not above.
    got = alerts[["hospital_id", "subject", "period_start", "period_end", "observed", "severity"]]
    assert got.values.tolist() == [
        ["HB", "SUR", dt.date(2025, 2, 10), dt.date(2025, 2, 12), 100.0, "warning"],
        ["HB", "MED", dt.date(2025, 2, 24), dt.date(2025, 2, 27), 150.0, "critical"],
    ]
    first = alerts.iloc[0]
    assert (first["source"], first["rule"], first["threshold"]) == ("operations", "occupancy_above_95_3d", 95)
    assert (first["city_code"], first["county_code"], first["frequency"]) == ("330100", "330106", "daily")
    assert "3 consecutive days" in first["detail_en"] and "General surgery" in first["detail_en"]
    assert first["detail_zh"] == "乙医院普外科病床使用率连续3天超过95%（峰值100.0%）"


def test_a_hospital_wide_run_and_the_lookback(ops_warehouse: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "- {id: hospital_full, kind: census_run, unit: hospital, above: 95, days: 3, lookback_days: 28,\n"
        "   severity: info, zh: '{unit_zh}', en: '{unit_en} {run_days} days'}\n"
        "- {id: short_lookback, kind: census_run, unit: department, above: 95, days: 3, lookback_days: 4,\n"
        "   severity: info, zh: '{unit_zh}', en: '{unit_en}'}\n",
        encoding="utf-8",
    )
    alerts = _alerts(ops_warehouse, rules)
    whole = alerts[alerts["rule"] == "hospital_full"]
    # HB as a whole: (3 + 3) / (4 + 2) = 100 % on 24–27 Feb; on 10–12 Feb (4 + 1) / 6 = 83 %
    assert whole[["hospital_id", "subject", "period_start", "period_end"]].values.tolist() == [
        ["HB", "bed_occupancy_rate", dt.date(2025, 2, 24), dt.date(2025, 2, 27)]
    ]
    assert whole["detail_en"].iloc[0] == "Hospital B 4 days"
    # the last 4 census days are 25–28 Feb: HB MED's run is seen from 25 to 27 Feb only
    short = alerts[alerts["rule"] == "short_lookback"]
    assert short[["subject", "period_start", "period_end"]].values.tolist() == [
        ["MED", dt.date(2025, 2, 25), dt.date(2025, 2, 27)]
    ]


def test_a_hospital_outside_its_peers_range_is_raised(peer_warehouse: Path) -> None:
    alerts = _alerts(peer_warehouse)
    assert alerts["rule"].unique().tolist() == ["indicator_outside_peer_range"]
    # occupancy 20, 80, 81, 82, 83, 84: Q1 = 80.25, Q3 = 82.75 (type 7), fences 80.25 − 1.5 × 2.5 = 76.5
    # and 82.75 + 3.75 = 86.5 (occupancy has a band: both sides are checked)
    row = alerts.iloc[0]
    assert len(alerts) == 1 and row["hospital_id"] == "P6" and row["subject"] == "bed_occupancy_rate"
    assert abs(row["observed"] - 20.0) < 1e-9 and abs(row["threshold"] - 76.5) < 1e-9
    assert (row["period_start"], row["period_end"]) == (dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert row["frequency"] == "monthly" and "[76.50, 86.50]" in row["detail_en"]


def test_too_few_peers_raise_nothing(ops_warehouse: Path) -> None:
    assert "indicator_outside_peer_range" not in set(
        _alerts(ops_warehouse)["rule"]
    )  # 2 tertiary, 1 secondary


def test_the_last_complete_month() -> None:
    assert last_complete_month((dt.date(2025, 1, 1), dt.date(2025, 2, 28))) == (
        dt.date(2025, 2, 1),
        dt.date(2025, 2, 28),
    )
    assert last_complete_month((dt.date(2025, 1, 1), dt.date(2025, 3, 15)))[0] == dt.date(2025, 2, 1)  # type: ignore[index]
    assert last_complete_month((dt.date(2025, 3, 2), dt.date(2025, 3, 31))) is None


def test_every_build_raises_them_into_the_alert_list(ops_warehouse: Path, tmp_path: Path) -> None:
    assert PRODUCER in PRODUCERS
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(ops_warehouse, copy)
    ids = []
    for _ in range(2):
        with DuckDBEngine(copy) as engine:
            assert derive_alerts(engine, lambda *a: None, [PRODUCER]) == 2
            ids.append(
                sorted(engine.frame("SELECT alert_id FROM alert WHERE source = 'operations'")["alert_id"])
            )
    assert ids[0] == ids[1] and len(ids[0]) == 2


def test_the_built_warehouse_holds_the_operational_alerts(warehouse: Path) -> None:
    with DuckDBEngine(warehouse, read_only=True) as engine:
        stored = engine.frame(
            "SELECT rule, hospital_id, subject, period_start FROM alert WHERE source = 'operations'"
        )
        fresh = operational_alerts(engine)
    assert len(stored) == len(fresh) > 0


def test_a_bad_rule_is_named(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "- {id: r1, kind: census_run, unit: ward, above: 95, days: 3, lookback_days: 28, severity: info,"
        " zh: x, en: x}\n",
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError, match=r"rule 1 \(r1\): unit 'ward'"):
        load_rules(rules)
    rules.write_text("- {id: r2, kind: peer_range, indicators: [happiness], fence: 1.5, min_peers: 5,"
                     " min_denominator: 1, severity: info, zh: x, en: x}\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(DefinitionError, match="happiness"):
        load_rules(rules)


def test_a_warehouse_without_hospital_data_raises_nothing(tmp_path: Path) -> None:
    from tests.analytics.operations.fixture import write

    empty = write(tmp_path / "empty.duckdb", {"region": pd.DataFrame({"code": ["330000"]})})
    alerts = _alerts(empty)
    assert alerts.empty and list(alerts.columns) == columns()[1:]
