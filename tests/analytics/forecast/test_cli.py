"""`provista forecast` and `provista forecast backtest` on the tiny province's warehouse.

The warehouse is read through DuckDBEngine: DuckDB refuses a second connection to a file with another
configuration while an earlier test of the same worker (the API server) still holds it open."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from provista.cli import app
from provista.engine import DuckDBEngine

runner = CliRunner()


def _run(*args: str) -> str:
    """The command's standard output (in-process: importing provista in a subprocess costs seconds)."""
    given = runner.invoke(app, ["forecast", *args])
    assert given.exit_code == 0, given.output
    return given.stdout


@pytest.fixture(scope="module")
def complete_hospital(warehouse: Path) -> str:
    """A hospital whose every open department sent all of the last 42 census days (no gap to fill)."""
    with DuckDBEngine(warehouse, read_only=True) as engine, engine.con as con:
        row = con.execute(
            """WITH per AS (SELECT hospital_id, department, count(*) AS n FROM bed_census
                            WHERE date > (SELECT max(date) FROM bed_census) - 42 GROUP BY ALL)
               SELECT hospital_id FROM per GROUP BY 1 HAVING min(n) = 42
               ORDER BY count(*) DESC, hospital_id LIMIT 1"""
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_forecast_csv_one_hospital_total_and_departments(warehouse: Path, complete_hospital: str) -> None:
    done = _run(
        "--warehouse", str(warehouse), "--hospital", complete_hospital, "--horizon", "14", "--format", "csv"
    )
    table = pd.read_csv(io.StringIO(done), keep_default_na=False)
    with DuckDBEngine(warehouse, read_only=True) as engine, engine.con as con:
        last = con.execute("SELECT max(date) FROM bed_census").fetchone()[0]  # type: ignore[index]
        beds = dict(con.execute(
            """SELECT department, open_beds FROM bed_census WHERE hospital_id = ? AND date = ?""",
            [complete_hospital, last],
        ).fetchall())  # fmt: skip
    assert set(table["department"]) == {"", *beds}
    assert len(table) == 14 * (1 + len(beds))
    assert (
        table.groupby("department")["horizon"].apply(list) == [list(range(1, 15))] * (1 + len(beds))
    ).all()
    assert table["date"].min() == str(last + pd.Timedelta(days=1).to_pytimedelta())
    for low, high in [("lo95", "lo80"), ("lo80", "point"), ("point", "hi80"), ("hi80", "hi95")]:
        assert (table[low] <= table[high]).all()
    assert (table["lo95"] >= 0).all()
    total = table[table["department"] == ""]
    assert (total["open_beds"] == sum(beds.values())).all()
    assert total["occupancy"].to_numpy() == pytest.approx(total["point"] / sum(beds.values()) * 100)


def test_backtest_csv_seasonal_naive_mae_by_hand(warehouse: Path, complete_hospital: str) -> None:
    done = _run("backtest", "--warehouse", str(warehouse), "--hospital", complete_hospital, "--origins", "3",
                "--horizon", "14", "--format", "csv")  # fmt: skip
    table = pd.read_csv(io.StringIO(done))
    assert len(table) == 2 * 2 * 2  # hospital and department series × two buckets × arx and baseline
    assert set(table["bucket"]) == {"1–7", "8–14"} and set(table["model"]) == {"arx", "snaive"}
    # By hand: the hospital's total census T, origins o = last − 14 − 7k (k = 0, 1, 2); 1–7 days ahead the
    # baseline forecasts T[o + h − 7], so MAE = mean |T[o + h] − T[o + h − 7]|.
    with DuckDBEngine(warehouse, read_only=True) as engine, engine.con as con:
        total = (
            con.execute(
                """SELECT date, sum(occupied_beds)::DOUBLE AS n FROM bed_census WHERE hospital_id = ?
               GROUP BY 1 ORDER BY 1""",
                [complete_hospital],
            )
            .df()
            .set_index("date")["n"]
        )
    total.index = pd.to_datetime(total.index)
    last = total.index[-1]
    errors = [
        abs(total[o + pd.Timedelta(days=h)] - total[o + pd.Timedelta(days=h - 7)])
        for k in range(3)
        for o in [last - pd.Timedelta(days=14 + 7 * k)]
        for h in range(1, 8)
    ]
    row = table[(table["grain"] == "hospital") & (table["bucket"] == "1–7") & (table["model"] == "snaive")]
    assert row["n"].item() == 21
    assert row["mae"].item() == pytest.approx(sum(errors) / len(errors))


def test_backtest_table_and_json_say_whether_the_model_beats_the_baseline(
    warehouse: Path, complete_hospital: str
) -> None:
    args = ["forecast", "backtest", "--warehouse", str(warehouse), "--hospital", complete_hospital,
            "--origins", "2", "--horizon", "7"]  # fmt: skip
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert "snaive (baseline)" in shown.output and "MAE (beds)" in shown.output
    assert "seasonal-naive baseline" in shown.output
    given = runner.invoke(app, [*args, "--format", "json"])
    body = json.loads(given.stdout)
    assert {r["model"] for r in body["rows"]} == {"arx", "snaive"}
    for r in body["rows"]:
        if r["model"] == "arx":
            verdict = "beats" if r["mae"] < r["baseline_mae"] else "does NOT beat"
            assert any(s.startswith(f"arx {verdict}") and r["grain"] in s for s in body["statements"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "unknown --format"),
        (["--horizon", "40"], "outside 1 to 28 days"),
        (["--hospital", "H0000000000"], "no bed census for hospital H0000000000"),
        (["--department", "XYZ"], "no open department 'XYZ'"),
        (["--model", "prophet"], "unknown --model"),
        (["backtest", "--models", "arx,prophet"], "unknown --models"),
    ],
)
def test_mistakes_get_a_message_and_what_to_do_not_a_traceback(
    warehouse: Path, args: list[str], message: str
) -> None:
    sub = args[:1] if args[0] == "backtest" else []
    given = runner.invoke(app, ["forecast", *sub, "--warehouse", str(warehouse), *args[len(sub) :]])
    assert given.exit_code == 2
    assert message in given.output and "What to do:" in given.output and "Traceback" not in given.output


def test_a_missing_warehouse_is_named(tmp_path: Path) -> None:
    given = runner.invoke(app, ["forecast", "--warehouse", str(tmp_path / "none.duckdb")])
    assert given.exit_code == 2 and "no warehouse at" in given.output and "provista build" in given.output
