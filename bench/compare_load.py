"""Compare what two versions of the loader stage for the warehouse, file by file: a speed change to
reading, cleaning, pseudonymising or encoding must leave every row the same.

    PYTHONPATH=OLD/src python bench/compare_load.py dump --sources S --out old.pkl [--every N]
    python bench/compare_load.py dump --sources S --out new.pkl [--every N]
    python bench/compare_load.py diff old.pkl new.pkl [--skip record_digest.digest]

``dump`` loads every N-th hospital's files and the first case-report file in one process (the workers'
path without the warehouse: ``Loader`` into a ``Collector``, a fixed key and load time) and pickles the
frames each file stages per table, with the CPU time taken. ``OLD`` is a worktree of the earlier commit
(``git worktree add /tmp/base <commit>``). ``diff`` names the files and tables whose frames differ;
``--skip TABLE.COLUMN`` leaves out a column changed on purpose (the load time is always left out).
Not a test: it reads real sources.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import sys
import time
from pathlib import Path

import pandas as pd

from provista.ingest.loader import Collector, Loader, LoadSummary
from provista.ingest.pipeline import BATCH_GC_THRESHOLDS
from provista.synth.province import load_province

# Columns that hold the time a file was loaded, not what it held.
CLOCKS = ("ingest_log.loaded_at",)


def dump(sources: Path, out: Path, every: int) -> None:
    hospitals = sorted((sources / "hospitals").iterdir())[::every]
    files = [f for h in hospitals for f in sorted(h.iterdir())] + sorted((sources / "cdc").glob("*.csv"))[:1]
    started = pd.Timestamp("2026-01-01")
    loader = Loader(Collector(), sources, bytes(32), load_province("zhejiang"), run_started=started)
    gc.set_threshold(*BATCH_GC_THRESHOLDS)
    staged: dict[str, dict[str, pd.DataFrame]] = {}
    summary, cpu = LoadSummary(), time.process_time()
    for path in files:
        loader.buffer = Collector()
        loader.load_file(path, summary)
        frames = loader.buffer.frames
        staged[str(path.relative_to(sources))] = {
            t: pd.concat(v, ignore_index=True) for t, v in frames.items()
        }
    cpu = time.process_time() - cpu
    with open(out, "wb") as f:
        pickle.dump(staged, f)
    per_record = 1e6 * cpu / max(summary.rows_in, 1)
    print(f"{len(files)} files, {summary.rows_in:,} records, {cpu:.1f} s CPU ({per_record:.1f} µs a record)")


def diff(old: Path, new: Path, skip: list[str]) -> int:
    with open(old, "rb") as f:
        a = pickle.load(f)
    with open(new, "rb") as f:
        b = pickle.load(f)
    differ = sorted(set(a) ^ set(b))
    for name in differ:
        print(f"{name}: only in {'the first' if name in a else 'the second'} dump")
    for name in sorted(set(a) & set(b)):
        if a[name].keys() != b[name].keys():
            print(f"{name}: tables {sorted(a[name])} against {sorted(b[name])}")
            differ.append(name)
            continue
        for table, x in a[name].items():
            drop = [s.split(".", 1)[1] for s in skip if s.split(".", 1)[0] == table]
            try:
                pd.testing.assert_frame_equal(
                    x.drop(columns=drop, errors="ignore"),
                    b[name][table].drop(columns=drop, errors="ignore"),
                    check_dtype=False,
                )
            except AssertionError as exc:
                print(f"{name}, {table}: {str(exc).splitlines()[0]}")
                differ.append(name)
    print(f"{len(set(a) | set(b))} files, {len(set(differ))} differ")
    return 1 if differ else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="load sources in one process and pickle what each file stages")
    d.add_argument("--sources", type=Path, required=True)
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--every", type=int, default=1, help="every N-th hospital")
    c = sub.add_parser("diff", help="compare two dumps, file by file and table by table")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    c.add_argument("--skip", action="append", default=[], help="TABLE.COLUMN to leave out")
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.sources, args.out, args.every)
    else:
        sys.exit(diff(args.old, args.new, [*CLOCKS, *args.skip]))


if __name__ == "__main__":
    main()
