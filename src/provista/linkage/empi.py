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

from provista.engine import Engine
from provista.linkage.cluster import cluster
from provista.linkage.model import (
    MATCH_THRESHOLD,
    SCORE_FLOOR,
    TrainingError,
    in_dialect,
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
# Above this many representatives, the pairs are scored in parts (``score``'s chunks): at 50 million
# encounters (about 10 million representatives) scoring them at once spilled more than 20 GB of Splink's
# joins to disk and filled it. The medium province's 3 million had scored at once in the 2 GB budget.
REPRESENTATIVES_PER_CHUNK = 2_000_000


@dataclass
class LinkStats:
    records: int
    representatives: int
    pairs_scored: int
    links: int
    persons: int
    refused_by_splits: int
    note: str = ""


def link_persons(engine: Engine, overrides: list[Override], report: Progress) -> LinkStats:
    """Assign ``person_key`` in identity, patient_record and case_report; keep the pairs and the model."""
    records = int(engine.scalar("SELECT count(*) FROM identity"))
    if records == 0:
        return LinkStats(0, 0, 0, 0, 0, 0)
    representatives = choose_representatives(engine, overrides)
    # The fields some source provides (a field no source has would only add an empty comparison).
    candidates = [c for c in engine.frame("SELECT * FROM identity LIMIT 0").columns if c.endswith(_FEATURE)]
    counts = engine.frame("SELECT " + ", ".join(f"count({c}) AS {c}" for c in candidates) + " FROM identity")
    columns = [c for c in candidates if int(counts.loc[0, c]) > 0]
    feature_sql = ", ".join(columns)
    with tempfile.TemporaryDirectory(prefix="provista-link-") as tmp:
        work = Path(tmp)
        # SQL both engines read alike: the representatives, and the training sample (people drawn by a
        # hash both engines compute, with every record of each; each record's id is its lineage).
        reps_sql = representatives_sql(columns)
        share = min(1.0, TRAINING_RECORDS / records)
        drawn = engine.hash_bucket("coalesce(id_person_key, record_key)", 1_000_000)
        train_sql = f"""SELECT record_key || '#' || source_file || '#' || record_ref AS unique_id,
                {feature_sql} FROM identity WHERE {drawn} < {int(share * 1e6)}"""
        report("linkage", 0, 3)
        quiet_splink()
        with engine.linkage_backend(work) as db:
            spec = settings(set(columns) | {"unique_id"}, dialect=engine.dialect)
            model: dict[str, Any] | None = None
            pairs = pd.DataFrame(columns=["unique_id_l", "unique_id_r", "match_weight", "match_probability"])
            note = ""
            if records < MIN_TRAINING_RECORDS:
                note = f"{records} identity records: too few to learn from; linked by valid ID number only"
            else:
                try:
                    linker = Linker(
                        db.register(engine.linkage_table(db, train_sql, "link_train", work)),
                        spec,
                        log_level=logging.ERROR,
                    )
                    model = train(linker, set(columns))
                except TrainingError as exc:
                    note = f"{exc.message}; linked by valid ID number only"
            report("linkage", 1, 3)
            if model is not None:
                reps = db.register(engine.linkage_table(db, reps_sql, "link_reps", work))
                linker = Linker(reps, model, log_level=logging.ERROR, validate_settings=False)
                pairs = score(linker, SCORE_FLOOR, chunks=-(-representatives // REPRESENTATIVES_PER_CHUNK))
        report("linkage", 2, 3)
    # A record taken out of its ID group (named in a correction) still links to it unless split from it.
    same_id = engine.frame(
        """SELECT n.record_key AS unique_id_l, min(g.rep_key) AS unique_id_r,
            CAST(1.0 AS DOUBLE) AS match_probability
        FROM link_rep n JOIN link_rep g ON g.id_person_key = n.id_person_key AND g.record_key <> n.record_key
        WHERE n.named GROUP BY n.record_key"""
    )
    edges = pd.concat([pairs, same_id], ignore_index=True)
    joins = [(o.record_a, o.record_b) for o in overrides if o.action == "join"]
    splits = [(o.record_a, o.record_b) for o in overrides if o.action == "split"]
    # Only records that a link or a correction names can share a cluster; every other representative is
    # a person of its own (SQL says so below), which keeps millions of singletons out of Python.
    strong = edges[edges["match_probability"] >= MATCH_THRESHOLD]
    named_in = {k for pair in joins + splits for k in pair}
    nodes = sorted(set(strong["unique_id_l"]) | set(strong["unique_id_r"]) | named_in)
    clusters = cluster(nodes, strong, MATCH_THRESHOLD, joins=joins, splits=splits)
    persons = _assign(engine, clusters)
    engine.execute("DELETE FROM link_pair")
    engine.append(
        "link_pair",
        pairs.rename(columns={"unique_id_l": "record_key_l", "unique_id_r": "record_key_r"}),
    )
    engine.execute("DELETE FROM link_model")
    engine.append(
        "link_model",
        pd.DataFrame(
            {
                "trained_at": [pd.Timestamp.now()],
                # kept in DuckDB's SQL whichever engine trained it: `explain` runs on the embedded engine
                "model_json": [orjson.dumps(in_dialect(model, "duckdb")).decode() if model else None],
                "records": [records],
                "threshold": [MATCH_THRESHOLD],
                "note": [note or None],
            }
        ),
    )
    report("linkage", 3, 3)
    return LinkStats(
        records=records,
        representatives=representatives,
        pairs_scored=len(pairs),
        links=int((pairs["match_probability"] >= MATCH_THRESHOLD).sum()),
        persons=persons,
        refused_by_splits=int(clusters.attrs["refused"]),
        note=note,
    )


def choose_representatives(engine: Engine, overrides: list[Override]) -> int:
    """Each identity record's representative, in the temp table ``link_rep``; returns how many there are.

    The first record (by key) of each valid ID number represents it, and every record without one is its
    own; a record named in a correction represents itself (it may be told apart from its ID group)."""
    named = sorted({k for o in overrides for k in (o.record_a, o.record_b)})
    engine.execute("CREATE OR REPLACE TEMP TABLE link_named (record_key VARCHAR)")
    if named:
        engine.append("link_named", pd.DataFrame({"record_key": named}))
    engine.execute(
        """CREATE OR REPLACE TEMP TABLE link_rep AS
        SELECT record_key, CASE WHEN id_person_key IS NULL OR named THEN record_key
                   ELSE min(record_key) OVER (PARTITION BY id_person_key, named) END AS rep_key,
               id_person_key, named
        FROM (SELECT record_key, id_person_key,
                     record_key IN (SELECT record_key FROM link_named) AS named FROM identity)"""
    )
    return int(engine.scalar("SELECT count(DISTINCT rep_key) FROM link_rep"))


def representatives_sql(columns: list[str], key: str = "unique_id") -> str:
    """SQL (both engines) for the records the model scores: one row per representative of ``link_rep``
    (its first identity row, by lineage), its record key as ``key`` and the identity ``columns``."""
    listed = ", ".join(columns)
    return f"""SELECT {key}, {listed} FROM (
            SELECT record_key AS {key}, {listed},
                   row_number() OVER (PARTITION BY record_key ORDER BY source_file, record_ref) AS copy
            FROM identity WHERE record_key IN (SELECT rep_key FROM link_rep)) reps
        WHERE copy = 1"""


_FEATURE = ("_t", "_near", "_py", "id_valid")


def _assign(engine: Engine, clusters: pd.DataFrame) -> int:
    """Person keys: a cluster is named by the smallest pseudonym of its valid ID numbers, else its smallest
    record key. Clusters that a split made of one ID number's records: the one with the smallest record
    keeps the ID's name, the others take their smallest record's (a person key names one person).

    ``clusters`` holds the representatives that share a cluster; any other is a cluster of its own.
    Returns the number of clusters (persons)."""
    engine.execute("CREATE OR REPLACE TEMP TABLE link_cluster (rep_key VARCHAR, cluster_id VARCHAR)")
    engine.append("link_cluster", clusters.rename(columns={"unique_id": "rep_key"}))
    engine.execute(
        """CREATE OR REPLACE TEMP TABLE link_person AS
        WITH member AS (
            SELECT r.record_key, coalesce(c.cluster_id, r.rep_key) AS cluster_id, r.id_person_key
            FROM link_rep r LEFT JOIN link_cluster c ON c.rep_key = r.rep_key),
        named AS (
            SELECT cluster_id, min(id_person_key) AS id_key, min(record_key) AS first_record
            FROM member GROUP BY cluster_id),
        ranked AS (
            SELECT cluster_id, id_key, first_record,
                row_number() OVER (PARTITION BY id_key ORDER BY first_record) AS nth
            FROM named)
        SELECT m.record_key, CASE WHEN k.id_key IS NOT NULL AND k.nth = 1 THEN k.id_key
                                  ELSE k.first_record END AS person_key
        FROM member m JOIN ranked k USING (cluster_id)"""
    )
    # One person per record key (min: a key on several identity rows gets the same person on both engines).
    person = "SELECT record_key AS {key}, min(person_key) AS person_key FROM link_person GROUP BY record_key"
    engine.set_from("identity", "person_key", person.format(key="record_key"), ["record_key"])
    engine.set_from("patient_record", "person_key", person.format(key="patient_key"), ["patient_key"])
    engine.set_from("case_report", "person_key", person.format(key="report_id"), ["report_id"])
    return int(
        engine.scalar(
            "SELECT count(DISTINCT coalesce(c.cluster_id, r.rep_key)) "
            "FROM link_rep r LEFT JOIN link_cluster c ON c.rep_key = r.rep_key"
        )
    )
