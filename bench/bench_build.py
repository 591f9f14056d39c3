"""Benchmark `provista build` next to the floor: DuckDB reading the same CSV files into Parquet.

    python bench/bench_build.py [--scale small] [--sources DIR] [--warehouse PATH] [--engine duckdb|spark]

Generates the province if ``--sources`` is not given (seed 1), then measures in the same run:
- the floor: DuckDB ``COPY (SELECT * FROM read_csv(file)) TO parquet`` over every CSV source file;
- the build: ``provista build`` of all sources (CSV, Excel, FHIR) into a new warehouse.
Prints rows per second, the ratio to the floor and peak memory, and writes bench/results/build-<scale>.json.
Also times each stage of the build (discover, load, linkage, persons, marts, operations and surveillance
alerts) with the peak memory while it ran (empty: too short for the twice-a-second sampler).
With ``--warehouse`` the built warehouse is kept there (for the linkage, detection and API benchmarks).
Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

from common import PeakSampler, save
from provista.ingest.pipeline import build, discover
from provista.synth.generator import SynthOptions, synthesize


def floor(sources: Path, work: Path) -> tuple[float, int]:
    """Seconds and rows for DuckDB to turn every CSV source into Parquet (GBK files via their UTF-8 text)."""
    con = duckdb.connect()
    files = [p for p in discover(sources) if p.suffix == ".csv"]
    rows = 0
    start = time.perf_counter()
    for k, path in enumerate(files):
        raw = path.read_bytes()
        try:
            raw.decode("utf-8")
            src = path
        except (
            UnicodeDecodeError
        ):  # DuckDB reads UTF-8 only: re-encode GBK exports first (counted in the floor)
            src = work / f"{k}.csv"
            src.write_bytes(raw.decode("gb18030").encode("utf-8"))
        out = work / f"{k}.parquet"
        rows += con.execute(
            f"COPY (SELECT * FROM read_csv('{src}', all_varchar=true, null_padding=true, "
            f"ignore_errors=true)) TO '{out}' (FORMAT PARQUET)"
        ).fetchall()[0][0]
        # written and closed, then removed: at the large scale the copies would not fit beside the build
        out.unlink()
        if src != path:
            src.unlink()
    return time.perf_counter() - start, rows


class StageClock:
    """The build's progress callback, timing each stage (discover, load, linkage, persons, marts, alerts)
    and the peak memory while it ran: a stage runs from the previous stage's last report to its own."""

    def __init__(self, sampler: PeakSampler) -> None:
        self.sampler, self.last = sampler, time.perf_counter()
        self.seconds: dict[str, float] = {}
        self.peak: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self.last
        self.peak[stage] = max(self.peak.get(stage, 0.0), self.sampler.peak)
        self.sampler.peak, self.last = 0.0, now  # what follows belongs to the next report's stage

    def rows(self) -> list[dict[str, float | str]]:
        return [
            {"stage": s, "seconds": round(self.seconds[s], 1), "peak_rss_mib": round(self.peak[s]) or None}
            for s in self.seconds
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--sources", type=Path)
    parser.add_argument("--warehouse", type=Path, help="keep the built warehouse here (replaced if present)")
    parser.add_argument("--engine", default="duckdb", choices=["duckdb", "spark"], help="Spark: local mode")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="provista-bench-build-"))
    sources = args.sources or work / "sources"
    if args.sources is None:
        synthesize(SynthOptions(out=sources, scale=args.scale, seed=1))
    floor_seconds, floor_rows = floor(sources, work)
    sampler = PeakSampler()
    sampler.start()
    start = time.perf_counter()
    target = args.warehouse or work / ("warehouse.duckdb" if args.engine == "duckdb" else "warehouse")
    for old in (target, target.with_name(target.name + ".quarantine.parquet")):
        if old.is_dir():
            shutil.rmtree(old)
        old.unlink(missing_ok=True)
    clock = StageClock(sampler)
    summary = build(sources, target, bytes(32), engine=args.engine, progress=clock)
    seconds = time.perf_counter() - start
    sampler.running = False
    overall_peak = max([sampler.peak, *clock.peak.values()])
    result = {
        "scale": args.scale,
        "engine": args.engine,
        "records_in": summary.rows_in,
        "build_seconds": round(seconds, 1),
        "build_records_per_second": round(summary.rows_in / seconds),
        "floor_csv_rows": floor_rows,
        "floor_seconds": round(floor_seconds, 1),
        "floor_rows_per_second": round(floor_rows / floor_seconds),
        "build_over_floor": round((seconds / summary.rows_in) / (floor_seconds / floor_rows), 1),
        "peak_rss_all_processes_mib": round(overall_peak),
    }
    for key, value in result.items():
        print(f"{key:>28}: {value:,}" if isinstance(value, int | float) else f"{key:>28}: {value}")
    print(pd.DataFrame(clock.rows()).to_string(index=False))
    result["stages"] = clock.rows()
    save(f"build-{args.engine}-{args.scale}" if args.engine != "duckdb" else f"build-{args.scale}", result)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
