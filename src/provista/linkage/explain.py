"""Why two records are (or are not) one person: the match weight of each comparison, as a waterfall."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import orjson
import pandas as pd
from splink import Linker

from provista.engine import DuckDBEngine, linkage_backend
from provista.errors import ProvistaError
from provista.linkage.model import quiet_splink


class RecordNotFound(ProvistaError, LookupError):
    """A record named by the user is not in the person index."""


@dataclass
class Explanation:
    steps: pd.DataFrame  # comparison, level, match_weight (log2 Bayes factor), cumulative
    match_weight: float
    match_probability: float
    person_l: str
    person_r: str


def resolve(engine: DuckDBEngine, ref: str) -> pd.Series:
    """A record by its key, or by ``source_file#record_ref`` (what a hospital's file and row say)."""
    if "#" in ref:
        source, row = ref.rsplit("#", 1)
        found = engine.frame("SELECT * FROM identity WHERE source_file = ? AND record_ref = ?", [source, row])
    else:
        found = engine.frame("SELECT * FROM identity WHERE record_key = ?", [ref])
    if found.empty:
        raise RecordNotFound(
            f"no identity record {ref!r} in the warehouse",
            hint="name a record by its key (`provista empi show`) or as source_file#record_ref",
        )
    return found.iloc[0]


def explain(engine: DuckDBEngine, ref_l: str, ref_r: str) -> Explanation:
    row = engine.frame("SELECT model_json, note FROM link_model")
    if row.empty or row.loc[0, "model_json"] is None:
        note = "" if row.empty else f" ({row.loc[0, 'note']})"
        raise ProvistaError(
            f"the warehouse has no trained linkage model{note}",
            hint="build a warehouse with enough person records for the model to learn from",
        )
    model: dict[str, Any] = orjson.loads(row.loc[0, "model_json"])
    model["retain_intermediate_calculation_columns"] = True
    left, right = resolve(engine, ref_l), resolve(engine, ref_r)
    features = [c for c in model_columns(model) if c in left.index]
    frames = []
    for rec, uid in ((left, "l"), (right, "r")):
        frame = pd.DataFrame([{"unique_id": uid, **{c: rec[c] for c in features}}])
        for c in _tf_columns(model):
            value = rec[c]
            frame[f"tf_{c}"] = (
                engine.scalar(
                    f"SELECT count(*) FILTER (WHERE {c} = ?) / count({c}) FROM identity", [int(value)]
                )
                if value is not None and value == value
                else None
            )
        frames.append(frame)
    quiet_splink()
    db = linkage_backend()
    both = pd.concat(frames, ignore_index=True)
    linker = Linker(db.register(both), model, log_level=logging.ERROR, validate_settings=False)
    scored = linker.inference.score_pair(db.register(frames[0]), db.register(frames[1]))
    out = scored.as_pandas_dataframe().iloc[0]
    steps = [("prior (two random records)", "", _prior_weight(model))]
    for comp in model["comparisons"]:
        name = comp["output_column_name"]
        gamma = int(out[f"gamma_{name}"])
        steps.append((name, _label(comp, gamma), float(out[f"mw_{name}"])))
        tf = float(out.get(f"mw_tf_adj_{name}", 0.0) or 0.0)
        if tf != 0.0:
            steps.append((f"{name} (how common)", "term frequency", tf))
    table = pd.DataFrame(steps, columns=["comparison", "level", "match_weight"])
    table["cumulative"] = table["match_weight"].cumsum()
    return Explanation(
        table,
        float(out["match_weight"]),
        float(out["match_probability"]),
        str(left["person_key"]),
        str(right["person_key"]),
    )


def model_columns(model: dict[str, Any]) -> set[str]:
    """Feature columns the model's comparisons read (``x_l`` / ``x_r`` in their SQL)."""
    import re

    sql = " ".join(lv["sql_condition"] for c in model["comparisons"] for lv in c["comparison_levels"])
    return {m for m in re.findall(r"\b(\w+)_[lr]\b", sql)}


def _tf_columns(model: dict[str, Any]) -> list[str]:
    return sorted(
        {
            lv["tf_adjustment_column"]
            for c in model["comparisons"]
            for lv in c["comparison_levels"]
            if lv.get("tf_adjustment_column")
        }
    )


def _prior_weight(model: dict[str, Any]) -> float:
    p = float(model["probability_two_random_records_match"])
    return math.log2(p / (1 - p))


def _label(comp: dict[str, Any], gamma: int) -> str:
    # Levels are listed from the most to the least specific; the null level is -1, ELSE is 0.
    levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
    if gamma == -1:
        return "missing"
    return str(levels[len(levels) - 1 - gamma]["label_for_charts"])
