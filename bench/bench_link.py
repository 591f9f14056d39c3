"""Benchmark the person index: linkage throughput and accuracy, beside Splink's plain recipe.

    python bench/bench_link.py [--scale small] [--sources DIR] [--warehouse FILE]

Builds the province (generated with seed 1 unless ``--sources`` is given, and built unless ``--warehouse``
is given), then re-runs the linkage step alone on a copy of the warehouse and measures it: identity
records per minute (train + score + cluster + write back), peak memory, and precision / recall / F1
against ``truth/identities.csv``. The peer, measured in the same run on the same records: Splink's plain
recipe (exact-match comparisons on the tokens, the tutorial's training steps, every record scored).
Also links FEBRL 1 and 2 with `provista link`'s code path. Splink's
documentation cites about one million records a minute on a laptop for its DuckDB backend (a
deduplication with its example settings); that figure is printed beside ours for scale, not measured
here. Writes bench/results/link-<scale>.json. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from common import PeakSampler, save
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


PLAIN_FIELDS = ("surname_t", "given_name_t", "birth_date_t", "sex_t", "phone_t", "region_t", "address_t")


def splink_plain(warehouse: Path, work: Path, sources: Path | None = None) -> dict[str, float]:
    """The peer, measured in the same run: Splink's plain deduplication (its tutorial's recipe) on the
    same identity records, every record scored: exact-match comparisons on the keyed tokens (the warehouse
    holds no names to compare by spelling), λ from a deterministic rule, u by random sampling, m by EM on
    two blocking rules, prediction and clustering at 0.95."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from provista.linkage.model import quiet_splink

    quiet_splink()
    con = duckdb.connect(":memory:", config={"temp_directory": str(work)})
    fields = ", ".join(PLAIN_FIELDS)
    con.execute(
        f"""CREATE TABLE records AS SELECT source_file || '#' || record_ref AS unique_id, {fields}
            FROM read_parquet('{_export_identity(warehouse, work)}')"""
    )
    records = int(con.execute("SELECT count(*) FROM records").fetchall()[0][0])
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[cl.ExactMatch(f) for f in PLAIN_FIELDS],
        blocking_rules_to_generate_predictions=[
            block_on("surname_t", "birth_date_t"),
            block_on("given_name_t", "birth_date_t"),
            block_on("phone_t"),
        ],
    )
    start = time.perf_counter()
    db = DuckDBAPI(connection=con)
    linker = Linker(db.register("records"), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("surname_t", "given_name_t", "birth_date_t")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname_t", "birth_date_t"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone_t"))
    pairs = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, 0.95)
    found = clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]]
    seconds = time.perf_counter() - start
    con.close()
    result: dict[str, float] = {
        "records": records,
        "seconds": round(seconds, 1),
        "records_per_minute": round(records / seconds * 60),
        "persons": int(found["cluster_id"].nunique()),
    }
    if sources is not None:  # scored like ours: pairwise, against truth/identities.csv
        truth = pd.read_csv(sources / "truth" / "identities.csv", dtype=str)
        found[["source_file", "record_ref"]] = found["unique_id"].str.rsplit("#", n=1, expand=True)
        joined = found.merge(truth, on=["source_file", "record_ref"], how="left")
        scores = pairwise_scores(joined["cluster_id"].astype(str), joined["true_person_id"])
        result |= {k: float(scores[k]) for k in ("precision", "recall", "f1")}
    return result


def _export_identity(warehouse: Path, work: Path) -> Path:
    file = work / "identity.parquet"
    with DuckDBEngine(warehouse, read_only=True) as engine:
        engine.execute(f"COPY (SELECT * FROM identity) TO '{file}' (FORMAT PARQUET)")
    return file


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
    plain = splink_plain(warehouse, work, sources)
    results = {
        "benchmark": "link",
        "scale": args.scale,
        "identity_records": stats.records,
        "representatives_scored": stats.representatives,
        "pairs_scored": stats.pairs_scored,
        "links": stats.links,
        "persons": stats.persons,
        "seconds": round(seconds, 1),
        "records_per_minute": round(per_minute),
        "splink_published_records_per_minute": SPLINK_PUBLISHED_RECORDS_PER_MINUTE,
        "splink_plain": plain,
        "over_splink_plain": round(seconds / stats.records / (plain["seconds"] / plain["records"]), 2),
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
            ("Splink's plain recipe, same records", f"{plain['records_per_minute']:,} records per minute"),
            ("plain recipe's precision / recall", f"{plain['precision']:.4f} / {plain['recall']:.4f}"),
            ("time per record over the plain recipe's", f"{results['over_splink_plain']}×"),
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
    save(f"link-{args.scale}", results)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
