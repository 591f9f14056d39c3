"""`provista indicators` on the fixture warehouse: the table a user gets, and the errors a typo gets."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from provista.analytics.operations import load_definitions
from provista.analytics.operations.measures import MEASURE_SOURCES
from provista.cli import app

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "provista", "indicators", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_csv_has_one_row_per_unit_and_every_indicator_numerator_and_denominator(ops_warehouse: Path) -> None:
    done = _run("--warehouse", str(ops_warehouse), "--by", "hospital", "--from", "2025-01-01", "--to",
                "2025-02-28", "--format", "csv")  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(io.StringIO(done.stdout)).set_index("hospital_id")
    assert table.index.tolist() == ["HA", "HB", "HC"]
    ids = [i.id for i in load_definitions().indicators]
    assert set(ids) <= set(table.columns) and set(MEASURE_SOURCES) <= set(table.columns)
    assert abs(table.loc["HA", "average_length_of_stay"] - 16 / 4) < 1e-9
    assert abs(table.loc["HA", "bed_occupancy_rate"] - 1441 / 1770 * 100) < 1e-9
    assert pd.isna(table.loc["HC", "bed_occupancy_rate"])  # zero beds: empty, not inf


def test_json_by_county_and_the_table_format(ops_warehouse: Path) -> None:
    done = _run("--warehouse", str(ops_warehouse), "--by", "county", "--from", "2025-01-01", "--to",
                "2025-02-28", "--format", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["by"] == "county" and payload["units"]["bed_turnover"] == "times"
    rows = {r["county_code"]: r for r in payload["rows"]}
    assert rows["330203"]["bed_occupancy_rate"] is None and rows["330203"]["inpatient_mortality"] == 100.0
    assert rows["330106"]["discharges"] == 2
    table = _run(
        "--warehouse", str(ops_warehouse), "--by", "city", "--from", "2025-01-01", "--to", "2025-02-28"
    )
    assert table.returncode == 0 and "杭州市" in table.stdout and "bed_occupancy_rate" in table.stdout


def test_definitions_print_without_a_warehouse() -> None:
    result = runner.invoke(app, ["indicators", "--definitions"])
    assert result.exit_code == 0
    assert "| `bed_occupancy_rate` | 病床使用率 |" in result.output


def test_bad_input_gets_a_message_and_what_to_do(ops_warehouse: Path, tmp_path: Path) -> None:
    base = ["indicators", "--warehouse", str(ops_warehouse), "--from", "2025-01-01", "--to", "2025-02-28"]
    cases = [
        (["--by", "ward"], "--by 'ward' is not one of hospital, department"),
        (["--by", "hospital", "--format", "xml"], "--format 'xml' is not one of"),
    ]
    for extra, message in cases:
        result = runner.invoke(app, [*base, *extra])
        assert result.exit_code == 2 and message in result.output and "What to do" in result.output
    bad_date = runner.invoke(app, ["indicators", "--warehouse", str(ops_warehouse), "--from", "2025-02-30",
                                   "--to", "2025-03-01"])  # fmt: skip
    assert bad_date.exit_code == 2 and "'2025-02-30' is not a date" in bad_date.output
    swapped = runner.invoke(app, ["indicators", "--warehouse", str(ops_warehouse), "--from", "2025-03-01",
                                  "--to", "2025-01-01"])  # fmt: skip
    assert swapped.exit_code == 2 and "before" in swapped.output
    missing = runner.invoke(app, ["indicators", "--warehouse", str(tmp_path / "none.duckdb"), "--from",
                                  "2025-01-01", "--to", "2025-01-31"])  # fmt: skip
    assert missing.exit_code == 2 and "provista build" in missing.output
    assert "Traceback" not in missing.output
