"""Score the person index against the synthetic province's truth (``truth/identities.csv``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from provista.engine import DuckDBEngine
from provista.errors import ProvistaError
from provista.linkage.cluster import pairwise_scores


def score_person_index(engine: DuckDBEngine, sources: Path) -> dict[str, float | int]:
    """Pairwise precision, recall and F1 of ``person_key`` over every loaded identity record.

    Records the build quarantined or merged as duplicates have no identity row and are not counted;
    every identity row must find its truth row (else the truth and the warehouse disagree: an error).
    """
    truth_file = sources / "truth" / "identities.csv"
    if not truth_file.exists():
        raise ProvistaError(
            f"no ground truth at {truth_file}",
            hint="score a warehouse built from `provista synth` output, giving its folder as --sources",
        )
    truth = pd.read_csv(truth_file, dtype=str)
    index = engine.frame("SELECT source_file, record_ref, person_key FROM identity")
    joined = index.merge(truth, on=["source_file", "record_ref"], how="left", validate="one_to_one")
    missing = joined["true_person_id"].isna()
    if missing.any():
        r = joined[missing].iloc[0]
        raise ProvistaError(
            f"{missing.sum()} identity records have no truth row, e.g. {r['source_file']} "
            f"record {r['record_ref']}",
            hint="score the warehouse against the folder it was built from",
        )
    return pairwise_scores(joined["person_key"], joined["true_person_id"])
