"""Hospital operations: indicators by unit, peer ranking and trend, occupancy heat map, equipment, theatres.

The indicator definitions (analytics/operations/indicators.yaml) travel with the data, so the page labels
and formats each indicator as the CLI and the README do. A user's scope is resolved once per request to the
hospitals it covers (in SQL, by ``region_filter``); peers (hospitals of the same level) are compared across
the province, but only the in-scope hospitals' rows are returned — the others appear only inside the
peer median and quartiles.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from provista.analytics.operations import views
from provista.analytics.operations.definitions import Indicator, load_definitions
from provista.analytics.operations.indicators import indicator_table, peer_rank, peer_statistics
from provista.analytics.operations.measures import BY_KEYS, MEASURE_SOURCES
from provista.api.cache import memo
from provista.api.deps import CurrentUser, EngineDep, narrow, region_filter, requires
from provista.api.state import Principal
from provista.engine import DuckDBEngine
from provista.privacy.public import suppress_region_columns, suppress_small

router = APIRouter(prefix="/api/operations", tags=["operations"])
STAFF = ("admin", "analyst", "hospital")
From = Annotated[
    dt.date | None, Query(alias="from", description="first day (default: a year to the last census day)")
]
To = Annotated[dt.date | None, Query(alias="to", description="last day, included")]


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value


def _scope(
    engine: DuckDBEngine, user: Principal, region: str | None = None, level: str | None = None
) -> pd.DataFrame:
    """The hospitals the user may see (within ``region`` and of ``level`` when given)."""
    prefix = narrow(user, region)
    where, params = region_filter(user, "county_code", "hospital_id")
    return engine.query(
        f"""SELECT hospital_id, name_zh, name_en, level, level_en, city_code, county_code FROM hospital
            WHERE {where} AND (? IS NULL OR starts_with(county_code, ?)) AND (? IS NULL OR level_en = ?)
            ORDER BY hospital_id""",
        [*params, prefix, prefix, level, level],
    )


def _period(
    engine: DuckDBEngine, start: dt.date | None, end: dt.date | None, days: int
) -> tuple[dt.date, dt.date]:
    if start is not None and end is not None:
        if end < start:
            raise HTTPException(422, f"to={end} is before from={start}: swap the dates")
        return start, end
    default = views.default_period(engine, days)
    if default is None:
        raise HTTPException(404, "the warehouse has no bed census yet: run a build with hospital data")
    return start or (end or default[1]) - dt.timedelta(days=days - 1), end or default[1]


def _indicator(indicator_id: str) -> Indicator:
    ids = [i.id for i in load_definitions().indicators]
    if indicator_id not in ids:
        raise HTTPException(422, f"unknown indicator '{indicator_id}': use one of {', '.join(ids)}")
    return load_definitions().indicator(indicator_id)


def _hospital(scope: pd.DataFrame, hospital: str | None) -> pd.Series:
    if scope.empty:
        raise HTTPException(404, "no hospital in your scope")
    if hospital is None:
        return scope.iloc[0]
    match = scope[scope["hospital_id"] == hospital]
    if match.empty:
        raise HTTPException(403, f"hospital {hospital} is outside your scope, or does not exist")
    return match.iloc[0]


class IndicatorDefinition(BaseModel):
    id: str
    name_zh: str
    name_en: str
    formula_zh: str
    formula_en: str
    numerator: str
    denominator: str
    unit: str
    direction: str
    band: tuple[float, float] | None
    view: str


class MeasureDefinition(BaseModel):
    id: str
    name_zh: str
    name_en: str
    view: str
    description: str


class Definitions(BaseModel):
    indicators: list[IndicatorDefinition]
    measures: list[MeasureDefinition]


@router.get("/definitions", response_model=Definitions, dependencies=[requires(*STAFF, "public")])
def definitions() -> Definitions:
    """Every indicator's definition: names, formula, numerator, denominator, unit, better direction."""
    defs = load_definitions()
    return Definitions(
        indicators=[IndicatorDefinition.model_validate(i, from_attributes=True) for i in defs.indicators],
        measures=[MeasureDefinition.model_validate(m, from_attributes=True) for m in defs.measures],
    )


class UnitRow(BaseModel):
    key: str  # hospital id, "hospital_id/department", city or county code, or "province"
    hospital_id: str | None = None
    department: str | None = None
    code: str | None = None  # city or county code
    name_zh: str | None = None
    name_en: str | None = None
    level_en: str | None = None
    values: dict[str, float | None]
    measures: dict[str, float | None]


class IndicatorTable(BaseModel):
    by: str
    start: dt.date
    end: dt.date
    days: int
    rows: list[UnitRow]


@router.get("/indicators", response_model=IndicatorTable, dependencies=[requires(*STAFF, "public")])
def indicators(
    user: CurrentUser,
    engine: EngineDep,
    by: Literal["hospital", "department", "city", "county", "province"] = "hospital",
    region: str | None = None,
    start: From = None,
    end: To = None,
) -> IndicatorTable:
    """Every indicator (with numerators and denominators) per unit in the user's scope, for one period.

    The public role sees city, county and province aggregates only, with every count of people of 1–4
    hidden, the cells that would reveal it, and each indicator computed from a hidden count.
    """
    if user.role == "public" and by in ("hospital", "department"):
        raise HTTPException(403, "the public role sees city, county and province figures only: use by=city")
    if user.hospital is not None and by not in ("hospital", "department"):
        raise HTTPException(
            403, f"your account sees hospital {user.hospital} only: use by=hospital or department"
        )
    if user.region_prefix is not None and by == "province":
        raise HTTPException(403, f"your account sees region {user.scope_code} only: use by=city or county")
    first, last = _period(engine, start, end, 365)
    scope = _scope(engine, user, region)
    table = indicator_table(engine, by, first, last, hospitals=scope["hospital_id"].tolist())
    ids = [i.id for i in load_definitions().indicators]
    rows = []
    for r in table.to_dict("records"):
        key = "/".join(str(r[k]) for k in BY_KEYS[by]) or "province"
        code = r.get(f"{by}_code") if by in ("city", "county") else None
        rows.append(
            UnitRow(
                key=key,
                hospital_id=r.get("hospital_id"),
                department=r.get("department"),
                code=code,
                name_zh=_clean(r.get("name_zh")),
                name_en=_clean(r.get("name_en")),
                level_en=_clean(r.get("level_en")),
                values={i: _clean(r[i]) for i in ids},
                measures={m: _clean(r[m]) for m in MEASURE_SOURCES},
            )
        )
    if user.role == "public":
        rows = _public(engine, rows, first, last)
    days = int(table["days"].iloc[0]) if len(table) else 0
    return IndicatorTable(by=by, start=first, end=last, days=days, rows=rows)


def _public(engine: DuckDBEngine, rows: list[UnitRow], first: dt.date, last: dt.date) -> list[UnitRow]:
    """The rows with what the public role may not see set to None.

    Every count of people is protected over the whole province (cities and counties together, so that
    by=city, by=county and any region narrowing hide the same cells); the province row hides 1–4 only.
    """
    defs = load_definitions()
    people = [m.id for m in defs.measures if m.people]

    def compute() -> dict[str, set[str]]:
        frames = {
            by: indicator_table(engine, by, first, last).set_index(f"{by}_code") for by in ("city", "county")
        }
        return suppress_region_columns(frames["city"], frames["county"], people)

    hidden = memo(engine, ("public operations", first, last), compute)
    out = []
    for row in rows:
        if row.code is None:  # the province
            gone = {m for m in people if suppress_small([row.measures.get(m)]) == [None]}
        else:
            gone = {m for m in people if row.code in hidden[m]}
        measures = {m: None if m in gone else v for m, v in row.measures.items()}
        values = {
            i.id: None
            if measures.get(i.numerator) is None or measures.get(i.denominator) is None
            else row.values[i.id]
            for i in defs.indicators
        }
        out.append(row.model_copy(update={"measures": measures, "values": values}))
    return out


class HospitalItem(BaseModel):
    hospital_id: str
    name_zh: str
    name_en: str
    level_en: str | None


@router.get("/hospitals", response_model=list[HospitalItem], dependencies=[requires(*STAFF)])
def hospitals(user: CurrentUser, engine: EngineDep, level: str | None = None) -> list[HospitalItem]:
    """The hospitals in the user's scope (for the page's pickers)."""
    scope = _scope(engine, user, None, level)
    return [
        HospitalItem.model_validate({k: _clean(v) for k, v in r.items()}) for r in scope.to_dict("records")
    ]


class PeerBand(BaseModel):
    peers: int
    q1: float | None
    median: float | None
    q3: float | None


class Ranked(BaseModel):
    hospital_id: str
    name_zh: str
    name_en: str
    value: float | None
    numerator: float | None
    denominator: float | None
    rank: int | None
    peers: int


