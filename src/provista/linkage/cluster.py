"""Scored pairs → clusters (one per person), honouring people's corrections.

Links are added strongest first (union–find). A user's *join* is added before any scored link; a user's
*split* forbids any link that would put its two records into one cluster, so a wrong chain
(A–B strong, B–C weak) is cut at its weakest link rather than wherever a threshold happens to fall.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd


class _Clusters:
    def __init__(self, cannot: Iterable[tuple[str, str]]) -> None:
        self.parent: dict[str, str] = {}
        self.apart: dict[str, set[str]] = {}  # root → records that must stay outside its cluster
        for a, b in cannot:
            self.apart.setdefault(a, set()).add(b)
            self.apart.setdefault(b, set()).add(a)

    def find(self, x: str) -> str:
        root = x
        while (p := self.parent.get(root, root)) != root:
            root = p
        while (p := self.parent.get(x, x)) != root:  # path compression
            self.parent[x] = root
            x = p
        return root

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        keep_a, keep_b = self.apart.get(ra, set()), self.apart.get(rb, set())
        if any(self.find(x) == rb for x in keep_a) or any(self.find(x) == ra for x in keep_b):
            return False
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        if keep_b:
            self.apart.setdefault(ra, set()).update(self.apart.pop(rb))
        return True


def cluster(
    ids: Sequence[str],
    pairs: pd.DataFrame,
    threshold: float,
    joins: Iterable[tuple[str, str]] = (),
    splits: Iterable[tuple[str, str]] = (),
) -> pd.DataFrame:
    """``unique_id, cluster_id`` for every id: the smallest id of its cluster names the cluster.

    ``pairs`` has ``unique_id_l, unique_id_r, match_probability``; those at or above ``threshold`` link.
    Returns also how many links the splits refused (``refused`` attribute of the frame's ``attrs``).
    """
    uf = _Clusters(splits)
    refused = 0
    for a, b in joins:
        refused += not uf.union(a, b)
    strong = pairs[pairs["match_probability"] >= threshold].sort_values(
        ["match_probability", "unique_id_l", "unique_id_r"], ascending=[False, True, True], kind="stable"
    )
    for a, b in zip(strong["unique_id_l"].tolist(), strong["unique_id_r"].tolist(), strict=True):
        refused += not uf.union(a, b)
    out = pd.DataFrame({"unique_id": list(ids)})
    out["cluster_id"] = [uf.find(i) for i in out["unique_id"].tolist()]
    out.attrs["refused"] = refused
    return out


def pairwise_scores(predicted: pd.Series, truth: pd.Series) -> dict[str, float | int]:
    """Pairwise precision, recall and F1 of a clustering against true entity labels (same index).

    Counted from the contingency table, so millions of records need no list of pairs.
    """
    frame = pd.DataFrame({"p": predicted.to_numpy(), "t": truth.to_numpy()})

    def pairs(counts: pd.Series) -> int:
        n = counts.astype("int64")
        return int((n * (n - 1) // 2).sum())

    predicted_pairs = pairs(frame.groupby("p").size())
    true_pairs = pairs(frame.groupby("t").size())
    both = pairs(frame.groupby(["p", "t"]).size())
    precision = both / predicted_pairs if predicted_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "records": len(frame),
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
        "correct_pairs": both,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }
