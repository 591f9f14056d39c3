"""Clusters from scored pairs, with people's joins and splits."""

from __future__ import annotations

import pandas as pd

from provista.linkage.cluster import cluster, pairwise_scores


def pairs(*rows: tuple[str, str, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unique_id_l", "unique_id_r", "match_probability"])


def test_links_above_threshold_join_transitively() -> None:
    got = cluster(list("abcd"), pairs(("a", "b", 0.999), ("b", "c", 0.995), ("c", "d", 0.5)), 0.99)
    assert got.set_index("unique_id")["cluster_id"].to_dict() == {"a": "a", "b": "a", "c": "a", "d": "d"}


def test_a_split_cuts_the_chain_at_its_weakest_link() -> None:
    scored = pairs(("a", "b", 0.9999), ("b", "c", 0.995), ("c", "d", 0.9999))
    got = cluster(list("abcd"), scored, 0.99, splits=[("a", "d")]).set_index("unique_id")["cluster_id"]
    assert got["a"] == got["b"] and got["c"] == got["d"] and got["a"] != got["c"]


def test_a_join_links_what_the_model_missed_and_a_split_wins_over_it() -> None:
    got = cluster(list("abc"), pairs(), 0.99, joins=[("a", "c")]).set_index("unique_id")["cluster_id"]
    assert got["a"] == got["c"] != got["b"]
    got = cluster(list("ab"), pairs(), 0.99, joins=[("a", "b")], splits=[("a", "b")])
    assert got["cluster_id"].nunique() == 2 and got.attrs["refused"] == 1


def test_pairwise_scores_by_hand() -> None:
    # Truth {a,b,c} {d}; predicted {a,b} {c,d}: predicted pairs ab, cd; true pairs ab, ac, bc.
    s = pairwise_scores(pd.Series(["x", "x", "y", "y"]), pd.Series([1, 1, 1, 2]))
    assert (s["predicted_pairs"], s["true_pairs"], s["correct_pairs"]) == (2, 3, 1)
    assert abs(s["precision"] - 0.5) < 1e-12 and abs(s["recall"] - 1 / 3) < 1e-12
    assert abs(s["f1"] - 0.4) < 1e-12
