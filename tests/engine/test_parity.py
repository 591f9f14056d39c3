"""The tiny province built by DuckDB and by Spark: the same warehouse, marts, alerts and person index.

Both warehouses are read through the embedded engine (a Spark warehouse's Parquet files as views), so
the comparison sees what the API would serve. Rows compare in any order; integers by value (their
widths differ, see compare.py). Doubles within a relative 1e-9: costs, rates, lengths of stay, and what
the linkage model computes (m, u, match weights and probabilities), which expectation maximisation
reaches on both engines to about 1e-14 though each sums in its own order. Columns that record when or by
whom the build ran (load times, the model's training time and its Splink run id) are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from provista.engine import DuckDBEngine, layout
from provista.warehouse.schema import TABLES
from tests.engine.compare import table_differences

RTOL = 1e-9
RUN_TIMES = {"ingest_log": ("loaded_at", "run_started"), "link_model": ("trained_at", "model_json")}
MARTS = (
    "mart_visits_daily",
    "mart_bed_occupancy_monthly",
    "mart_discharges_monthly",
    "mart_cases_weekly",
    "mart_quality_hospital",
    "mart_diagnosis_weekly",
    "mart_visits_hourly",
)


@pytest.fixture(scope="module")
def both(warehouse: Path, spark_warehouse: Path) -> Iterator[tuple[DuckDBEngine, DuckDBEngine]]:
    duck, spark = DuckDBEngine(warehouse, read_only=True), DuckDBEngine(spark_warehouse, read_only=True)
    yield duck, spark
    duck.close()
    spark.close()


def test_both_engines_build_the_same_tables(both: tuple[DuckDBEngine, DuckDBEngine]) -> None:
    duck, spark = both
    assert spark.tables() == duck.tables()
    assert {*TABLES, "person", "alert", *MARTS} <= set(duck.tables())


def test_every_table_mart_and_alert_is_identical(both: tuple[DuckDBEngine, DuckDBEngine]) -> None:
    duck, spark = both
    problems = []
    for table in duck.tables():
        problems += table_differences(duck, spark, table, RTOL, RUN_TIMES.get(table, ()))
    assert not problems, "\n".join(problems)
    # not a vacuous comparison: the tiny province fills the tables that matter
    for table in ("encounter", "identity", "link_pair", "alert", *MARTS):
        assert int(duck.scalar(f"SELECT count(*) FROM {table}")) > 0, table


def test_the_person_index_is_the_same_on_both_engines(both: tuple[DuckDBEngine, DuckDBEngine]) -> None:
    """Every identity record gets the same person on both engines, and the model did link records."""
    sql = "SELECT source_file, record_ref, person_key FROM identity"
    duck, spark = (e.frame(sql).set_index(["source_file", "record_ref"])["person_key"] for e in both)
    joined = duck.to_frame("duck").join(spark.rename("spark"), how="outer")
    assert joined.notna().all().all()
    assert (joined["duck"] == joined["spark"]).all()
    sizes = joined.groupby("duck").size()
    assert (sizes > 1).sum() > 100  # persons seen in several records
    linked = both[1].scalar("SELECT count(*) FROM link_pair WHERE match_probability >= 0.99")
    assert linked > 20


def _close(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON documents differ (numbers within RTOL)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a)} vs {sorted(b)}"]
        return [d for k in a for d in _close(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _close(x, y, f"{path}[{i}]")]
    if isinstance(a, float) or isinstance(b, float):
        ok = isinstance(a, int | float) and isinstance(b, int | float) and abs(a - b) <= RTOL * abs(a)
        return [] if ok else [f"{path}: {a!r} vs {b!r}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def test_the_linkage_model_is_the_same_and_kept_in_duckdb_sql(
    both: tuple[DuckDBEngine, DuckDBEngine],
) -> None:
    """λ, every m and u, and the comparisons; the Spark-trained model is stored in DuckDB's SQL, so
    that `provista empi explain` (embedded) reads it."""
    models = [orjson.loads(e.scalar("SELECT model_json FROM link_model")) for e in both]
    for model in models:
        model.pop("linker_uid")  # a random name of the Splink run
    assert models[0]["sql_dialect"] == models[1]["sql_dialect"] == "duckdb"
    assert not _close(models[0], models[1])
    levels = [lv for c in models[1]["comparisons"] for lv in c["comparison_levels"]]
    assert any("list_has_any(" in lv["sql_condition"] for lv in levels)
    assert not any("arrays_overlap(" in lv["sql_condition"] for lv in levels)
    assert sum("m_probability" in lv for lv in levels) > 10


def test_a_spark_warehouse_is_versions_of_parquet_tables(spark_warehouse: Path) -> None:
    version = layout.current_version(spark_warehouse)
    assert version.parent == spark_warehouse / "versions"
    folders = layout.table_folders(version)
    assert {*TABLES, "person", "alert", *MARTS} <= set(folders)
    assert all(layout.parquet_files(f) for f in folders.values())
    assert not (spark_warehouse / ".lock").exists()
