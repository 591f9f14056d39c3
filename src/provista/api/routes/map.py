"""The map: boundaries, a metric per city or county, and hospitals as points."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from provista.api.deps import CurrentUser, EngineDep, check_region, narrow, region_filter, requires
from provista.privacy.public import suppress_parts, suppress_region_values

router = APIRouter(prefix="/api/map", tags=["map"])
# Codes of the 2016 boundary file → today's codes (the regions' names do not change).
CROSSWALK = {"330185": "330112", "330283": "330213", "331021": "331083"}
Metric = Literal["visits_per_10k", "admissions", "bed_occupancy", "incidence"]


@cache
def _geojson(name: str) -> dict[str, Any]:
    text = resources.files("provista.web").joinpath(f"geo/{name}.geojson").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    for f in data["features"]:
        code = str(f["properties"]["adcode"])
        f["properties"]["adcode"] = CROSSWALK.get(code, code)
        f["id"] = f["properties"]["adcode"]
    return data


@router.get("/boundaries", dependencies=[requires("admin", "analyst", "hospital", "public")])
def boundaries(
    user: CurrentUser, level: Literal["city", "county"] = "city", parent: str | None = None
) -> dict[str, Any]:
    """GeoJSON of the province's cities, or of one city's counties (``parent``: the city code)."""
    if level == "city":
        return _geojson("zhejiang_cities")
    if parent is None or len(parent) != 6:
        raise HTTPException(422, "give the city's 6-digit code as parent, e.g. parent=330100")
    check_region(user, parent)
    data = _geojson("zhejiang_counties")
    return {
        "type": "FeatureCollection",
        "features": [f for f in data["features"] if f["properties"]["adcode"][:4] == parent[:4]],
    }


class RegionValue(BaseModel):
    code: str
    name_zh: str
    name_en: str
    value: float | None
    numerator: float | None  # None (with value): a small count hidden for the public role
    denominator: float


def _period(engine: EngineDep, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    if start and end:
        return start, end
    last = engine.query("SELECT max(day)::DATE AS d FROM mart_visits_daily").loc[0, "d"]
    end = end or last or dt.date.today()
    return start or end - dt.timedelta(days=364), end


@router.get(
    "/metric",
    response_model=list[RegionValue],
    dependencies=[requires("admin", "analyst", "hospital", "public")],
)
def metric(
    user: CurrentUser,
    engine: EngineDep,
    metric: Metric = "visits_per_10k",
    level: Literal["city", "county"] = "city",
    parent: Annotated[str | None, Query(description="city code when level=county")] = None,
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
) -> list[RegionValue]:
    """One value per city (or per county of ``parent``) for the period; scoped to the user's region.

    For the public role the counts (visits, admissions, cases) are protected as one province → city
    → county hierarchy: a small count, and the complements that would reveal it, come back as None.
    """
    values = _region_values(user, engine, metric, level, parent, start, end)
    if user.role != "public" or metric == "bed_occupancy":
        return values
    cities = values if level == "city" else _region_values(user, engine, metric, "city", None, start, end)
    counties = (
        values if level == "county" and parent is None
        else _region_values(user, engine, metric, "county", None, start, end)
    )  # fmt: skip
    hidden_counties, hidden_cities = suppress_region_values(
        {v.code: v.numerator or 0.0 for v in cities}, {v.code: v.numerator or 0.0 for v in counties}
    )
    hidden = hidden_cities if level == "city" else hidden_counties
    blank = {"value": None, "numerator": None}
    return [v.model_copy(update=blank) if v.code in hidden else v for v in values]


def _region_values(
    user: CurrentUser,
    engine: EngineDep,
    metric: Metric,
    level: Literal["city", "county"],
    parent: str | None,
    start: dt.date | None,
    end: dt.date | None,
) -> list[RegionValue]:
    prefix = narrow(user, parent)
    start, end = _period(engine, start, end)
    width = 4 if level == "city" else 6
    key = f"rpad(substr(%s, 1, {width}), 6, '0')"
    where_h, ph = region_filter(user, "h.county_code", "h.hospital_id")

    def scope(column: str) -> str:
        return f"starts_with({column}, ?)" if prefix else "TRUE"

    sp = [prefix] if prefix else []
    if metric in ("visits_per_10k", "admissions"):
        kind = "" if metric == "visits_per_10k" else "AND v.type = 'inpatient'"
        num = engine.query(
            f"""SELECT {key % "h.county_code"} AS code, sum(v.visits)::DOUBLE AS n FROM mart_visits_daily v
                JOIN hospital h USING (hospital_id)
                WHERE {where_h} AND {scope("h.county_code")} AND v.day BETWEEN ? AND ? {kind} GROUP BY 1""",
            [*ph, *sp, start, end],
        )
    elif metric == "bed_occupancy":
        num = engine.query(
            f"""SELECT {key % "h.county_code"} AS code, sum(b.occupied_beds)::DOUBLE AS n,
                       sum(b.open_beds)::DOUBLE AS d FROM bed_census b JOIN hospital h USING (hospital_id)
                WHERE {where_h} AND {scope("h.county_code")} AND b.date BETWEEN ? AND ? GROUP BY 1""",
            [*ph, *sp, start, end],
        )
    else:
        where_c, pc = region_filter(user, "county_code")
        num = engine.query(
            f"""SELECT {key % "county_code"} AS code, sum(cases)::DOUBLE AS n FROM mart_cases_weekly
                WHERE {where_c} AND {scope("county_code")} AND week BETWEEN ? AND ? GROUP BY 1""",
            [*pc, *sp, start, end],
        )
    level_name = "prefecture" if level == "city" else "county"
    regions = engine.query(
        f"SELECT code, name_zh, name_en, population FROM region WHERE level = ? AND {scope('code')}",
        [level_name, *sp],
    )
    values = {r["code"]: r for r in num.to_dict("records")}
    scale = {"visits_per_10k": 1e4, "incidence": 1e5, "admissions": None, "bed_occupancy": None}[metric]
    out = []
    for r in regions.to_dict("records"):
        got = values.get(r["code"], {})
        n = float(got.get("n") or 0.0)
        if metric == "bed_occupancy":
            d = float(got.get("d") or 0.0)
            value = n / d if d else None
        elif scale is None:
            d, value = 1.0, n
        else:
            d = float(r["population"] or 0)
            value = n / d * scale if d else None
        out.append(
            RegionValue(
                code=r["code"],
                name_zh=r["name_zh"],
                name_en=r["name_en"],
                value=value,
                numerator=n,
                denominator=d,
            )
        )
    return out


class HospitalPoint(BaseModel):
    hospital_id: str
    name_zh: str
    name_en: str
    level: str
    level_en: str
    beds_open: int
    county_code: str
    lon: float
    lat: float
    visits: float | None  # None: a small count hidden for the public role


@router.get(
    "/hospitals",
    response_model=list[HospitalPoint],
    dependencies=[requires("admin", "analyst", "hospital", "public")],
)
def hospitals(user: CurrentUser, engine: EngineDep, county: str) -> list[HospitalPoint]:
    """A county's hospitals as points (placed around the county's label point: sources give no address)."""
    check_region(user, county)
    where_h, ph = region_filter(user, "h.county_code", "h.hospital_id")
    rows = engine.query(
        f"""SELECT h.hospital_id, h.name_zh, h.name_en, h.level, h.level_en, h.beds_open, h.county_code,
                   coalesce(sum(v.visits), 0)::DOUBLE AS visits
            FROM hospital h LEFT JOIN mart_visits_daily v USING (hospital_id)
            WHERE {where_h} AND h.county_code = ? GROUP BY ALL ORDER BY h.hospital_id""",
        [*ph, county],
    )
    centre = {f["id"]: f["properties"].get("cp") for f in _geojson("zhejiang_counties")["features"]}
    lon, lat = centre.get(county) or [120.15, 30.28]
    out = []
    for r in rows.to_dict("records"):
        h = hashlib.sha256(r["hospital_id"].encode()).digest()
        dx, dy = (h[0] - 128) / 128 * 0.08, (h[1] - 128) / 128 * 0.06
        out.append(HospitalPoint(**r, lon=lon + dx, lat=lat + dy))
    if user.role == "public":  # the county's total is shown on the map: protect the hospitals within it
        hide = suppress_parts([p.visits or 0.0 for p in out])
        out = [p.model_copy(update={"visits": None}) if h else p for p, h in zip(out, hide, strict=True)]
    return out
