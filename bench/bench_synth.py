"""Benchmark `provista synth`: rows per second and peak memory at a given scale (default: medium).

    python bench/bench_synth.py [--scale medium] [--jobs 2] [--out /tmp/provista-bench]

The floor, measured in the same run: writing as many bytes to the same disk (and syncing them). Prints the
figures and writes them to bench/results/synth-<scale>.json. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from pathlib import Path

from common import PeakSampler, save
from provista.synth.generator import SynthOptions, synthesize


def write_floor(path: Path, size: int) -> float:
    """Seconds to write ``size`` bytes to the same disk and sync them: no generator can be faster."""
    chunk = os.urandom(8 << 20)
    start = time.perf_counter()
    with open(path, "wb") as f:
        for _ in range(size // len(chunk) + 1):
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    seconds = time.perf_counter() - start
    path.unlink()
    return seconds


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
    }
    floor_seconds = write_floor(out.parent / "floor.bin", size)
    result |= {
        "floor_write_seconds": round(floor_seconds, 1),
        "over_floor": round(seconds / floor_seconds, 1),
    }
    for key, value in result.items():
        print(f"{key:>30}: {value:,}" if isinstance(value, int | float) else f"{key:>30}: {value}")
    save(f"synth-{args.scale}", result)
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
