"""Benchmark the outbreak detectors on every county × disease series of a built warehouse.

    python bench/bench_detect.py --warehouse PATH [--scale tiny] [--budget 120] [--jobs 1] [--no-r]

The series are those the build scans: notifiable-disease reports (confirmed, clinical, suspected) by onset
date, per county × disease with at least one case, daily and whole ISO weeks (panel.py). Every method
runs on the weekly series; the methods that need no weekly calendar (EARS, moving percentile, CUSUM, GLR)
also on the daily ones (GLR negative binomial only when named in ``--methods``: a minute a daily series).
Parameters are R surveillance's defaults, with b = 3 years for the Farrington methods (the synthetic
provinces keep 5 years) and, where R needs a range (CUSUM, GLR), the last two years. Each method is timed
three ways over the same series:

- ``per_series``: the detector called on each series in turn, every period it can judge;
- ``panel``: the build's path (panel_detection.scan with min_count 1; in chunks when the per-series rate
  says the whole panel would not fit in the budget): stacked EARS, the moving percentile over the whole
  matrix, Farrington only on the periods that pass limit54, CUSUM and GLR series by series, in ``--jobs``
  processes;
- ``r``: R ``surveillance`` 1.20.3 (Debian's r-cran-surveillance) on each series in turn, the same ranges,
  timed inside R (its start-up excluded); the moving percentile method has no R implementation.

A path that passes ``--budget`` seconds stops after the series in hand and reports how many it did, so
series per second stays comparable. The alarm counts of ``per_series`` and ``r`` are printed beside each
other when both finished every series (they should agree; the golden tests check the values). Writes
bench/results/detect-<scale>.json. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from common import save
from provista.analytics.surveillance.detection_config import MethodConfig, load_config
from provista.analytics.surveillance.panel import SeriesPanel, load_panels
from provista.analytics.surveillance.panel_detection import evaluated_range, make_detector, scan
from provista.engine import DuckDBEngine

WEEKLY = ("ears-c1", "ears-c2", "ears-c3", "farrington", "farrington-flexible", "cusum", "glr-pois",
          "glr-nb", "mpm")  # fmt: skip
DAILY = ("ears-c1", "ears-c2", "ears-c3", "mpm", "cusum", "glr-pois", "glr-nb")
# Run on daily series only when named in --methods: about a minute a series here (every change point of
# two years of days, in Python), where R's C code takes about 7 s; one series cannot be cut short.
DAILY_ON_REQUEST = ("glr-nb",)
PARAMS: dict[str, dict[str, Any]] = {"farrington": {"b": 3}, "farrington-flexible": {"b": 3}}
R_CALL = {
    "ears-c1": 'earsC(s, control = list(method = "C1", range = rng))',
    "ears-c2": 'earsC(s, control = list(method = "C2", range = rng))',
    "ears-c3": 'earsC(s, control = list(method = "C3", range = rng))',
    "farrington": "farrington(s, control = list(b = 3, w = 3, range = rng))",
    "farrington-flexible": "farringtonFlexible(s, control = list(b = 3, w = 3, range = rng))",
    "cusum": "cusum(s, control = list(range = rng))",
    "glr-pois": 'glrpois(s, control = list(range = rng, c.ARL = 5, ret = "value"))',
    "glr-nb": 'glrnb(s, control = list(range = rng, c.ARL = 5, ret = "value"))',
}
R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(surveillance))
freq <- as.integer(args[2]); budget <- as.numeric(args[4]); first <- as.integer(args[6])
m <- read.csv(args[3], check.names = FALSE)
dates <- as.Date(m$date); obs <- as.matrix(m[, -1, drop = FALSE]); rng <- first:nrow(obs)
done <- 0; alarms <- 0; failed <- 0; t0 <- proc.time()[["elapsed"]]
for (j in seq_len(ncol(obs))) {
  s <- sts(observed = obs[, j, drop = FALSE], epoch = as.numeric(dates), epochAsDate = TRUE, frequency = freq)
  res <- tryCatch(suppressWarnings(CALL), error = function(e) NULL)
  if (is.null(res)) failed <- failed + 1 else alarms <- alarms + sum(alarms(res), na.rm = TRUE)
  done <- done + 1
  if (proc.time()[["elapsed"]] - t0 > budget) break
}
cat(sprintf('{"series": %d, "seconds": %.3f, "alarms": %d, "failed": %d}\n', done,
            proc.time()[["elapsed"]] - t0, alarms, failed), file = args[5])
"""


def timed_per_series(panel: SeriesPanel, config: MethodConfig, budget: float) -> dict[str, Any]:
    start, alarms, done = time.perf_counter(), 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in range(len(panel)):
            alarms += make_detector(config).detect(panel.series(row)).alarms
            done += 1
            if time.perf_counter() - start > budget:
                break
    return _rate(done, time.perf_counter() - start, len(panel), alarms=alarms)


