"""What every engine must do alike, run on DuckDB and on Spark: the same statements, the same values.

Small hand-made warehouses, with the expected values worked out by hand in each test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import duckdb
import numpy as np
import pandas as pd
import pytest

from provista.engine import DuckDBEngine, EngineError, atomic_build, layout
from provista.engine.duckdb import MEMORY_LIMIT, memory_bytes
from provista.warehouse.marts import build_marts
from provista.warehouse.schema import create_all


def _target(tmp_path: Path, engine_name: str) -> Path:
    return tmp_path / ("w.duckdb" if engine_name == "duckdb" else "w.spark")


def _read(path: Path, sql: str) -> pd.DataFrame:
    with DuckDBEngine(path, read_only=True) as reader:
        return reader.frame(sql)


def test_table_statements_and_appends_mean_the_same(tmp_path: Path, engine_name: str) -> None:
    """DuckDB's DDL and DML the pipeline uses; rows appended from pandas cast by DuckDB's rules."""
    target = _target(tmp_path, engine_name)
    with atomic_build(target, engine=engine_name) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS t (k VARCHAR PRIMARY KEY, n INTEGER, ts TIMESTAMP, l BIGINT[])"
        )
        db.execute("CREATE TABLE IF NOT EXISTS t (k VARCHAR)")  # exists: nothing happens
        db.append("t", pd.DataFrame({"k": ["a", "b", "c"], "n": ["3", None, "5"], "l": [[1, 2], None, []]}))
        with pytest.raises(EngineError):
            db.append("t", pd.DataFrame({"k": ["d"], "nope": [1]}))
        db.execute("CREATE OR REPLACE TEMP TABLE picked AS SELECT k, n * 2 AS n2 FROM t WHERE n IS NOT NULL")
        db.execute("INSERT INTO t BY NAME SELECT 'z' AS k, CAST(max(n2) AS INTEGER) AS n FROM picked")
        db.set_from("t", "ts", "SELECT k, TIMESTAMP '2024-02-29 23:59:00' AS ts FROM t WHERE k <> 'b'", ["k"])
        db.set_from("t", "n", "SELECT 'a' AS k, CAST(NULL AS INTEGER) AS n", ["k"])  # set to NULL too
        assert db.scalar("SELECT count(*) FROM t") == 4
        assert db.scalar("SELECT sum(n) FROM t WHERE k = ?", ["z"]) == 10
        db.execute("CREATE OR REPLACE TABLE empty_copy AS SELECT * FROM t WHERE false")
        db.execute("CREATE TABLE gone (x INTEGER)")
        db.execute("DROP TABLE IF EXISTS gone")
        db.execute("CREATE TABLE cleared (x INTEGER)")
        db.append("cleared", pd.DataFrame({"x": [1, 2]}))
        db.execute("DELETE FROM cleared")
        assert db.tables() == ["cleared", "empty_copy", "picked", "t"]  # temporary ones too
    rows = _read(target, "SELECT k, n, ts, l FROM t ORDER BY k")
    assert rows["k"].tolist() == ["a", "b", "c", "z"]
    assert [None if pd.isna(n) else int(n) for n in rows["n"]] == [None, None, 5, 10]
    stamp = pd.Timestamp("2024-02-29 23:59")
    assert [None if pd.isna(t) else t for t in rows["ts"]] == [stamp, None, stamp, stamp]
    assert [list(v) if isinstance(v, list | np.ndarray) else None for v in rows["l"]] == [
        [1, 2],
        None,
        [],
        None,
    ]
    assert _read(target, "SELECT count(*) AS n FROM empty_copy")["n"].iloc[0] == 0
    assert _read(target, "SELECT count(*) AS n FROM cleared")["n"].iloc[0] == 0
    types = dict(_read(target, "DESCRIBE t")[["column_name", "column_type"]].itertuples(index=False))
    assert types == {"k": "VARCHAR", "n": "INTEGER", "ts": "TIMESTAMP", "l": "BIGINT[]"}


def test_spooled_parquet_files_are_appended_by_column_name(tmp_path: Path, engine_name: str) -> None:
    """The loading workers' spool: files whose columns differ in order, presence and type (a column all
    NULL in one file) go into the table by name, cast as appended frames are."""
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pd.DataFrame({"n": ["3", "4"], "k": ["a", "b"]}).to_parquet(first)
    pd.DataFrame({"k": ["c"], "n": [None], "ts": [pd.Timestamp("2024-01-02 03:04")]}).to_parquet(second)
    target = _target(tmp_path, engine_name)
    with atomic_build(target, engine=engine_name) as db:
        db.execute("CREATE TABLE t (k VARCHAR, n INTEGER, ts TIMESTAMP)")
        db.append_files("t", [first, second])
        db.append_files("t", [])
    rows = _read(target, "SELECT k, n, ts FROM t ORDER BY k")
    assert rows["k"].tolist() == ["a", "b", "c"]
    assert [None if pd.isna(n) else int(n) for n in rows["n"]] == [3, 4, None]
    assert rows["ts"].isna().tolist() == [True, True, False]


def test_spark_appends_do_not_pass_rows_through_the_driver(tmp_path: Path, spark_ready: None) -> None:
    """Appended rows become Parquet files of the table written by this process: createDataFrame would ship
    them inside Spark's tasks through the driver's heap (the small province ran a 2 GB driver out of
    memory). Every row arrives once; each append adds one file."""
    files = []
    for i in range(2):
        files.append(tmp_path / f"{i}.parquet")
        frame = pd.DataFrame({"k": [f"{i}-{j}" for j in range(5)], "n": [str(j) for j in range(5)]})
        frame.to_parquet(files[-1])
    target = _target(tmp_path, "spark")
    with atomic_build(target, engine="spark") as db:
        db.execute("CREATE TABLE t (k VARCHAR, n INTEGER, ts TIMESTAMP)")

        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError("rows went through createDataFrame")

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cast(Any, db).spark, "createDataFrame", refuse)
            db.append_files("t", files)
            db.append("t", pd.DataFrame({"k": ["x"], "n": [7], "ts": [pd.Timestamp("2024-03-05 08:30")]}))
        assert db.frame("SELECT count(*) AS n FROM t")["n"].iloc[0] == 11  # Spark reads them
    rows = _read(target, "SELECT k, n, ts FROM t ORDER BY k")
    assert rows["k"].tolist() == [f"{i}-{j}" for i in range(2) for j in range(5)] + ["x"]
    assert rows["n"].tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 7]
    assert rows["ts"].tolist()[-1] == pd.Timestamp("2024-03-05 08:30")  # a wall-clock time stays one
    folder = layout.table_folders(layout.current_version(target))["t"]
    assert len([f for f in layout.parquet_files(folder) if f.name != "part-empty.parquet"]) == 2


def test_marts_mean_the_same_on_both_engines(tmp_path: Path, engine_name: str) -> None:
    """Bed-days count midnights between the dates (a same-day stay counts one), weeks start on Monday,
    a month without open beds has no occupancy rate (not infinity, not an error)."""
    target = _target(tmp_path, engine_name)
    ts = pd.Timestamp
    encounters = pd.DataFrame(
        {
            "hospital_id": "H1",
            "encounter_id": ["e1", "e2", "e3", "e4"],
            "type": ["inpatient", "inpatient", "inpatient", "outpatient"],
            "department": "内科",
            "admit_ts": [
                ts("2024-01-31 23:30"),
                ts("2024-02-05 08:00"),
                ts("2024-02-10 10:00"),
                ts("2024-02-04"),
            ],
            "discharge_ts": [ts("2024-02-01 00:30"), ts("2024-02-05 17:00"), ts("2024-02-13 09:00"), None],
            "outcome": ["cured", "died", "cured", None],
            "cost": [100.5, 20.25, 300.0, 7.0],
            "source_file": "f",
            "record_ref": ["1", "2", "3", "4"],
        }
    )
    census = pd.DataFrame(
        {
            "hospital_id": "H1",
            "department": ["内科", "内科", "外科", "外科"],
            "date": [dt.date(2024, 2, 1), dt.date(2024, 2, 2), dt.date(2024, 2, 1), dt.date(2024, 2, 2)],
            "occupied_beds": [8, 6, 0, 0],
            "open_beds": [10, 10, 0, 0],
            "source_file": "f",
            "record_ref": ["1", "2", "3", "4"],
        }
    )
    cases = pd.DataFrame(
        {
            "report_id": ["r1", "r2", "r3"],
            "disease": "流行性感冒",
            "disease_class": "C",
            "onset_date": [dt.date(2024, 2, 7), dt.date(2024, 2, 4), dt.date(2024, 2, 5)],
            "county_code": "330102",
            "source_file": "f",
            "record_ref": ["1", "2", "3"],
        }
    )
    with atomic_build(target, engine=engine_name) as db:
        create_all(db)
        db.append("encounter", encounters)
        db.append("bed_census", census)
        db.append("case_report", cases)
        db.append("diagnosis", pd.DataFrame({"hospital_id": "H1", "encounter_id": ["e1", "e3"],
                                             "icd10": ["J10.1", "I21.0"], "source_file": "f",
                                             "record_ref": ["1", "2"]}))  # fmt: skip
        build_marts(db)
    stays = _read(target, "SELECT * FROM mart_discharges_monthly ORDER BY month")
    assert stays["month"].tolist() == [ts("2024-02-01")]
    assert stays[["discharges", "patient_bed_days", "deaths"]].iloc[0].tolist() == [3, 1 + 1 + 3, 1]
    assert stays["average_length_of_stay"].iloc[0] == pytest.approx(5 / 3, rel=1e-12)
    beds = _read(target, "SELECT department, occupancy_rate FROM mart_bed_occupancy_monthly ORDER BY 1")
    assert beds["department"].tolist() == ["内科", "外科"]
    assert beds["occupancy_rate"].iloc[0] == pytest.approx(14 / 20, rel=1e-12)
    assert pd.isna(beds["occupancy_rate"].iloc[1])
    weeks = _read(target, "SELECT week, cases FROM mart_cases_weekly ORDER BY week")
    assert weeks["week"].tolist() == [ts("2024-01-29"), ts("2024-02-05")]
    assert weeks["cases"].tolist() == [1, 2]
    hours = _read(target, "SELECT hour, n FROM mart_visits_hourly ORDER BY hour")
    assert hours["hour"].tolist() == [0, 8, 10, 23]
    chapters = _read(target, "SELECT chapter, week FROM mart_diagnosis_weekly ORDER BY chapter")
    assert chapters["chapter"].tolist() == ["IX", "X"]
    visits = _read(target, "SELECT sum(cost_total) AS c, sum(visits) AS v FROM mart_visits_daily")
    assert visits["c"].iloc[0] == pytest.approx(427.75, rel=1e-12) and visits["v"].iloc[0] == 4


def test_the_sampling_hash_is_the_md5_rule_on_both_engines(tmp_path: Path, engine_name: str) -> None:
    values = ["abc_1", "王小明#2", "330102199001011234"]
    with atomic_build(_target(tmp_path, engine_name), engine=engine_name) as db:
        for value in values:
            expected = int(hashlib.md5(value.encode()).hexdigest()[:15], 16) % 1_000_000_000
            literal = "'" + value + "'"
            assert db.scalar(f"SELECT {db.hash_bucket(literal, 1_000_000_000)}") == expected


def test_a_failed_build_leaves_the_current_version_and_readers_keep_theirs(
    tmp_path: Path, engine_name: str
) -> None:
    target = _target(tmp_path, engine_name)

    def build(rows: list[int], fail: bool = False) -> None:
        with atomic_build(target, engine=engine_name) as db:
            db.execute("CREATE TABLE t (x INTEGER)")
            db.append("t", pd.DataFrame({"x": rows}))
            if fail:
                raise RuntimeError("the build broke")

    build([1, 2])
    with pytest.raises(RuntimeError):
        build([3], fail=True)
    assert _read(target, "SELECT sum(x) AS s FROM t")["s"].iloc[0] == 3
    reader = DuckDBEngine(target, read_only=True)
    build([10])
    assert reader.frame("SELECT sum(x) AS s FROM t")["s"].iloc[0] == 3  # the version it opened
    reader.close()
    assert _read(target, "SELECT sum(x) AS s FROM t")["s"].iloc[0] == 10
    if engine_name == "spark":
        assert len(list((target / layout.VERSIONS).iterdir())) == 2  # the failed one was removed
    with pytest.raises(EngineError):
        atomic_build(target, engine="spark" if engine_name == "duckdb" else "duckdb").__enter__()


def test_spark_has_no_update_and_says_what_to_use(tmp_path: Path, spark_ready: None) -> None:
    with atomic_build(tmp_path / "w", engine="spark") as db:
        db.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(EngineError, match="set_from"):
            db.execute("UPDATE t SET x = 1")
        with pytest.raises(EngineError, match="in: SELECT nope"):
            db.frame("SELECT nope FROM t")


def test_the_spark_session_is_the_configured_one(spark_ready: None) -> None:
    """Local mode by default; the master URL or the Spark Connect server when configured (`make
    test-cluster` runs this directory on both): the cluster tests would prove nothing on a local session."""
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    from provista.engine.spark import spark_session

    session = spark_session()
    remote = os.environ.get("PROVISTA_SPARK_REMOTE")
    if remote:
        assert isinstance(session, ConnectSession)
        assert session.client.host == urlsplit(remote).hostname  # type: ignore[attr-defined]
    else:
        assert not isinstance(session, ConnectSession)
        assert session.sparkContext.master == os.environ.get("PROVISTA_SPARK_MASTER", "local[2]")


def test_splink_and_the_warehouse_share_the_duckdb_memory_budget(tmp_path: Path) -> None:
    """While Splink's scratch database works, the warehouse keeps a quarter of PROVISTA_DUCKDB_MEMORY
    and Splink gets the rest (while the loading workers parse, it keeps half); afterwards the warehouse
    has it all again and the scratch is closed."""
    budget = memory_bytes(MEMORY_LIMIT)

    def limit(con: object) -> int:
        setting = con.execute("SELECT current_setting('memory_limit')").fetchone()  # type: ignore[attr-defined]
        return memory_bytes(setting[0])

    with DuckDBEngine(tmp_path / "w.duckdb") as db:
        with db.linkage_backend(tmp_path) as splink:
            # rel=0.1: DuckDB shows the setting with one decimal (1.3 GiB)
            assert limit(db.con) == pytest.approx(budget / 4, rel=0.1)
            assert limit(splink._con) == pytest.approx(budget * 3 / 4, rel=0.1)
        assert limit(db.con) == pytest.approx(budget, rel=0.1)
        with db.memory_share(0.5) as rest:  # while the loading workers parse
            assert limit(db.con) == pytest.approx(budget / 2, rel=0.1) and rest == budget - budget // 2
        assert limit(db.con) == pytest.approx(budget, rel=0.1)
        with pytest.raises(duckdb.Error):
            splink._con.execute("SELECT 1")
    assert memory_bytes("2GB") == 2_000_000_000 and memory_bytes("1.5GiB") == 3 * 2**29
    assert memory_bytes("512 mb") == 512_000_000
    with pytest.raises(EngineError, match="not an amount of memory"):
        memory_bytes("lots")


def test_set_from_keeps_every_row_in_its_place_on_a_large_table(tmp_path: Path) -> None:
    """DuckDB rewrites the table beside the new values (positional join): rows keep their order and
    their other columns, the matched ones take the new value, the others keep theirs; more rows than
    one row group (122,880) so that the scan runs in parallel."""
    n = 300_000
    keys = np.random.default_rng(7).permutation(n)
    with atomic_build(tmp_path / "w.duckdb") as db:
        db.execute("CREATE TABLE t (k BIGINT, v VARCHAR, pad VARCHAR)")
        db.append("t", pd.DataFrame({"k": keys, "v": "old", "pad": [f"p{k}" for k in keys]}))
        db.set_from("t", "v", "SELECT k, 'new' || k AS v FROM t WHERE k % 3 = 0", ["k"])
        after = db.frame("SELECT k, v, pad FROM t")
    assert after["k"].tolist() == keys.tolist()  # the same order
    assert (after["pad"] == "p" + after["k"].astype(str)).all()
    expected = np.where(keys % 3 == 0, ["new" + str(k) for k in keys], "old")
    assert after["v"].tolist() == expected.tolist()
