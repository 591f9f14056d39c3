"""Every indicator against a hand computation on the fixture warehouse (fixture.py says what it holds).

Expected values are written as the arithmetic a person does from the fixture's description; tolerance
1e-9 (floating point only).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest

from provista.analytics.operations import indicator_table, load_definitions, peer_rank, peer_statistics
from provista.analytics.operations.definitions import DefinitionError, definitions_markdown
from provista.analytics.operations.measures import periods
from provista.engine import DuckDBEngine
from provista.errors import ConfigError

JAN1, FEB1, FEB28, MAR31 = (
    dt.date(2025, 1, 1),
    dt.date(2025, 2, 1),
    dt.date(2025, 2, 28),
    dt.date(2025, 3, 31),
)
DAYS = 59  # 1 Jan – 28 Feb 2025

# Hand computation, 1 Jan – 28 Feb 2025.
HA_OCCUPIED = 16 * 31 + 19 * 28 + 7 * 59  # MED + SUR census
HA_OPEN = 20 * 59 + 10 * 59
HB_OCCUPIED = (3 * 59 + 3 + 2) + (1 * 59 + 2 * 4)  # SUR (+1 on five days) + MED (+2 on four days)
HB_OPEN = 4 * 59 + 2 * 59
EXPECTED = {
    "HA": {
        "bed_occupancy_rate": HA_OCCUPIED / HA_OPEN * 100,
        "bed_turnover": 4 / (HA_OPEN / DAYS),  # E1 (discharged in Feb), E2, E3, E4; E5 in, E6 in March
        "average_bed_working_days": HA_OCCUPIED / (HA_OPEN / DAYS),
        "average_length_of_stay": (3 + 1 + 7 + 5) / 4,  # the same-day stay E2 counts 1
        "inpatient_mortality": 1 / 4 * 100,
        "surgery_share": 2 / 4 * 100,  # E3 (two operations, counted once) and E4
        "grade4_surgery_share": 1 / 2 * 100,  # E3's highest grade is 4
        "equipment_positive_rate": (20 + 15) / (50 + 20) * 100,
        "equipment_utilisation": (12 + 8) / (24 + 16) * 100,
        "outpatient_discharge_ratio": (10 + 6) / 4,  # emergency visits are not outpatient visits
        "or_utilisation": (120 + 270 + 90 + 45) / (2 * DAYS * 480) * 100,  # the outpatient operation too
    },
    "HB": {
        "bed_occupancy_rate": HB_OCCUPIED / HB_OPEN * 100,
        "bed_turnover": 2 / (HB_OPEN / DAYS),
        "average_bed_working_days": HB_OCCUPIED / (HB_OPEN / DAYS),
        "average_length_of_stay": (5 + 4) / 2,
        "inpatient_mortality": 0.0,
        "surgery_share": 2 / 2 * 100,  # E8's three operations count once
        "grade4_surgery_share": 1 / 2 * 100,
        "equipment_positive_rate": 6 / 30 * 100,
        "equipment_utilisation": 6 / 12 * 100,
        "outpatient_discharge_ratio": 4 / 2,
        "or_utilisation": (240 + 60 + 30 + 60) / (1 * DAYS * 480) * 100,
    },
    "HC": {  # zero beds, no operating room, no equipment: NULL, not infinite and not 0
        "bed_occupancy_rate": None,
        "bed_turnover": None,
        "average_bed_working_days": None,
        "average_length_of_stay": 2.0,
        "inpatient_mortality": 100.0,
        "surgery_share": 0.0,
        "grade4_surgery_share": None,
        "equipment_positive_rate": None,
        "equipment_utilisation": None,
        "outpatient_discharge_ratio": 3 / 1,
        "or_utilisation": None,
    },
}


def _close(actual: float, expected: float | None) -> bool:
    if expected is None:
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    return abs(actual - expected) < 1e-9


def _rows(table: pd.DataFrame, key: str = "hospital_id") -> dict[str, dict[str, float]]:
    return {r[key]: r for r in table.to_dict("records")}


@pytest.fixture(scope="module")
def engine(ops_warehouse: Path):  # type: ignore[no-untyped-def]
    with DuckDBEngine(ops_warehouse, read_only=True) as e:
        yield e


def test_every_indicator_matches_the_hand_computation(engine: DuckDBEngine) -> None:
    rows = _rows(indicator_table(engine, "hospital", JAN1, FEB28))
    assert set(rows) == {"HA", "HB", "HC"}
    assert {i.id for i in load_definitions().indicators} == set(EXPECTED["HA"])
    for hospital, expected in EXPECTED.items():
        assert rows[hospital]["days"] == DAYS
        for indicator, value in expected.items():
            assert _close(rows[hospital][indicator], value), (hospital, indicator, rows[hospital][indicator])


def test_numerators_and_denominators_are_in_the_table(engine: DuckDBEngine) -> None:
    ha = _rows(indicator_table(engine, "hospital", JAN1, FEB28))["HA"]
    assert (ha["occupied_bed_days"], ha["open_bed_days"]) == (HA_OCCUPIED, HA_OPEN)
    assert (ha["discharges"], ha["patient_bed_days"], ha["deaths"]) == (4, 16, 1)
    assert (ha["surgical_discharges"], ha["grade4_discharges"], ha["outpatient_visits"]) == (2, 1, 16)
    assert (ha["or_minutes_used"], ha["or_minutes_available"]) == (525, 2 * DAYS * 480)


def test_a_stay_across_the_month_end_counts_in_its_discharge_month_and_the_census_in_each(
    engine: DuckDBEngine,
) -> None:
    table = indicator_table(engine, "hospital", JAN1, FEB28, grain="month")
    ha = table[table["hospital_id"] == "HA"].set_index("period")
    jan, feb = ha.loc[JAN1], ha.loc[FEB1]
    # patient view: E1 (30 Jan → 2 Feb) is a February discharge with all 3 of its bed-days
    assert (jan["discharges"], jan["patient_bed_days"]) == (2, 1 + 7)
    assert (feb["discharges"], feb["patient_bed_days"]) == (2, 3 + 5)
    # bed view: each census day in its own month; average open beds over each month's own days
    assert (jan["occupied_bed_days"], jan["days"], feb["days"]) == (16 * 31 + 7 * 31, 31, 28)
    assert _close(jan["average_open_beds"], (20 + 10) * 31 / 31)
    assert _close(feb["bed_occupancy_rate"], (19 * 28 + 7 * 28) / (30 * 28) * 100)
    assert _close(jan["or_utilisation"], (120 + 270 + 45) / (2 * 31 * 480) * 100)


def test_a_period_past_the_census_is_clipped_to_the_days_the_warehouse_has(engine: DuckDBEngine) -> None:
    ha = _rows(indicator_table(engine, "hospital", FEB1, MAR31))["HA"]
    assert ha["days"] == 28  # the census ends 28 Feb
    assert _close(ha["average_open_beds"], (20 * 28 + 10 * 28) / 28)
    assert ha["discharges"] == 3  # E1, E4 and E6 (2 March)
    assert periods(FEB1, MAR31, "period", None)["days"].tolist() == [59]


def test_departments_cities_counties_and_the_province(engine: DuckDBEngine) -> None:
    dept = indicator_table(engine, "department", JAN1, FEB28)
    by_dept = {(r["hospital_id"], r["department"]): r for r in dept.to_dict("records")}
    med, sur = by_dept[("HA", "MED")], by_dept[("HA", "SUR")]
    assert _close(med["bed_occupancy_rate"], (16 * 31 + 19 * 28) / (20 * 59) * 100)
    assert _close(med["average_length_of_stay"], (3 + 1) / 2)
    assert _close(sur["surgery_share"], 100.0) and _close(sur["grade4_surgery_share"], 50.0)
    assert _close(sur["outpatient_discharge_ratio"], 6 / 2)
    assert math.isnan(sur["or_utilisation"]) and math.isnan(sur["equipment_utilisation"])  # not departmental
    assert math.isnan(by_dept[("HC", "MED")]["bed_occupancy_rate"])  # zero beds
    city = _rows(indicator_table(engine, "city", JAN1, FEB28), "city_code")
    assert city["330100"]["name_zh"] == "杭州市"
    assert _close(
        city["330100"]["bed_occupancy_rate"], (HA_OCCUPIED + HB_OCCUPIED) / (HA_OPEN + HB_OPEN) * 100
    )
    assert _close(city["330100"]["average_length_of_stay"], (16 + 9) / 6)
    assert math.isnan(city["330200"]["bed_occupancy_rate"])
    county = _rows(indicator_table(engine, "county", JAN1, FEB28), "county_code")
    assert set(county) == {"330102", "330106", "330203"}
    assert _close(county["330106"]["bed_turnover"], EXPECTED["HB"]["bed_turnover"])
    province = indicator_table(engine, "province", JAN1, FEB28).iloc[0]
    assert province["discharges"] == 7 and _close(province["inpatient_mortality"], 2 / 7 * 100)
    assert _close(province["or_utilisation"], (525 + 390) / (3 * DAYS * 480) * 100)


def test_a_scope_counts_only_its_hospitals(engine: DuckDBEngine) -> None:
    table = indicator_table(engine, "city", JAN1, FEB28, hospitals=["HB"])
    assert table["city_code"].tolist() == ["330100"]
    assert _close(table["bed_occupancy_rate"].iloc[0], EXPECTED["HB"]["bed_occupancy_rate"])
    assert indicator_table(engine, "hospital", JAN1, FEB28, hospitals=[]).empty


def test_peers_rank_by_the_better_direction_and_give_quartiles(engine: DuckDBEngine) -> None:
    defs = load_definitions()
    table = indicator_table(engine, "hospital", JAN1, FEB28)
    alos = defs.indicator("average_length_of_stay")  # lower is better: HA 4.0 before HB 4.5
    ranked = peer_rank(table, alos).set_index("hospital_id")
    assert (ranked.loc["HA", "rank"], ranked.loc["HB", "rank"], ranked.loc["HA", "peers"]) == (1, 2, 2)
    assert ranked.loc["HC", "rank"] == 1 and ranked.loc["HC", "peers"] == 1  # the only secondary hospital
    occupancy = defs.indicator("bed_occupancy_rate")  # band 85–93: HA (81.4) is nearer than HB (70.3)
    assert peer_rank(table, occupancy).set_index("hospital_id").loc["HA", "rank"] == 1
    assert pd.isna(peer_rank(table, occupancy).set_index("hospital_id").loc["HC", "rank"])
    stats = peer_statistics(table, alos).set_index("level").loc["三级"]
    assert (stats["peers"], stats["q1"], stats["median"], stats["q3"]) == (2, 4.125, 4.25, 4.375)


def test_bad_units_and_periods_are_refused_with_a_hint(engine: DuckDBEngine) -> None:
    with pytest.raises(ConfigError, match="ward") as err:
        indicator_table(engine, "ward", JAN1, FEB28)
    assert err.value.hint
    with pytest.raises(ConfigError, match="before it starts"):
        indicator_table(engine, "hospital", FEB28, JAN1)


def test_the_definitions_are_checked_and_document_themselves(tmp_path: Path) -> None:
    text = definitions_markdown()
    for ind in load_definitions().indicators:
        assert f"`{ind.id}`" in text and ind.name_zh in text
    assert "480 min" in text  # the session length comes from the file's parameters
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "measures:\n  - {id: discharges, name_zh: 出院人数, name_en: discharges, view: patient, en: x, y}\n"
        "indicators: []\n",
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError, match="unknown keys"):
        load_definitions(bad)
    bad.write_text(
        "measures:\n  - {id: beds_by_magic, name_zh: x, name_en: x, view: bed, en: x}\nindicators: []\n",
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError, match="no query"):
        load_definitions(bad)


def test_the_columns_the_measures_read_are_in_the_warehouse_schema() -> None:
    from provista.analytics.operations.measures import SOURCE_COLUMNS
    from provista.warehouse.schema import columns

    for table, cols in SOURCE_COLUMNS.items():
        assert set(cols) <= set(columns(table)), table
