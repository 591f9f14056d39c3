"""Benchmark the person index: linkage throughput and accuracy, beside Splink's published figure.

    python bench/bench_link.py [--scale small] [--sources DIR] [--warehouse FILE]

Builds the province (generated with seed 1 unless ``--sources`` is given, and built unless ``--warehouse``
is given), then re-runs the linkage step alone on a copy of the warehouse and measures it: identity
records per minute (train + score + cluster + write back), peak memory, and precision / recall / F1
against ``truth/identities.csv``. Also links FEBRL 1 and 2 with `provista link`'s code path. Splink's
documentation cites about one million records a minute on a laptop for its DuckDB backend (a
deduplication with its example settings); that figure is printed beside ours for scale, not measured
here. Writes bench/results/link-<scale>.json. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench_synth import PeakSampler
from provista.engine import DuckDBEngine
from provista.ingest.pipeline import build
from provista.linkage.cluster import pairwise_scores
from provista.linkage.empi import link_persons
from provista.linkage.evaluate import score_person_index
from provista.linkage.files import link_files
from provista.synth.generator import SynthOptions, synthesize

KEY = bytes(range(32))
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SPLINK_PUBLISHED_RECORDS_PER_MINUTE = 1_000_000


def febrl(name: str) -> dict[str, float]:
    start = time.perf_counter()
    outcome = link_files([SHARED / "data/linkage" / f"{name}.csv"], "febrl")
    seconds = time.perf_counter() - start
    got = outcome.clusters
    s = pairwise_scores(got["cluster_id"], got["rec_id"].str.extract(r"^rec-(\d+)-")[0])
    return {
        "records": len(got),
        "seconds": round(seconds, 2),
        **{k: float(s[k]) for k in ("precision", "recall", "f1")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--sources", type=Path)
    parser.add_argument("--warehouse", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="provista-bench-link-"))
    sources = args.sources or work / "sources"
    if args.sources is None:
        synthesize(SynthOptions(out=sources, scale=args.scale, seed=1))
    warehouse = args.warehouse or work / "w.duckdb"
    if args.warehouse is None:
        build(sources, warehouse, KEY)
    copy = work / "copy.duckdb"
    shutil.copy(warehouse, copy)
    engine = DuckDBEngine(copy)
    peak = PeakSampler()
    peak.start()
    start = time.perf_counter()
    stats = link_persons(engine, [], lambda *a: None)
    seconds = time.perf_counter() - start
    peak.running = False
    peak_gb = peak.peak / 1024  # the sampler counts MiB
    scores = score_person_index(engine, sources)
    engine.close()
    per_minute = stats.records / seconds * 60
    results = {
        "benchmark": "link",
        "scale": args.scale,
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "identity_records": stats.records,
        "representatives_scored": stats.representatives,
        "pairs_scored": stats.pairs_scored,
        "links": stats.links,
        "persons": stats.persons,
        "seconds": round(seconds, 1),
        "records_per_minute": round(per_minute),
        "splink_published_records_per_minute": SPLINK_PUBLISHED_RECORDS_PER_MINUTE,
        "peak_memory_gb": round(peak_gb, 2),
        "precision": scores["precision"],
        "recall": scores["recall"],
        "f1": scores["f1"],
        "febrl1": febrl("febrl1"),
        "febrl2": febrl("febrl2"),
        "note": stats.note,
    }
    table = pd.DataFrame(
        [
            ("identity records", f"{stats.records:,}"),
            ("scored by the model (representatives + ID-less)", f"{stats.representatives:,}"),
            ("linkage time", f"{seconds:.1f} s"),
            ("records per minute", f"{per_minute:,.0f} (Splink's published: ~1,000,000, a laptop)"),
            ("peak memory", f"{peak_gb:.2f} GB"),
            ("province precision", f"{scores['precision']:.4f}"),
            ("province recall", f"{scores['recall']:.4f}"),
            ("province F1", f"{scores['f1']:.4f}"),
            ("FEBRL1 F1", f"{results['febrl1']['f1']:.4f}"),
            ("FEBRL2 F1", f"{results['febrl2']['f1']:.4f}"),
        ],
        columns=["measure", "value"],
    )
    print(table.to_string(index=False))
    out = Path(__file__).parent / "results" / f"link-{args.scale}.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written to {out}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
