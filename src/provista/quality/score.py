"""Score cleaning against the synthetic province's truth (``truth/errors.csv``).

For ``quarantine`` errors: recall (caught / injected) per kind, and overall precision (quarantined records
that were injected errors / all quarantined); for ``merge``: duplicates found, and for identity variants,
records kept for linkage; for ``normalise``: records loaded (repaired, not quarantined). Clean records
quarantined are counted separately: the goal is none.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from provista.engine import DuckDBEngine
from provista.warehouse.schema import FACTS


def _keys(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["source_file"].astype(str), frame["record_ref"].astype(str), strict=True))


def score(truth_dir: Path, engine: DuckDBEngine) -> tuple[pd.DataFrame, dict[str, float]]:
    """A row per error kind (injected, handled, rate) and overall figures."""
    truth = pd.read_csv(truth_dir / "errors.csv", dtype=str, keep_default_na=False)
    quarantined = _keys(engine.frame("SELECT source_file, record_ref FROM quarantine"))
    merged = _keys(engine.frame("SELECT source_file, record_ref FROM merged"))
    loaded = _keys(
        engine.frame(" UNION ALL ".join(f"SELECT source_file, record_ref FROM {t}" for t in FACTS))
    )
    rows = []
    for (kind, action), group in truth.groupby(["error_kind", "expected_action"], sort=True):
        keys = _keys(group)
        handled = keys & (
            quarantined if action == "quarantine" else merged if kind == "duplicate_record" else loaded
        )
        measure = {
            "quarantine": "recall (caught / injected)",
            "merge": "duplicates found" if kind == "duplicate_record" else "kept for linkage",
            "normalise": "repaired and loaded",
        }[action]
        rows.append(
            {
                "error_kind": kind,
                "expected_action": action,
                "injected": len(keys),
                "handled": len(handled),
                "measure": measure,
                "rate": len(handled) / len(keys) if keys else 1.0,
            }
        )
    table = pd.DataFrame(rows)
    must_quarantine = _keys(truth[truth["expected_action"] == "quarantine"])
    all_errors = _keys(truth)
    overall = {
        "quarantined": len(quarantined),
        "precision": len(quarantined & must_quarantine) / len(quarantined) if quarantined else 1.0,
        "clean_records_quarantined": len(quarantined - all_errors),
    }
    return table, overall
