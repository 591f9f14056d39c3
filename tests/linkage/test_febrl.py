"""FEBRL 1 and 2: the linker against the files' true matches (goal F1 ≥ 0.99, the same settings for both)."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from provista.linkage.cluster import pairwise_scores


@pytest.mark.parametrize("name", ["febrl1", "febrl2"])
def test_febrl_pairwise_f1_at_least_0_99(name: str, shared: Path, tmp_path: Path) -> None:
    output = tmp_path / f"{name}.clusters.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "provista",
            "link",
            "--input",
            str(shared / "data/linkage" / f"{name}.csv"),
            "--schema",
            "febrl",
            "--output",
            str(output),
        ],
        check=True,
        capture_output=True,
    )
    got = pd.read_csv(output, dtype=str)
    source = pd.read_csv(shared / "data/linkage" / f"{name}.csv", dtype=str, skipinitialspace=True)
    assert sorted(got["rec_id"]) == sorted(source["rec_id"].str.strip())  # every record, once
    # The truth: rec-<n>-org and rec-<n>-dup-<k> are one person; check it against the shipped pair list.
    entity = got["rec_id"].str.extract(r"^rec-(\d+)-")[0]
    pairs = pd.read_csv(shared / "data/linkage" / f"{name}_true_pairs.csv")
    by_entity = got.groupby(entity)["rec_id"].apply(list)
    derived = {frozenset(p) for ids in by_entity for p in itertools.combinations(ids, 2)}
    assert derived == {frozenset(p) for p in pairs.itertuples(index=False)}
    scores = pairwise_scores(got["cluster_id"], entity)
    assert scores["f1"] >= 0.99, scores
    assert scores["precision"] >= 0.995, scores
