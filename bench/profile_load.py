"""Profile loading in one process: where a build's load stage spends its time, function by function.

    python bench/profile_load.py --sources S [--every 60] [--sort cumulative] [--top 40]

Loads the files of every N-th hospital under ``--sources`` with ``Loader.load_file`` (what a build's worker
does, without the warehouse) under cProfile, with the workers' garbage-collector thresholds, and prints
the records per second and the top functions. Not a benchmark: the profiler slows Python code down, so read
the shares, not the seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import time
from pathlib import Path

from provista.ingest.loader import Collector, Loader, LoadSummary
from provista.ingest.pipeline import BATCH_GC_THRESHOLDS
from provista.synth.province import load_province


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--every", type=int, default=60, help="profile every N-th hospital's files")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime ...)")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--save", type=Path, help="also write the profile here (pstats: print_callers ...)")
    args = parser.parse_args()
    hospitals = sorted((args.sources / "hospitals").iterdir())[:: args.every]
    files = [f for h in hospitals for f in sorted(h.iterdir())]
    loader = Loader(Collector(), args.sources, bytes(32), load_province("zhejiang"))
    summary = LoadSummary()
    gc.set_threshold(*BATCH_GC_THRESHOLDS)
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    for path in files:
        loader.load_file(path, summary)
    profile.disable()
    seconds = time.perf_counter() - start
    print(f"{len(files)} files, {summary.rows_in:,} records, {seconds:.1f} s under the profiler")
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    if args.save:
        profile.dump_stats(args.save)


if __name__ == "__main__":
    main()
