"""Differential privacy: the noise OpenDP adds has the spread ε promises, the error shown beside each
number is the noise's own 95% interval, and the ledger refuses a release that would overspend.

OpenDP draws its noise from the operating system's secure generator and takes no seed (a seeded
generator would let anyone who learns the seed subtract the noise), so the statistical checks use many
draws and tolerances of several standard errors instead: each fails by chance far less than once in a
million runs."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from provista.engine import DuckDBEngine
from provista.errors import ProvistaError
from provista.privacy.dp import (
    discrete_laplace_half_width,
    discrete_laplace_variance,
    release_counts_on_keys,
    release_counts_with_threshold,
)
from provista.privacy.ledger import BudgetExceededError, Ledger, LedgerTamperedError
from tests.conftest import ROOT

DRAWS = 20_000


def _variance_by_hand(scale: float) -> float:
    """Σ z² Pr[z] over the discrete Laplace distribution, summed term by term."""
    a = math.exp(-1 / scale)
    z = np.arange(-4000, 4001)
    p = (1 - a) / (1 + a) * a ** np.abs(z)
    return float((z**2 * p).sum())


@pytest.mark.parametrize("epsilon, bound", [(0.5, 1), (1.0, 1), (2.0, 3), (1.0, 10)])
def test_noise_scale_and_variance_match_epsilon(epsilon: float, bound: int) -> None:
    noisy = release_counts_on_keys({str(i): 0 for i in range(DRAWS)}, bound, epsilon)
    assert noisy.scale == pytest.approx(bound / epsilon, rel=1e-6)  # b = sensitivity / ε
    assert noisy.epsilon <= epsilon + 1e-9
    expected = _variance_by_hand(bound / epsilon)
    assert discrete_laplace_variance(bound / epsilon) == pytest.approx(expected, rel=1e-9)
    draws = np.array(list(noisy.counts.values()), dtype=float)
    # the sample variance of a Laplace-like variable has relative standard error √(5/n) ≈ 1.6% here
    assert draws.var() == pytest.approx(expected, rel=0.08)
    assert abs(draws.mean()) < 6 * math.sqrt(expected / DRAWS)


def test_the_95_percent_half_width_is_the_noise_interval() -> None:
    for scale in (1.0, 2.0, 4.0, 20.0):
        h = discrete_laplace_half_width(scale)
        a = math.exp(-1 / scale)
        beyond = [2 * a ** (t + 1) / (1 + a) for t in (h, h - 1)]  # Pr[|Z| > t]
        assert beyond[0] <= 0.05 < beyond[1]
    noisy = release_counts_on_keys({str(i): 0 for i in range(DRAWS)}, 1, 0.5)
    covered = np.mean(np.abs(list(noisy.counts.values())) <= noisy.half_width_95)
    exact = 1 - 2 * math.exp(-(noisy.half_width_95 + 1) / 2.0) / (1 + math.exp(-0.5))
    assert covered == pytest.approx(exact, abs=0.01)


def test_the_threshold_mechanism_releases_large_cells_with_the_promised_noise() -> None:
    counts = {f"big{i}": 1000 for i in range(5000)} | {f"one{i}": 1 for i in range(5000)}
    noisy = release_counts_with_threshold(counts, bound=2, epsilon=1.0, delta=1e-6)
    assert noisy.epsilon <= 1.0 + 1e-9 and noisy.delta <= 1e-6
    assert noisy.scale == pytest.approx(2.0, rel=1e-6) and noisy.threshold is not None
    assert noisy.threshold > 20  # far above a count of one: those cells must not come out
    assert not any(k.startswith("one") for k in noisy.counts)
    big = np.array([v for k, v in noisy.counts.items() if k.startswith("big")], dtype=float)
    assert len(big) == 5000
    assert (big - 1000).var() == pytest.approx(discrete_laplace_variance(2.0), rel=0.12)


def test_the_ledger_refuses_to_overspend_and_records_nothing_then(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "w.duckdb.dp-ledger.jsonl")
    with ledger.locked():
        ledger.spend("annual", 0.4, 1e-6, (1.0, 1e-5), {"table": "a"})
        ledger.spend("annual", 0.4, 1e-6, None, {"table": "b"})
        with pytest.raises(BudgetExceededError, match=r"ε=0\.2 and δ=8e-06 left"):
            ledger.spend("annual", 0.4, 1e-6, None, {"table": "c"})
        ledger.spend("annual", 0.2, 1e-6, None, {"table": "c"})  # exactly what is left
        with pytest.raises(BudgetExceededError):
            ledger.spend("annual", 1e-9, 0.0, None, {"table": "d"})
        with pytest.raises(ProvistaError, match="cannot be changed"):
            ledger.spend("annual", 0.1, 1e-6, (5.0, 1e-5), {"table": "e"})
        with pytest.raises(ProvistaError, match="not in the ledger yet"):
            ledger.spend("quarterly", 0.1, 1e-6, None, {"table": "f"})
        with pytest.raises(BudgetExceededError, match="δ"):
            ledger.spend("tiny-delta", 0.1, 2e-6, (1.0, 1e-6), {"table": "g"})
    release = ledger.releases()["annual"]
    assert [s["table"] for s in release.spends] == ["a", "b", "c"]
    assert release.epsilon_spent == pytest.approx(1.0)


def test_an_edited_ledger_is_refused(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "w.duckdb.dp-ledger.jsonl")
    with ledger.locked():
        ledger.spend("annual", 0.5, 1e-6, (1.0, 1e-5), {"table": "a"})
        ledger.spend("annual", 0.5, 1e-6, None, {"table": "b"})
    lines = ledger.path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[1])
    first["epsilon"] = 0.1  # someone tries to give budget back
    ledger.path.write_text("\n".join([lines[0], json.dumps(first), lines[2]]) + "\n", encoding="utf-8")
    with pytest.raises(LedgerTamperedError, match="line 3"):
        ledger.releases()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provista", *args], capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


def test_publish_and_the_ledger_from_the_command_line(warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "provista.duckdb"  # the ledger is written beside the warehouse: use a link to it
    copy.symlink_to(warehouse)
    first = tmp_path / "cases-1.csv"
    args = ["publish", "--warehouse", str(copy), "--table", "cases_by_city_year", "--epsilon", "0.5"]
    done = _cli(*args, "--output", str(first), "--release", "2025-annual", "--budget", "1.0")
    assert done.returncode == 0, done.stderr
    assert "ledger entry 2" in done.stdout
    done = _cli(*args, "--output", str(tmp_path / "cases-2.csv"), "--release", "2025-annual")
    assert done.returncode == 0, done.stderr
    refused = tmp_path / "cases-3.csv"
    done = _cli(*args, "--output", str(refused), "--release", "2025-annual")
    assert done.returncode == 2 and "ε=0 and δ=8e-06 left" in done.stderr and "What to do" in done.stderr
    assert not refused.exists()
    shown = _cli("publish", "ledger", "--warehouse", str(copy))
    assert shown.returncode == 0 and shown.stdout.count("cases_by_city_year") == 2

    published = pd.read_csv(first, dtype={"city_code": str, "year": str})
    assert list(published.columns) == ["city_code", "disease", "year", "cases", "cases_pm95"]
    assert len(published) > 20
    report = json.loads(first.with_name(first.name + ".dp.json").read_text(encoding="utf-8"))
    h = report["noise"]["cases"]["half_width_95"]
    assert (published["cases_pm95"] == h).all() and h == discrete_laplace_half_width(2 / 0.5)
    with DuckDBEngine(Path(warehouse), read_only=True) as engine, engine.con as con:
        truth = con.sql(
            """SELECT substr(county_code, 1, 4) || '00' AS city_code, disease,
                      year(onset_date)::VARCHAR AS year, count(*) AS true_cases
               FROM case_report WHERE onset_date IS NOT NULL GROUP BY ALL"""
        ).df()
    both = published.merge(truth, on=["city_code", "disease", "year"], validate="one_to_one")
    assert len(both) == len(published)
    error = (both["cases"] - both["true_cases"]).abs()
    assert error.max() <= 4 * h  # each person has one report here, so the cap leaves out nothing
    assert (error <= h).mean() >= 0.85  # about 95% within the stated half-width
