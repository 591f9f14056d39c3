"""The Fellegi–Sunter model over the keyed features of ``encode``, trained and scored by Splink.

One set of rules serves every source: each identity field a source provides gets its comparison (levels
from exact to a one-character difference, a Pinyin reading, names swapped), and the blocking rules and
training sessions use whichever fields are there. Nothing is tuned to one data set: the m and u
probabilities are learnt from the data by expectation maximisation and random sampling.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from splink import Linker, SettingsCreator
from splink.backends.duckdb import DuckDBAPI
from splink.internals.comparison_level import M_U_CLAMP_MIN, ComparisonLevel
from splink.internals.exceptions import SplinkException

from provista.errors import ProvistaError
from provista.linkage.encode import FIELDS

LinkType = Literal["dedupe_only", "link_only"]
# Pairs at or above this probability are links (a false merge mixes two people: stay conservative).
MATCH_THRESHOLD = 0.99
# Scored pairs below this probability are not kept.
SCORE_FLOOR = 0.5
U_SAMPLE_PAIRS = 2_000_000
SEED = 20201101


# The one SQL function the comparisons spell differently on each engine: do two arrays share an element?
_OVERLAP = {"duckdb": "list_has_any", "spark": "arrays_overlap"}


def overlap(column: str, dialect: str) -> str:
    """SQL: the two records' token arrays share a token."""
    return f"{_OVERLAP[dialect]}({column}_l, {column}_r)"


def in_dialect(model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """The model (Splink's JSON) with its comparisons' SQL in ``dialect`` (duckdb or spark)."""
    source = str(model.get("sql_dialect", "duckdb"))
    if source == dialect:
        return model
    out: dict[str, Any] = copy.deepcopy(model)
    out["sql_dialect"] = dialect
    for rule in out.get("blocking_rules_to_generate_predictions", []):
        if isinstance(rule, dict) and "sql_dialect" in rule:
            rule["sql_dialect"] = dialect
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = re.sub(
                rf"\b{_OVERLAP[source]}\(", f"{_OVERLAP[dialect]}(", level["sql_condition"]
            )
    return out


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _null(column: str) -> dict[str, Any]:
    return _level(f"{column}_l IS NULL OR {column}_r IS NULL", "missing", is_null_level=True)


def _name_comparison(name: str, other: str, columns: set[str], dialect: str) -> dict[str, Any]:
    levels = [
        _null(f"{name}_t"),
        _level(
            f"{name}_t_l = {name}_t_r",
            "exact",
            tf_adjustment_column=f"{name}_t",
            tf_adjustment_weight=1.0,
        ),
        _level(overlap(f"{name}_py", dialect), "same Pinyin"),
        _level(overlap(f"{name}_near", dialect), "one character apart"),
    ]
    if f"{other}_py" in columns:
        levels.append(
            _level(
                f"{overlap(f'{name}_py', dialect).replace(f'{name}_py_r', f'{other}_py_r')}",
                "swapped with " + other.replace("_", " "),
            )
        )
    levels.append(_level("ELSE", "different"))
    return {"output_column_name": name, "comparison_levels": levels}


def _simple_comparison(name: str, near: bool, dialect: str) -> dict[str, Any]:
    levels = [_null(f"{name}_t"), _level(f"{name}_t_l = {name}_t_r", "exact")]
    if near:
        levels.append(_level(overlap(f"{name}_near", dialect), "one character apart"))
    levels.append(_level("ELSE", "different"))
    return {"output_column_name": name, "comparison_levels": levels}


def _id_comparison(dialect: str) -> dict[str, Any]:
    near = overlap("id_number_near", dialect)
    both_valid = "coalesce(id_valid_l AND id_valid_r, false)"
    return {
        "output_column_name": "id_number",
        "comparison_levels": [
            _null("id_number_t"),
            _level("id_number_t_l = id_number_t_r", "exact"),
            _level(f"{near} AND NOT {both_valid}", "one character apart, a check digit fails"),
            _level(near, "one character apart, both valid"),
            _level(f"{both_valid}", "different, both valid"),
            _level("ELSE", "different"),
        ],
    }


def _birth_comparison(dialect: str) -> dict[str, Any]:
    return {
        "output_column_name": "birth_date",
        "comparison_levels": [
            _null("birth_date_t"),
            _level("birth_date_t_l = birth_date_t_r", "exact"),
            _level(overlap("birth_date_near", dialect), "one digit apart"),
            _level("birth_ym_t_l = birth_ym_t_r", "same year and month"),
            _level("ELSE", "different"),
        ],
    }


def comparisons(columns: set[str], dialect: str = "duckdb") -> list[Any]:
    """One comparison per identity field present in ``columns`` (the encoded feature columns)."""
    out: list[Any] = []
    for f in FIELDS:
        if f"{f.name}_t" not in columns:
            continue
        if f.name == "surname":
            out.append(_name_comparison("surname", "given_name", columns, dialect))
        elif f.name == "given_name":
            out.append(_name_comparison("given_name", "surname", columns, dialect))
        elif f.name == "id_number":
            out.append(_id_comparison(dialect))
        elif f.name == "birth_date":
            out.append(_birth_comparison(dialect))
        else:
            out.append(_simple_comparison(f.name, f.near, dialect))
    return out


# Candidate pairs: records that agree on one of these. Each must stay small on a province of tens of
# millions: a rule whose blocks grow with the population gives pairs that grow with its square. Birth date
# + surname (a few surnames cover most people) and a street address alone did: 201 M and 306 M pairs at 50 M
# encounters, which filled the disk. With the county and the birth month they gave 20 and 35 times fewer
# pairs at the small province and still covered every true pair of it (bench/bench_link.py).
BLOCKING = (
    ("id_number_t",),
    ("birth_date_t", "surname_t", "region_t"),
    ("birth_date_t", "given_name_t"),
    ("surname_t", "given_name_t", "birth_ym_t"),
    ("surname_t", "given_name_t", "region_t"),
    ("phone_t",),
    ("address_t", "birth_ym_t"),
    ("region_t", "street_number_t", "locality_t"),
)
# Training sessions: each one fixes some fields and learns the others from the pairs that agree on them.
TRAINING = (("birth_date_t",), ("surname_t", "given_name_t"))


def _rule(cols: tuple[str, ...]) -> Any:
    return " AND ".join(f"l.{c} = r.{c}" for c in cols)


def _available(rules: tuple[tuple[str, ...], ...], columns: set[str]) -> list[tuple[str, ...]]:
    return [r for r in rules if all(c in columns for c in r)]


@dataclass
class LinkResult:
    """Scored pairs above SCORE_FLOOR and the trained model (Splink's JSON) that scored them."""

    pairs: pd.DataFrame  # unique_id_l, unique_id_r, match_weight, match_probability
    model: dict[str, Any]
    comparisons_made: int = 0
    notes: list[str] = field(default_factory=list)


def settings(
    columns: set[str], dialect: str = "duckdb", link_type: LinkType = "dedupe_only"
) -> dict[str, Any]:
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=comparisons(columns, dialect),
        blocking_rules_to_generate_predictions=[_rule(r) for r in _available(BLOCKING, columns)],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
        additional_columns_to_retain=[],
    ).create_settings_dict(sql_dialect_str=dialect)


