"""Indicator tables (one row per unit and period) and peer statistics, from the definitions and measures.

value = numerator ÷ denominator × scale, NULL where the denominator is 0 or NULL (a unit with no beds has
no occupancy rate, not an infinite one). Peers are hospitals of the same level (三级 / 二级 / 一级): the
ranking and the trend's band compare a hospital with its peers, not with every hospital.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from provista.analytics.operations.definitions import Definitions, Indicator, load_definitions
from provista.analytics.operations.measures import BY_KEYS, MEASURE_SOURCES, measure_table

if TYPE_CHECKING:
    from provista.engine import DuckDBEngine

LABELS: dict[str, tuple[str, ...]] = {
    "province": (),
    "city": ("name_zh", "name_en"),
    "county": ("name_zh", "name_en", "city_code"),
    "hospital": ("name_zh", "name_en", "level", "level_en", "city_code", "county_code"),
    "department": ("name_zh", "name_en", "level", "level_en", "city_code", "county_code"),
}


def indicator_values(measures: pd.DataFrame, indicators: Sequence[Indicator]) -> pd.DataFrame:
    """The indicators computed from a measure table's columns (NULL where the denominator is not > 0)."""
    out = pd.DataFrame(index=measures.index)
    for ind in indicators:
        num = measures[ind.numerator].astype(float)
        den = measures[ind.denominator].astype(float)
        out[ind.id] = (num / den.where(den > 0)) * ind.scale
    return out


def indicator_table(
    engine: DuckDBEngine,
    by: str,
    start: dt.date,
    end: dt.date,
    *,
    grain: str = "period",
    hospitals: Sequence[str] | None = None,
    definitions: Definitions | None = None,
) -> pd.DataFrame:
    """Every indicator for each unit (hospital, department, city, county or province) and period.

    Columns: the unit's keys, its labels, period, period_start, period_end, days, one column per indicator,
    then every measure (the numerators and denominators).
    """
    defs = definitions or load_definitions()
    measures = measure_table(
        engine,
        by,
        start,
        end,
        grain=grain,
        hospitals=hospitals,
        or_session_minutes=defs.parameters.get("or_session_minutes", 480.0),
    )
    keys = list(BY_KEYS[by])
    labels = _labels(engine, by)
    if labels is not None:
        measures = measures.merge(labels, on=keys[:1], how="left")
    values = indicator_values(measures, defs.indicators)
    head = [*keys, *LABELS[by], "period", "period_start", "period_end", "days"]
    return pd.concat([measures[head], values, measures[list(MEASURE_SOURCES)]], axis=1)


def _labels(engine: DuckDBEngine, by: str) -> pd.DataFrame | None:
    if by in ("hospital", "department"):
        return engine.query(
            "SELECT hospital_id, name_zh, name_en, level, level_en, city_code, county_code FROM hospital"
        )
    if by == "city":
        return engine.query("SELECT code AS city_code, name_zh, name_en FROM region")
    if by == "county":
        return engine.query(
            "SELECT code AS county_code, name_zh, name_en, parent_code AS city_code FROM region"
        )
    return None


def peer_statistics(table: pd.DataFrame, indicator: Indicator, by: str = "level") -> pd.DataFrame:
    """Per peer group and period: peers with a value, median, first and third quartile (R's type 7)."""
    rows = []
    for (group, period), frame in table.groupby([by, "period"], sort=True):
        values = frame[indicator.id].dropna().to_numpy(float)
        q1, med, q3 = np.quantile(values, [0.25, 0.5, 0.75]) if len(values) else (np.nan,) * 3
        rows.append({by: group, "period": period, "peers": len(values), "q1": q1, "median": med, "q3": q3})
    return pd.DataFrame(rows, columns=[by, "period", "peers", "q1", "median", "q3"])


def peer_rank(table: pd.DataFrame, indicator: Indicator, by: str = "level") -> pd.DataFrame:
    """Each hospital's rank among its peers (1 = best by the indicator's direction) and the peer count.

    Higher: descending; lower: ascending; band: by distance from the band, then descending; neutral:
    descending (a position, not a judgement). Hospitals without a value get no rank.
    """
    out = table.copy()
    value = out[indicator.id].astype(float)
    if indicator.direction == "lower":
        score = value
    elif indicator.direction == "band":
        score = value.map(lambda v: indicator.distance_from_band(v) if pd.notna(v) else np.nan) - value * 1e-9
    else:
        score = -value
    out["_score"] = score
    out["rank"] = out.groupby(by)["_score"].rank(method="min").astype("Int64")
    out["peers"] = out.groupby(by)[indicator.id].transform("count").astype(int)
    return out.drop(columns="_score")
