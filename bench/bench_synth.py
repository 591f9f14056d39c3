"""Benchmark `provista synth`: rows per second and peak memory at a given scale (default: medium).

    python bench/bench_synth.py [--scale medium] [--jobs 2] [--out /tmp/provista-bench]

Prints the figures and writes them to bench/results/synth-<scale>.json. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import threading
import time
from pathlib import Path

from provista.synth.generator import SynthOptions, synthesize


def _tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (shared pages counted in each: an upper bound)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


class PeakSampler(threading.Thread):
    """Samples the whole process tree's memory twice a second."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.running = 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, _tree_rss_mib(os.getpid()))
            time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/provista-bench"))
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    out = args.out / args.scale
    shutil.rmtree(out, ignore_errors=True)
    sampler = PeakSampler()
    sampler.start()
    start = time.perf_counter()
    manifest = synthesize(SynthOptions(out=out, scale=args.scale, seed=args.seed, jobs=args.jobs))
    seconds = time.perf_counter() - start
    sampler.running = False
    rows = sum(f["rows"] for f in manifest["files"])
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "scale": args.scale,
        "jobs": args.jobs,
        "seconds": round(seconds, 1),
        "rows_written": rows,
        "rows_per_second": round(rows / seconds),
        "encounters": manifest["counts"]["encounters"]["total"],
        "encounters_per_second": round(manifest["counts"]["encounters"]["total"] / seconds),
        "bytes_written": size,
        "peak_rss_main_mib": round(self_peak),
        "peak_rss_largest_worker_mib": round(worker_peak),
        "peak_rss_all_processes_mib": round(sampler.peak),
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    for key, value in result.items():
        print(f"{key:>30}: {value:,}" if isinstance(value, int | float) else f"{key:>30}: {value}")
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / f"synth-{args.scale}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