class Ranking(BaseModel):
    indicator: str
    level_en: str
    start: dt.date
    end: dt.date
    band: PeerBand
    rows: list[Ranked]


@router.get("/ranking", response_model=Ranking, dependencies=[requires(*STAFF)])
def ranking(
    user: CurrentUser,
    engine: EngineDep,
    indicator: str = "bed_occupancy_rate",
    level: Annotated[
        str | None, Query(description="peer level (level_en); default: tertiary or your own")
    ] = None,
    start: From = None,
    end: To = None,
) -> Ranking:
    """In-scope hospitals of one level, ranked among all the province's hospitals of that level (1: best)."""
    ind = _indicator(indicator)
    first, last = _period(engine, start, end, 365)
    if level is None:
        own = _scope(engine, user)
        level = str(own["level_en"].iloc[0]) if user.hospital is not None and len(own) else "tertiary"
    table = indicator_table(engine, "hospital", first, last)
    peers = table[table["level_en"] == level]
    ranked = peer_rank(peers, ind)
    stats = peer_statistics(peers, ind).to_dict("records")
    band = stats[0] if stats else {"peers": 0, "q1": None, "median": None, "q3": None}
    mine = ranked[ranked["hospital_id"].isin(_scope(engine, user, None, level)["hospital_id"])]
    mine = mine.sort_values(["rank", "hospital_id"], na_position="last")
    rows = [
        Ranked(
            hospital_id=r["hospital_id"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            value=_clean(r[ind.id]),
            numerator=_clean(r[ind.numerator]),
            denominator=_clean(r[ind.denominator]),
            rank=_clean(r["rank"]),
            peers=int(r["peers"]),
        )
        for r in mine.to_dict("records")
    ]
    return Ranking(
        indicator=ind.id,
        level_en=level,
        start=first,
        end=last,
        band=PeerBand(**{k: _clean(band[k]) for k in ("peers", "q1", "median", "q3")}),
        rows=rows,
    )


class TrendPoint(BaseModel):
    month: dt.date
    value: float | None
    numerator: float | None
    denominator: float | None
    peers: int
    q1: float | None
    median: float | None
    q3: float | None


class Trend(BaseModel):
    indicator: str
    hospital_id: str
    name_zh: str
    name_en: str
    level_en: str
    points: list[TrendPoint]


@router.get("/trend", response_model=Trend, dependencies=[requires(*STAFF)])
def trend(
    user: CurrentUser,
    engine: EngineDep,
    indicator: str = "bed_occupancy_rate",
    hospital: Annotated[str | None, Query(description="default: the first hospital in your scope")] = None,
    start: From = None,
    end: To = None,
) -> Trend:
    """One hospital's indicator by month, with the median and quartiles of its level's hospitals."""
    ind = _indicator(indicator)
    first, last = _period(engine, start, end, 365)
    unit = _hospital(_scope(engine, user), hospital)
    table = indicator_table(engine, "hospital", first, last, grain="month")
    peers = table[table["level_en"] == unit["level_en"]]
    band = peer_statistics(peers, ind).set_index("period")
    own = peers[peers["hospital_id"] == unit["hospital_id"]].set_index("period")
    points = [
        TrendPoint(
            month=month,
            value=_clean(own.loc[month, ind.id]) if month in own.index else None,
            numerator=_clean(own.loc[month, ind.numerator]) if month in own.index else None,
            denominator=_clean(own.loc[month, ind.denominator]) if month in own.index else None,
            peers=int(b["peers"]),
            q1=_clean(b["q1"]),
            median=_clean(b["median"]),
            q3=_clean(b["q3"]),
        )
        for month, b in band.iterrows()
    ]
    return Trend(
        indicator=ind.id,
        hospital_id=unit["hospital_id"],
        name_zh=unit["name_zh"],
        name_en=unit["name_en"],
        level_en=unit["level_en"],
        points=points,
    )


class Heat(BaseModel):
    rows: list[str]  # departments
    columns: list[dt.date]  # days
    cells: list[tuple[int, int, float | None]]  # column index, row index, occupancy % (ECharts' order)
    occupied: list[tuple[int, int, float]]  # the same cells' occupied and open beds
    open: list[tuple[int, int, float]]


@router.get("/occupancy", response_model=Heat, dependencies=[requires(*STAFF)])
def occupancy(
    user: CurrentUser,
    engine: EngineDep,
    hospital: Annotated[
        str | None, Query(description="one hospital; default: every hospital in scope")
    ] = None,
    region: str | None = None,
    start: From = None,
    end: To = None,
) -> Heat:
    """Bed occupancy (midnight census ÷ open beds, %) by department × day."""
    first, last = _period(engine, start, end, 28)
    scope = _scope(engine, user, region)
    ids = [str(_hospital(scope, hospital)["hospital_id"])] if hospital else scope["hospital_id"].tolist()
    frame = views.occupancy_heatmap(engine, ids, first, last)
    rows = sorted(frame["department"].dropna().unique().tolist())
    cols = sorted(frame["day"].unique().tolist())
    ri, ci = {r: i for i, r in enumerate(rows)}, {c: i for i, c in enumerate(cols)}
    frame = frame[frame["department"].isin(ri)]
    at = [(ci[d], ri[r]) for r, d in zip(frame["department"], frame["day"], strict=True)]
    return Heat(
        rows=rows,
        columns=cols,
        cells=[(c, r, _clean(v)) for (c, r), v in zip(at, frame["occupancy"], strict=True)],
        occupied=[(c, r, float(v)) for (c, r), v in zip(at, frame["occupied"], strict=True)],
        open=[(c, r, float(v)) for (c, r), v in zip(at, frame["open"], strict=True)],
    )


class Device(BaseModel):
    device_id: str  # the device, or its type when use is summed over a region
    device_type: str
    hospital_id: str | None
    devices: int
    hours_used: float
    hours_available: float
    utilisation: float | None
    exams: float
    positives: float
    positive_rate: float | None


@router.get("/equipment", response_model=list[Device], dependencies=[requires(*STAFF)])
def equipment(
    user: CurrentUser,
    engine: EngineDep,
    hospital: Annotated[
        str | None, Query(description="one hospital (per device); default: by device type")
    ] = None,
    region: str | None = None,
    start: From = None,
    end: To = None,
) -> list[Device]:
    """Large-equipment use per device of one hospital, or per device type over the hospitals in scope."""
    first, last = _period(engine, start, end, 28)
    scope = _scope(engine, user, region)
    ids = [str(_hospital(scope, hospital)["hospital_id"])] if hospital else scope["hospital_id"].tolist()
    frame = views.equipment_use(engine, ids, first, last, by_device=hospital is not None)
    return [Device.model_validate({k: _clean(v) for k, v in r.items()}) for r in frame.to_dict("records")]


class Operation(BaseModel):
    room: str
    operation_id: str | None
    code: str | None
    level: int | None
    start_ts: dt.datetime
    end_ts: dt.datetime
    minutes: float


class RoomUse(BaseModel):
    room: str
    minutes: float
    utilisation: float


class Theatre(BaseModel):
    hospital_id: str
    day: dt.date | None
    session_minutes: float
    operating_rooms: int
    utilisation: float | None  # Σ minutes ÷ (registered rooms × session minutes), %
    rooms: list[RoomUse]
    operations: list[Operation]


@router.get("/theatre", response_model=Theatre, dependencies=[requires(*STAFF)])
def theatre(
    user: CurrentUser,
    engine: EngineDep,
    hospital: Annotated[str | None, Query(description="default: the first hospital in your scope")] = None,
    day: Annotated[
        dt.date | None, Query(description="default: the hospital's last day with operations")
    ] = None,
    region: str | None = None,
) -> Theatre:
    """One hospital's operating rooms over one day (Gantt data: room × time of day) with utilisation."""
    unit = _hospital(_scope(engine, user, region), hospital)
    hid = str(unit["hospital_id"])
    day = day or views.last_operating_day(engine, hid)
    if day is None:
        session = load_definitions().parameters.get("or_session_minutes", 480.0)
        return Theatre(hospital_id=hid, day=None, session_minutes=session, operating_rooms=0,
                       utilisation=None, rooms=[], operations=[])  # fmt: skip
    data = views.theatre_schedule(engine, hid, day)
    return Theatre(
        hospital_id=hid,
        day=data["day"],
        session_minutes=data["session_minutes"],
        operating_rooms=data["operating_rooms"],
        utilisation=data["utilisation"],
        rooms=[RoomUse(**r) for r in data["rooms"]],
        operations=[
            Operation.model_validate({k: _clean(v) for k, v in op.items()}) for op in data["operations"]
        ],
    )
