"""`provista detect score` on the tiny province against counts made here from the case reports and truth."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from provista.analytics.surveillance.detection_config import CONFIG_FILE, load_config
from provista.analytics.surveillance.detectors import CountSeries, detect_outbreaks
from provista.cli import app
from provista.engine import DuckDBEngine

runner = CliRunner()


@pytest.fixture(scope="module")
def scored(warehouse: Path, tiny: Path) -> list[dict]:
    result = runner.invoke(
        app,
        ["detect", "score", "--warehouse", str(warehouse), "--truth", str(tiny / "truth"),
         "--config", str(CONFIG_FILE), "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("[") :])


def test_the_moving_percentile_scores_as_counted_by_hand(scored, warehouse: Path, tiny: Path) -> None:
    """Every daily series run through the detector here, alarms merged into signals, and the truth applied."""
    method = load_config(CONFIG_FILE).method("daily", "mpm")
    assert method is not None
    with DuckDBEngine(warehouse, read_only=True) as engine:
        cases = engine.frame(
            "SELECT county_code, disease, onset_date::DATE AS day, count(*) AS n FROM case_report "
            "WHERE case_class <> '病原携带者' GROUP BY ALL"
        )
        counties = engine.scalar("SELECT count(*) FROM region WHERE level = 'county'")
        first, last = engine.frame("SELECT min(onset_date) AS a, max(onset_date) AS b FROM case_report").iloc[
            0
        ]
    first, last = pd.Timestamp(first).date(), pd.Timestamp(last).date()
    stamps = pd.date_range(first, last)
    days = stamps.date
    truth = pd.read_csv(tiny / "truth/outbreaks.csv", dtype=str)
    signals, delays, judged_from = [], {}, None
    for (county, disease), rows in cases.groupby(["county_code", "disease"]):
        counts = rows.set_index(pd.to_datetime(rows["day"]))["n"].reindex(stamps, fill_value=0).to_numpy()
        if np.convolve(counts, np.ones(7))[6:].max() < method.min_count:
            continue  # never 5 cases in 7 days: no signal can pass min_count
        table = detect_outbreaks(
            CountSeries(counts, dates=tuple(days), freq=365), "mpm", **method.kwargs
        ).table
        judged_from = table["date"].iloc[0]
        hit = table[table["alarm"].fillna(False).astype(bool) & (table["window_count"] >= method.min_count)]
        t = hit["t"].to_numpy()
        if len(t) == 0:
            continue
        starts = np.flatnonzero(np.diff(t, prepend=-10) != 1)
        ends = np.append(starts[1:], len(t)) - 1
        for s, e in zip(starts, ends, strict=True):
            signals.append((county, disease, days[t[s] - 1], days[t[e] - 1]))
        for o in truth[(truth["county_code"] == county) & (truth["disease"] == disease)].itertuples():
            start, stop = dt.date.fromisoformat(o.start_date), dt.date.fromisoformat(o.end_date)
            inside = [days[k - 1] for k in t if start <= days[k - 1] <= stop + dt.timedelta(days=7)]
            if inside:
                delays[o.Index] = (min(inside) - start).days

    def true(sig: tuple) -> bool:
        return any(sig[0] == o.county_code and sig[1] == o.disease
                   and sig[2] <= dt.date.fromisoformat(o.end_date) + dt.timedelta(days=7)
                   and sig[3] >= dt.date.fromisoformat(o.start_date) for o in truth.itertuples())  # fmt: skip

    row = next(r for r in scored if r["method"] == "mpm")
    weeks = ((last - dt.date.fromisoformat(judged_from)).days + 1) / 7
    assert row["judged_from"] == judged_from
    assert row["signals"] == len(signals)
    assert row["false_alarms"] == sum(not true(s) for s in signals)
    assert row["outbreaks"] == len(truth) == 8  # all in the last two years: the span mpm judges
    assert row["detected"] == len(delays)
    assert row["median_days_to_detection"] == pytest.approx(np.median(list(delays.values())))
    assert row["signals_per_county_week"] == pytest.approx(len(signals) / (counties * weeks), rel=1e-12)
    assert row["sensitivity"] == pytest.approx(len(delays) / 8)


def test_every_configured_method_has_a_row_and_the_pool_comes_last(scored) -> None:
    methods = [(r["method"], r["frequency"]) for r in scored]
    config = load_config(CONFIG_FILE)
    assert methods == [(m.method, m.frequency) for m in config.methods] + [("any method", "all")]
    pooled = scored[-1]
    assert pooled["judged_from"] == max(r["judged_from"] for r in scored[:-1])
    assert pooled["signals"] <= sum(r["signals"] for r in scored[:-1])  # only those in the common span
    for r in scored:
        assert 0 <= r["false_alarms"] <= r["signals"]
        assert r["sensitivity"] is None or 0 <= r["sensitivity"] <= 1


def test_the_table_and_readable_errors(warehouse: Path, tiny: Path, tmp_path: Path) -> None:
    args = ["detect", "score", "--warehouse", str(warehouse), "--config", str(CONFIG_FILE)]
    table = runner.invoke(app, [*args, "--truth", str(tiny / "truth")])
    assert table.exit_code == 0 and "per county-week" in table.stdout and "any method" in table.stdout
    missing = runner.invoke(app, [*args, "--truth", str(tmp_path)])
    assert missing.exit_code == 2 and "outbreaks.csv: not found" in " ".join(missing.output.split())
    bad = tmp_path / "outbreaks.csv"
    bad.write_text(
        "county_code,disease,start_date,end_date\n330106,麻疹,2024-13-01,2024-05-18\n", encoding="utf-8"
    )
    wrong = runner.invoke(app, [*args, "--truth", str(tmp_path)])
    text = " ".join(wrong.output.split())
    assert wrong.exit_code == 2 and "row 2, field 'start_date'" in text and "Traceback" not in text
    gone = runner.invoke(
        app, ["detect", "score", "--warehouse", str(tmp_path / "no.duckdb"), "--truth", str(tmp_path)]
    )
    assert gone.exit_code == 2 and "no such warehouse file" in gone.output