def train_and_score(frames: list[pd.DataFrame], threshold: float = SCORE_FLOOR) -> LinkResult:
    """Train on ``frames`` and score their candidate pairs: one frame de-duplicates, two link.

    Every frame holds the columns of ``Encoder.encode`` (``unique_id`` unique across frames).
    """
    quiet_splink()
    columns = set(frames[0].columns)
    link_type: LinkType = "dedupe_only" if len(frames) == 1 else "link_only"
    db = DuckDBAPI()
    tables = [db.register(f) for f in frames]
    model = train(Linker(tables, settings(columns, link_type=link_type), log_level=logging.ERROR), columns)
    scored = score(Linker(tables, model, log_level=logging.ERROR, validate_settings=False), threshold)
    return LinkResult(pairs=scored, model=model)


def quiet_splink() -> None:
    """Splink logs every step at INFO, and untrained levels (no pair reached them) at WARNING."""
    logging.getLogger("splink").setLevel(logging.ERROR)


def score(linker: Linker, threshold: float = SCORE_FLOOR, chunks: int = 1) -> pd.DataFrame:
    """The pairs scored at or above ``threshold``; ``chunks`` > 1 scores them in chunks × chunks parts
    (records split by a hash of their id on each side: every pair is scored once, in one part), so that
    one part's records, not all of them, are held or spilled at a time."""
    scored = linker.inference.predict(
        threshold_match_probability=threshold, num_chunks_left=chunks, num_chunks_right=chunks
    ).as_pandas_dataframe()
    return scored[["unique_id_l", "unique_id_r", "match_weight", "match_probability"]].reset_index(drop=True)


@contextmanager
def floored_m_u() -> Iterator[None]:
    """While training, an m or u probability below Splink's floor (``M_U_CLAMP_MIN``, 1e-300) is stored as
    the floor.

    Splink 5.0's EM assigns the probabilities it computes, and their setters refuse values below the floor:
    a comparison level all but absent among one session's matches (m = 3e-312 on a province of 10,912
    identity records) failed the whole training, and the province was linked by ID number only. Splink
    computes every match weight from max(m, floor) and max(u, floor), so storing the floor changes no weight.
    """
    saved = {name: getattr(ComparisonLevel, name) for name in ("m_probability", "u_probability")}

    def floored(prop: property) -> property:
        def setter(level: ComparisonLevel, value: Any) -> None:
            if isinstance(value, float) and value < M_U_CLAMP_MIN:
                value = M_U_CLAMP_MIN
            assert prop.fset is not None
            prop.fset(level, value)

        return property(prop.fget, setter)

    for name, prop in saved.items():
        setattr(ComparisonLevel, name, floored(prop))
    try:
        yield
    finally:
        for name, prop in saved.items():
            setattr(ComparisonLevel, name, prop)


class TrainingError(ProvistaError, RuntimeError):
    """Too few records, or too little variety, to learn the model from."""


def train(linker: Linker, columns: set[str]) -> dict[str, Any]:
    """Estimate λ from near-certain rules, u by random sampling, m by EM; return the model (JSON).

    Raises TrainingError when a session cannot learn (e.g. a handful of records: no candidate pairs).
    """
    rules = _available(TRAINING, columns)
    if not rules:
        raise TrainingError("no birth dates or names to train on")
    try:
        with floored_m_u():
            deterministic = [_rule(r) for r in _available((("id_number_t",), BLOCKING[3]), columns)]
            linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.8)
            # one pass over the sampled pairs (no early stop after some chunks): on Spark each chunk is a job
            linker.training.estimate_u_using_random_sampling(
                max_pairs=U_SAMPLE_PAIRS, seed=SEED, num_chunks=1
            )
            for rule in rules:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    _rule(rule), estimate_without_term_frequencies=True
                )
    except (ValueError, ZeroDivisionError, SplinkException) as exc:
        raise TrainingError(f"the linkage model could not be trained: {str(exc).splitlines()[0]}") from None
    model: dict[str, Any] = linker.misc.save_model_to_json(overwrite=True)
    return model
