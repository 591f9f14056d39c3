"""Time series and heat maps, by region, hospital level, department or encounter type."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Query
from pydantic import BaseModel

from provista.api.deps import CurrentUser, EngineDep, narrow, region_filter, requires
from provista.privacy.public import suppress_cells
from provista.warehouse.marts import CHAPTERS

router = APIRouter(prefix="/api/trends", tags=["trends"])


class Series(BaseModel):
    name: str
    points: list[tuple[dt.date, float | None]]  # None: a small count hidden for the public role


class Trend(BaseModel):
    grain: str
    series: list[Series]


BY = {"type": "v.type", "level": "h.level_en", "city": "h.city_code", "county": "h.county_code",
      "department": "v.department"}  # fmt: skip


@router.get(
    "/visits", response_model=Trend, dependencies=[requires("admin", "analyst", "hospital", "public")]
)
def visits(
    user: CurrentUser,
    engine: EngineDep,
    region: str | None = None,
    by: Literal["type", "level", "city", "county", "department"] = "type",
    grain: Literal["day", "week", "month"] = "week",
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
    level: Annotated[
        str | None, Query(description="only hospitals of this level (level_en, e.g. 3A)")
    ] = None,
    department: Annotated[str | None, Query(description="only this department")] = None,
    type: Annotated[str | None, Query(description="only this encounter type")] = None,
) -> Trend:
    """Visits over time, one series per encounter type, hospital level, city, county or department.

    ``level``, ``department`` and ``type`` narrow the visits counted, whatever the series are split by.
    The public role's table is protected whole (small counts and their complements hidden) and then
    cut to the whole periods that meet ``from`` … ``to``, so that every window shows the same cells.
    """
    public = user.role == "public"
    prefix = narrow(user, region)
    where, params = region_filter(user, "h.county_code", "h.hospital_id")
    rows = engine.query(
        f"""SELECT date_trunc('{grain}', v.day)::DATE AS t, {BY[by]} AS name, sum(v.visits)::DOUBLE AS n
            FROM mart_visits_daily v JOIN hospital h USING (hospital_id)
            WHERE {where} AND (? IS NULL OR starts_with(h.county_code, ?))
              AND (? IS NULL OR v.day >= ?) AND (? IS NULL OR v.day <= ?)
              AND (? IS NULL OR h.level_en = ?) AND (? IS NULL OR v.department = ?)
              AND (? IS NULL OR v.type = ?)
            GROUP BY 1, 2 ORDER BY 2, 1""",
        [*params, prefix, prefix, *([None] * 4 if public else [start, start, end, end]),
         level, level, department, department, type, type],
    )  # fmt: skip
    if public:
        rows = suppress_cells(rows, "name", "t", "n")
        if start is not None:
            monday = start - dt.timedelta(days=start.weekday())
            first = {"day": start, "week": monday, "month": start.replace(day=1)}[grain]
            rows = rows[rows["t"] >= pd.Timestamp(first)]
        if end is not None:
            rows = rows[rows["t"] <= pd.Timestamp(end)]
    series = [
        Series(name=str(name), points=list(zip(g["t"], g["n"], strict=True)))
        for name, g in rows.groupby("name", sort=True)
    ]
    return Trend(grain=grain, series=series)


class Facets(BaseModel):
    levels: list[str]
    departments: list[str]
    types: list[str]


@router.get(
    "/facets", response_model=Facets, dependencies=[requires("admin", "analyst", "hospital", "public")]
)
def facets(user: CurrentUser, engine: EngineDep) -> Facets:
    """The values the trend filters offer, within the user's scope."""
    where, params = region_filter(user, "h.county_code", "h.hospital_id")
    rows = engine.query(
        f"""SELECT DISTINCT h.level_en AS level, v.department, v.type
            FROM mart_visits_daily v JOIN hospital h USING (hospital_id) WHERE {where}""",
        params,
    )

    def values(column: str) -> list[str]:
        return sorted(str(v) for v in rows[column].dropna().unique())

    return Facets(levels=values("level"), departments=values("department"), types=values("type"))


class Heat(BaseModel):
    rows: list[str]
    columns: list[str]
    cells: list[tuple[int, int, float | None]]  # column index, row index, value (ECharts' order)


@router.get(
    "/heatmap", response_model=Heat, dependencies=[requires("admin", "analyst", "hospital", "public")]
)
def heatmap(
    user: CurrentUser,
    engine: EngineDep,
    kind: Literal["chapter_week", "department_hour"] = "chapter_week",
    region: str | None = None,
) -> Heat:
    """ICD-10 chapter × week of admission, or department × hour of day."""
    prefix = narrow(user, region)
    where, params = region_filter(user, "h.county_code", "h.hospital_id")
    if kind == "chapter_week":
        row, col, source = "m.chapter", "strftime(m.week, '%Y-%m-%d')", "mart_diagnosis_weekly"
    else:
        row, col, source = "m.department", "lpad(m.hour::VARCHAR, 2, '0')", "mart_visits_hourly"
    rows = engine.query(
        f"""SELECT {row} AS r, {col} AS c, sum(m.n)::DOUBLE AS n
            FROM {source} m JOIN hospital h USING (hospital_id)
            WHERE {where} AND (? IS NULL OR starts_with(h.county_code, ?))
            GROUP BY 1, 2""",
        [*params, prefix, prefix],
    )
    if user.role == "public":
        rows = suppress_cells(rows, "r", "c", "n")
    order = [c for c, _, _ in CHAPTERS] if kind == "chapter_week" else sorted(set(rows["r"].dropna()))
    row_names = [r for r in order if r in set(rows["r"])]
    col_names = sorted(set(rows["c"].dropna()))
    ri = {r: i for i, r in enumerate(row_names)}
    ci = {c: i for i, c in enumerate(col_names)}
    cells = [(ci[c], ri[r], n) for r, c, n in rows.itertuples(index=False) if r in ri and c in ci]
    return Heat(rows=row_names, columns=col_names, cells=cells)
