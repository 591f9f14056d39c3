"""`provista detect` end to end: golden output through the CLI, index-only input, readable errors."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from provista.cli import app

runner = CliRunner()


def detect(*args: str):
    return runner.invoke(app, ["detect", *args])


def test_detect_writes_the_golden_classic_farrington(reference: Path, tmp_path: Path):
    out = tmp_path / "alarms.csv"
    result = detect(
        "--method", "farrington",
        "--input", str(reference / "inputs/salmNewportGermany.csv"),
        "--output", str(out),
        "--param", "b=3", "--param", "w=3", "--param", "range=161:528",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "368 (t = 161..528)" in result.output
    assert "26" in result.output
    ours = pd.read_csv(out, keep_default_na=False, na_values=["NA"])
    theirs = pd.read_csv(reference / "outputs/salmNewportGermany__farrington_classic_b3w3.csv")
    assert list(ours.columns[:5]) == ["t", "date", "observed", "upperbound", "alarm"]
    assert ours["alarm"].tolist() == theirs["alarm"].tolist()
    assert (ours["date"] == theirs["date"]).all()
    np.testing.assert_allclose(ours["upperbound"], theirs["upperbound"], rtol=1e-9)
    assert (ours["ref_idx"] == theirs["ref_idx"]).all()


def test_detect_on_an_index_only_series_with_na_bounds(reference: Path, tmp_path: Path):
    series = pd.read_csv(reference / "inputs/salmNewportGermany.csv")[["t", "date", "observed"]]
    series["date"] = ""
    source, out = tmp_path / "weekly.csv", tmp_path / "out.csv"
    series.to_csv(source, index=False)
    result = detect("--method", "farrington-flexible", "-i", str(source), "-o", str(out))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert table["t"].iloc[0] == str(52 * 5 + 3 + 1)  # R's default range
    assert (table["date"] == "").all()
    assert (table["upperbound"] == "NA").any()  # limit54 rows
    assert set(table["alarm"]) <= {"TRUE", "FALSE"}


@pytest.mark.parametrize(
    ("edit", "args", "expected"),
    [
        (lambda f: f.assign(observed=f["observed"].astype(str).mask(f["t"] == 30, "three")), [],
         ["row 31", "field 'observed'", "'three' is not a number"]),
        (lambda f: f.drop(columns="observed"), [], ["missing column(s) observed"]),
        (lambda f: f.assign(observed=f["observed"].mask(f["t"] == 5, -1)), [],
         ["row 6", "whole number >= 0"]),
        (lambda f: f, ["--param", "b=three"], ["parameter b='three' is not valid", "b must be"]),
        (lambda f: f, ["--param", "weights=1"], ["unknown parameter(s) weights", "takes: range, b, w"]),
        (lambda f: f, ["--param", "range=1:600"], ["goes past the last period (528)"]),
        (lambda f: f, ["--param", "range"], ["is not name=value"]),
    ],
)  # fmt: skip
def test_bad_input_is_a_readable_error(edit, args, expected, reference: Path, tmp_path: Path):
    source = tmp_path / "series.csv"
    edit(pd.read_csv(reference / "inputs/salmNewportGermany.csv")).to_csv(source, index=False)
    result = detect("--method", "farrington", "-i", str(source), "-o", str(tmp_path / "out.csv"), *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "What to do:" in result.output
    text = " ".join(result.output.split())
    for part in expected:
        assert part in text
    assert not (tmp_path / "out.csv").exists()


def test_unknown_method_lists_the_methods(tmp_path: Path):
    result = detect("--method", "holt-winters", "-i", str(tmp_path / "x.csv"), "-o", str(tmp_path / "y.csv"))
    assert result.exit_code == 2
    assert "ears-c1" in result.output and "mpm" in result.output


def test_daily_dates_give_daily_frequency(tmp_path: Path):
    days = pd.date_range("2019-01-01", "2022-12-31", freq="D")
    counts = np.random.default_rng(5).poisson(4, len(days))
    source, out = tmp_path / "daily.csv", tmp_path / "out.csv"
    pd.DataFrame({"t": range(1, len(days) + 1), "date": days.date, "observed": counts}).to_csv(
        source, index=False
    )
    result = detect("--method", "mpm", "-i", str(source), "-o", str(out), "-p", "percentile=90")
    assert result.exit_code == 0, result.output
    assert re.search(r"window \(resolved\)\s*│\s*7\s*│", result.output), result.output
    table = pd.read_csv(out)
    assert (table["n_windows"] == 15).all()
    assert (table["upperbound"] >= 0).all()
