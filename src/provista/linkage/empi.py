"""The master patient index in the build: every identity record → one ``person_key`` per real person.

Deterministic first: records that carry the same *valid* ID number are one person, and only one of them
(the representative) goes on to the model. The model then scores the representatives against each other
and against every record without a valid ID number, so it sees one row per person rather than one per
visit. People's corrections (``overrides``) come last and win: a record named in one is taken out of its
ID group, so that even two records with one ID number can be told apart (a borrowed ID card).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from splink import Linker

from provista.engine import DuckDBEngine, linkage_backend
from provista.linkage.cluster import cluster
from provista.linkage.model import (
    MATCH_THRESHOLD,
    SCORE_FLOOR,
    TrainingError,
    quiet_splink,
    score,
    settings,
    train,
)
from provista.linkage.overrides import Override

Progress = Callable[[str, int, int], None]
# Above this many identity records, the model trains on a sample of people (all of each one's records).
TRAINING_RECORDS = 300_000
# Below this many, there is too little to learn the model from: valid ID numbers alone link.
MIN_TRAINING_RECORDS = 1_000


@dataclass
class LinkStats:
    records: int
    representatives: int
    pairs_scored: int
    links: int
    persons: int
    refused_by_splits: int
    note: str = ""


def link_persons(engine: DuckDBEngine, overrides: list[Override], report: Progress) -> LinkStats:
    """Assign ``person_key`` in identity, patient_record and case_report; keep the pairs and the model."""
    records = int(engine.scalar("SELECT count(*) FROM identity"))
    if records == 0:
        return LinkStats(0, 0, 0, 0, 0, 0)
    named = sorted({k for o in overrides for k in (o.record_a, o.record_b)})
    engine.execute("CREATE OR REPLACE TEMP TABLE link_named (record_key VARCHAR)")
    if named:
        engine.append("link_named", pd.DataFrame({"record_key": named}))
    # Each record's representative: the first record of its valid ID number, or itself.
    engine.execute(
        """CREATE OR REPLACE TEMP TABLE link_rep AS
        SELECT record_key, CASE WHEN id_person_key IS NULL OR named THEN record_key
                   ELSE min(record_key) OVER (PARTITION BY id_person_key, named) END AS rep_key,
               id_person_key, named
        FROM (SELECT record_key, id_person_key,
                     record_key IN (SELECT record_key FROM link_named) AS named FROM identity)"""
    )
    # The fields some source provides (a field no source has would only add an empty comparison).
    candidates = [c for c in engine.frame("SELECT * FROM identity LIMIT 0").columns if c.endswith(_FEATURE)]
    counts = engine.frame("SELECT " + ", ".join(f"count({c}) AS {c}" for c in candidates) + " FROM identity")
    columns = [c for c in candidates if int(counts.loc[0, c]) > 0]
    feature_sql = ", ".join(columns)
    with tempfile.TemporaryDirectory(prefix="provista-link-") as tmp:
        reps_file, train_file = Path(tmp) / "reps.parquet", Path(tmp) / "train.parquet"
        engine.execute(
            f"""COPY (SELECT record_key AS unique_id, {feature_sql} FROM identity
                WHERE record_key IN (SELECT rep_key FROM link_rep)
                QUALIFY row_number() OVER (PARTITION BY record_key ORDER BY source_file, record_ref) = 1)
            TO '{reps_file}' (FORMAT PARQUET)"""
        )
        share = min(1.0, TRAINING_RECORDS / records)
        engine.execute(
            f"""COPY (SELECT record_key || '#' || row_number() OVER () AS unique_id, {feature_sql}
                FROM identity WHERE hash(coalesce(id_person_key, record_key)) % 1000000 < {int(share * 1e6)})
            TO '{train_file}' (FORMAT PARQUET)"""
        )
        report("linkage", 0, 3)
        quiet_splink()
        db = linkage_backend(Path(tmp))
        spec = settings(set(columns) | {"unique_id"})
        model: dict[str, Any] | None = None
        pairs = pd.DataFrame(columns=["unique_id_l", "unique_id_r", "match_weight", "match_probability"])
        note = ""
        if records < MIN_TRAINING_RECORDS:
            note = f"{records} identity records: too few to learn from; linked by valid ID number only"
        else:
            try:
                linker = Linker(
                    db.register(_read(db, train_file, "link_train")), spec, log_level=logging.ERROR
                )
                model = train(linker, set(columns))
            except TrainingError as exc:
                note = f"{exc.message}; linked by valid ID number only"
        report("linkage", 1, 3)
        if model is not None:
            reps = db.register(_read(db, reps_file, "link_reps"))
            pairs = score(Linker(reps, model, log_level=logging.ERROR, validate_settings=False), SCORE_FLOOR)
        report("linkage", 2, 3)
    rep_ids = engine.frame("SELECT DISTINCT rep_key FROM link_rep ORDER BY rep_key")["rep_key"].tolist()
    # A record taken out of its ID group (named in a correction) still links to it unless split from it.
    same_id = engine.frame(
        """SELECT n.record_key AS unique_id_l, min(g.rep_key) AS unique_id_r, 1.0 AS match_probability
        FROM link_rep n JOIN link_rep g ON g.id_person_key = n.id_person_key AND g.record_key <> n.record_key
        WHERE n.named GROUP BY n.record_key"""
    )
    edges = pd.concat([pairs, same_id], ignore_index=True)
    joins = [(o.record_a, o.record_b) for o in overrides if o.action == "join"]
    splits = [(o.record_a, o.record_b) for o in overrides if o.action == "split"]
    clusters = cluster(rep_ids, edges, MATCH_THRESHOLD, joins=joins, splits=splits)
    _assign(engine, clusters)
    engine.execute("DELETE FROM link_pair")
    engine.append(
        "link_pair",
        pairs.rename(columns={"unique_id_l": "record_key_l", "unique_id_r": "record_key_r"}),
    )
    engine.execute("DELETE FROM link_model")
    engine.execute(
        "INSERT INTO link_model VALUES (now()::TIMESTAMP, ?, ?, ?, ?)",
        [orjson.dumps(model).decode() if model else None, records, MATCH_THRESHOLD, note or None],
    )
    report("linkage", 3, 3)
    return LinkStats(
        records=records,
        representatives=len(rep_ids),
        pairs_scored=len(pairs),
        links=int((pairs["match_probability"] >= MATCH_THRESHOLD).sum()),
        persons=int(clusters["cluster_id"].nunique()),
        refused_by_splits=int(clusters.attrs["refused"]),
        note=note,
    )


_FEATURE = ("_t", "_near", "_py", "id_valid")


def _read(db: object, path: Path, name: str) -> str:
    db._con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{path}')")  # type: ignore[attr-defined]
    return name


def _assign(engine: DuckDBEngine, clusters: pd.DataFrame) -> None:
    """Person keys: a cluster is named by the smallest pseudonym of its valid ID numbers, else its record."""
    engine.execute("CREATE OR REPLACE TEMP TABLE link_cluster (rep_key VARCHAR, cluster_id VARCHAR)")
    engine.append("link_cluster", clusters.rename(columns={"unique_id": "rep_key"}))
    engine.execute(
        """CREATE OR REPLACE TEMP TABLE link_person AS
        WITH member AS (
            SELECT r.record_key, c.cluster_id, r.id_person_key
            FROM link_rep r JOIN link_cluster c USING (rep_key))
        SELECT m.record_key, k.person_key FROM member m JOIN (
            SELECT cluster_id, coalesce(min(id_person_key), min(record_key)) AS person_key
            FROM member GROUP BY cluster_id) k USING (cluster_id)"""
    )
    engine.execute(
        "UPDATE identity SET person_key = p.person_key FROM link_person p "
        "WHERE identity.record_key = p.record_key"
    )
    engine.execute(
        "UPDATE patient_record SET person_key = p.person_key FROM link_person p "
        "WHERE patient_record.patient_key = p.record_key"
    )
    engine.execute(
        "UPDATE case_report SET person_key = p.person_key FROM link_person p "
        "WHERE case_report.report_id = p.record_key"
    )