def timed_panel(
    panel: SeriesPanel, config: MethodConfig, jobs: int, budget: float, rate: float | None
) -> dict[str, Any]:
    """The build's scan: all series at once when the per-series rate says they fit in the budget, else in
    chunks sized to the time left."""
    start, done, alarms, runs = time.perf_counter(), 0, 0, 0
    while done < len(panel):
        left = budget - (time.perf_counter() - start)
        if left <= 0:
            break
        step = len(panel) if rate is None else max(1, int(rate * left / 2))
        rows = slice(done, done + step)
        part = SeriesPanel(panel.frequency, panel.dates, panel.counties[rows], panel.diseases[rows],
                           panel.counts[rows])  # fmt: skip
        found = scan(part, config, jobs=jobs)
        done, alarms, runs = done + len(part), alarms + len(found), runs + found.series_run
        if rate is not None:  # the panel path is at least as fast: learn its own rate
            rate = max(rate, done / (time.perf_counter() - start))
    return _rate(done, time.perf_counter() - start, len(panel), alarms=alarms, detector_runs=runs)


def timed_r(
    panel: SeriesPanel, config: MethodConfig, first: int, budget: float, work: Path
) -> dict[str, Any]:
    data = work / f"{panel.frequency}.csv"
    if not data.exists():
        frame = pd.DataFrame(panel.counts.T.astype(int), columns=[f"s{i}" for i in range(len(panel))])
        frame.insert(0, "date", [d.isoformat() for d in panel.dates])
        frame.to_csv(data, index=False)
    script = work / "run.R"
    script.write_text(R_SCRIPT.replace("CALL", R_CALL[config.method]), encoding="utf-8")
    out = work / "r.json"
    out.unlink(missing_ok=True)
    command = ["Rscript", str(script), config.method, str(panel.freq), str(data), str(budget), str(out)]
    done = subprocess.run([*command, str(first)], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out.exists():
        return {"error": (done.stderr or "no output")[-500:]}
    result = json.loads(out.read_text(encoding="utf-8"))
    return _rate(
        result["series"], result["seconds"], len(panel), alarms=result["alarms"], failed=result["failed"]
    )


def r_version() -> str:
    command = ["Rscript", "-e", 'cat(format(packageVersion("surveillance")))']
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()


def _rate(done: int, seconds: float, total: int, **extra: Any) -> dict[str, Any]:
    return {"series": done, "of": total, "complete": done == total, "seconds": round(seconds, 3),
            "series_per_second": round(done / seconds, 1) if seconds > 0 else None, **extra}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="a built warehouse (DuckDB file)")
    parser.add_argument("--scale", default=None, help="name in the results file (default: the folder's)")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per method and path")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes for the panel path")
    parser.add_argument("--methods", nargs="*", default=None, help="only these methods")
    parser.add_argument("--no-r", action="store_true", help="skip the R floor")
    args = parser.parse_args()
    scale = args.scale or args.warehouse.resolve().parent.name
    use_r = not args.no_r and shutil.which("Rscript") is not None
    case_classes = load_config().case_classes
    with DuckDBEngine(args.warehouse, read_only=True) as engine:
        start = time.perf_counter()
        panels = load_panels(engine, case_classes)
        load_seconds = time.perf_counter() - start
    work = Path(tempfile.mkdtemp(prefix="provista-bench-detect-"))
    result = {
        "scale": scale,
        "warehouse": str(args.warehouse),
        "series": {f: len(p) for f, p in panels.items()},
        "periods": {f: len(p.dates) for f, p in panels.items()},
        "cases": {f: int(p.counts.sum()) for f, p in panels.items()},
        "load_seconds": round(load_seconds, 2),
        "budget_seconds": args.budget,
        "jobs": args.jobs,
        "r": r_version() if use_r else None,
    }
    rows: list[dict[str, Any]] = []
    for frequency, methods in (("weekly", WEEKLY), ("daily", DAILY)):
        panel = panels[frequency]
        for method in methods:
            if args.methods and method not in args.methods:
                continue
            if frequency == "daily" and method in DAILY_ON_REQUEST and not args.methods:
                continue
            config = MethodConfig(method, frequency, tuple(sorted(PARAMS.get(method, {}).items())), 1)
            span = evaluated_range(panel, config)
            if span is None:
                continue
            row: dict[str, Any] = {"method": method, "frequency": frequency, "params": PARAMS.get(method, {}),
                                   "periods_judged": span[1] - span[0] + 1}  # fmt: skip
            row["per_series"] = timed_per_series(panel, config, args.budget)
            row["panel"] = timed_panel(
                panel, config, args.jobs, args.budget, row["per_series"]["series_per_second"]
            )
            if use_r and method in R_CALL:
                row["r"] = timed_r(panel, config, span[0], args.budget, work)
            rows.append(row)
            print(_line(row), flush=True)
            write(result | {"methods": rows}, scale)  # after each method: an interrupted run keeps its rows
    shutil.rmtree(work, ignore_errors=True)
    write(result | {"methods": rows}, scale)


def write(result: dict[str, Any], scale: str) -> Path:
    return save(f"detect-{scale}", result)


def _line(row: dict[str, Any]) -> str:
    def part(name: str) -> str:
        r = row.get(name)
        if r is None:
            return f"{name}: –"
        if "error" in r:
            return f"{name}: error"
        partial = "" if r["complete"] else f" ({r['series']}/{r['of']})"
        return f"{name}: {r['series_per_second']:>8} series/s{partial}"

    alarms = ""
    if row.get("r", {}).get("complete") and row["per_series"]["complete"]:
        alarms = f"  alarms ours/R {row['per_series']['alarms']}/{row['r']['alarms']}"
    return (f"{row['method']:>20} {row['frequency']:>6}  {part('per_series')}  {part('panel')}  {part('r')}"
            f"{alarms}")  # fmt: skip


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
