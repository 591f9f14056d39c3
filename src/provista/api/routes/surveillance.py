"""Public-health surveillance (传染病监测): incidence by county and week, epidemic curves, the disease ×
week heat map, patient flows, space-time clusters and transfer recommendations.

Cases are those counted in incidence (confirmed and clinically diagnosed), by onset date and county of
report. A city user sees their city's counties; transfers are for staff. The public role sees aggregates
with small cells suppressed (``provista.privacy.public``): the disease × week heat map and the flows as
two-way tables with complementary cells; the county × week incidence week by week as counties in cities
in the province, complements included, and the weekly curve of a city or county with the same weeks
hidden (the province's weekly curve is the published total); a daily curve only for the province, its
days protected against the weekly totals; the clusters with counts of 1–4 hidden.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from provista.analytics.epi.curves import epidemic_curve
from provista.analytics.epi.warehouse import INCIDENCE_CASE_CLASSES
from provista.analytics.surveillance import warehouse_inputs as inputs
from provista.api.cache import memo
from provista.api.deps import CurrentUser, EngineDep, narrow, region_filter, requires
from provista.api.routes.trends import Heat
from provista.api.state import Principal
from provista.engine import DuckDBEngine
from provista.errors import ProvistaError
from provista.privacy.public import (
    suppress_cells,
    suppress_county_weeks,
    suppress_series_with_sums,
    suppress_small,
)

router = APIRouter(prefix="/api/surveillance", tags=["surveillance"])
CLASSES = ", ".join(f"'{c}'" for c in INCIDENCE_CASE_CLASSES)
Start = Annotated[
    dt.date | None, Query(alias="from", description="first onset date (default: 104 weeks back)")
]
End = Annotated[
    dt.date | None, Query(alias="to", description="last onset date (default: the last on record)")
]
Disease = Annotated[
    str | None, Query(description="disease as reported (流行性感冒) or ICD-10 code; default all")
]


def _hide(user: Principal, count: float) -> float | None:
    """A count as the user may see it: the public role does not see 1–4."""
    return suppress_small([count])[0] if user.role == "public" else count


def _english_names() -> dict[str, str]:
    from provista.synth.diseases import DISEASES

    return {d.name_zh: d.name_en for d in DISEASES}


def _period(engine: DuckDBEngine, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    try:
        return inputs.study_period(engine, start, end)
    except ProvistaError as exc:
        raise HTTPException(422, str(exc)) from None


def _disease(engine: DuckDBEngine, disease: str | None) -> str | None:
    try:
        return inputs.resolve_disease(engine, disease)
    except ProvistaError as exc:
        raise HTTPException(422, str(exc)) from None


class Disease_(BaseModel):
    disease: str
    name_en: str
    disease_class: str | None
    cases: float | None


@router.get("/diseases", response_model=list[Disease_], dependencies=[requires("admin", "analyst", "public")])
def diseases(user: CurrentUser, engine: EngineDep) -> list[Disease_]:
    """The notifiable diseases reported, most cases first (cases in the user's region)."""
    where, params = region_filter(user, "county_code")
    rows = engine.query(
        f"""SELECT disease, any_value(disease_class) AS disease_class,
                   count(*) FILTER (WHERE {where} AND case_class IN ({CLASSES}))::DOUBLE AS cases
            FROM case_report WHERE disease IS NOT NULL GROUP BY 1 ORDER BY cases DESC, disease""",
        params,
    )
    english = _english_names()
    return [
        Disease_(disease=d, name_en=english.get(d, d), disease_class=k, cases=_hide(user, n))
        for d, k, n in rows.itertuples(index=False)
    ]


class County(BaseModel):
    code: str
    name_zh: str
    name_en: str
    population: float


class Incidence(BaseModel):
    disease: str | None
    weeks: list[dt.date]
    counties: list[County]
    cells: list[tuple[int, int, float | None, float | None]]  # county index, week index, cases, per 100,000
    max_rate: float


@router.get("/incidence", response_model=Incidence, dependencies=[requires("admin", "analyst", "public")])
def incidence(
    user: CurrentUser,
    engine: EngineDep,
    disease: Disease = None,
    start: Start = None,
    end: End = None,
    region: str | None = None,
) -> Incidence:
    """Weekly incidence per 100,000 by county (cases by onset week ÷ county population × 100,000)."""
    prefix = narrow(user, region)
    chosen = _disease(engine, disease)
    first, last = _period(engine, start, end)
    table = inputs.weekly_county_cases(engine, first, last, disease=chosen, prefix=prefix)
    regions = engine.query(
        "SELECT code, name_zh, name_en, population::DOUBLE AS population FROM region "
        "WHERE level = 'county' AND (? IS NULL OR starts_with(code, ?)) ORDER BY code",
        [prefix, prefix],
    )
    index = {c: i for i, c in enumerate(regions["code"])}
    population = dict(zip(regions["code"], regions["population"], strict=True))
    hidden = _public_hidden(engine, user, chosen, first, last)
    cells = []
    max_rate = 0.0
    for code, row in table.iterrows():
        pop = population.get(str(code)) or 0.0
        gone = hidden.get(str(code)) if hidden is not None else None
        for w, cases in enumerate(row.to_numpy()):
            if cases > 0 and pop > 0:
                shown = None if gone is not None and gone[w] else float(cases)
                rate = None if shown is None else float(cases) / pop * 1e5
                max_rate = max(max_rate, rate or 0.0)
                cells.append((index[str(code)], w, shown, rate))
    return Incidence(
        disease=chosen,
        weeks=[pd.Timestamp(w).date() for w in table.columns],
        counties=[County(**r) for r in regions.to_dict("records")],
        cells=cells,
        max_rate=max_rate,
    )


def _public_hidden(
    engine: DuckDBEngine, user: Principal, disease: str | None, first: dt.date, last: dt.date
) -> dict[str, Any] | None:
    """For the public role, the weeks to hide per county and per city (6-digit code → a boolean per
    week from ``first``'s Monday), protected over the whole province; None for every other role."""
    if user.role != "public":
        return None

    def compute() -> dict[str, Any]:
        table = inputs.weekly_county_cases(engine, first, last, disease=disease)
        counties, cities = suppress_county_weeks(table)
        return {**{str(c): counties[i] for i, c in enumerate(table.index)}, **cities}

    return memo(engine, ("public county weeks", disease, first, last), compute)


class Curve(BaseModel):
    disease: str | None
    interval: str
    points: list[tuple[dt.date, float | None]]


@router.get("/curve", response_model=Curve, dependencies=[requires("admin", "analyst", "public")])
def curve(
    user: CurrentUser,
    engine: EngineDep,
    disease: Disease = None,
    start: Start = None,
    end: End = None,
    region: str | None = None,
    interval: Literal["day", "week"] = "week",
) -> Curve:
    """The epidemic curve (流行曲线): cases by onset day or ISO week, zero-filled."""
    prefix = narrow(user, region)
    where, params = region_filter(user, "county_code")
    chosen = _disease(engine, disease)
    first, last = _period(engine, start, end)
    cases = engine.query(
        f"""SELECT onset_date FROM case_report
            WHERE {where} AND (? IS NULL OR starts_with(county_code, ?)) AND (? IS NULL OR disease = ?)
              AND onset_date BETWEEN ? AND ? AND case_class IN ({CLASSES})""",
        [*params, prefix, prefix, chosen, chosen, first, last],
    )
    frame = epidemic_curve(cases, interval=interval, start=first, end=last)
    days = [pd.Timestamp(p).date() for p in frame["period_start"]]
    counts: list[float | None] = [float(n) for n in frame["cases"]]
    if user.role == "public":
        counts = _public_curve(engine, user, counts, days, interval, prefix, chosen, first, last)
    return Curve(disease=chosen, interval=interval, points=list(zip(days, counts, strict=True)))


def _public_curve(
    engine: DuckDBEngine,
    user: Principal,
    counts: list[float | None],
    periods: list[dt.date],
    interval: str,
    prefix: str | None,
    disease: str | None,
    first: dt.date,
    last: dt.date,
) -> list[float | None]:
    """The curve as the public role sees it (see the module's docstring)."""
    province = prefix is None or len(prefix) <= 2
    if interval == "day":
        if not province:
            raise HTTPException(
                403, "daily curves are published for the province only: use interval=week for a region"
            )
        weeks: dict[dt.date, list[int]] = {}
        for i, day in enumerate(periods):
            weeks.setdefault(day - dt.timedelta(days=day.weekday()), []).append(i)
        shown, _ = suppress_series_with_sums(
            [c or 0.0 for c in counts], list(weeks.values()), sums_published=True
        )
        return shown
    if prefix is None or len(prefix) <= 2:  # the province
        return suppress_small(counts)
    hidden = _public_hidden(engine, user, disease, first, last) or {}
    gone = hidden.get(prefix if len(prefix) == 6 else prefix + "00")
    if gone is None:
        return suppress_small(counts)
    monday = first - dt.timedelta(days=first.weekday())
    return [
        None if gone[(p - monday).days // 7] else c
        for p, c in zip(periods, suppress_small(counts), strict=True)
    ]


@router.get("/heatmap", response_model=Heat, dependencies=[requires("admin", "analyst", "public")])
def heatmap(
    user: CurrentUser, engine: EngineDep, start: Start = None, end: End = None, region: str | None = None
) -> Heat:
    """Disease × onset week: cases (rows: diseases, most cases first; columns: ISO weeks)."""
    prefix = narrow(user, region)
    where, params = region_filter(user, "county_code")
    first, last = _period(engine, start, end)
    rows = engine.query(
        f"""SELECT disease, strftime(date_trunc('week', onset_date), '%Y-%m-%d') AS week,
                   count(*)::DOUBLE AS n
            FROM case_report
            WHERE {where} AND (? IS NULL OR starts_with(county_code, ?)) AND onset_date BETWEEN ? AND ?
              AND case_class IN ({CLASSES}) AND disease IS NOT NULL
            GROUP BY 1, 2""",
        [*params, prefix, prefix, first, last],
    )
    order = rows.groupby("disease")["n"].sum().sort_values(ascending=False).index.tolist()
    weeks = [d.strftime("%Y-%m-%d") for d in pd.date_range(first, last, freq="7D")]
    if user.role == "public":
        rows = suppress_cells(rows, "disease", "week", "n")
    ri = {r: i for i, r in enumerate(order)}
    ci = {c: i for i, c in enumerate(weeks)}
    cells: list[tuple[int, int, float | None]] = [
        (ci[week], ri[disease], None if pd.isna(n) else float(n))
        for disease, week, n in rows.itertuples(index=False)
        if week in ci
    ]
    return Heat(rows=order, columns=weeks, cells=cells)


class Flow(BaseModel):
    source: str  # residence
    source_zh: str
    source_en: str
    target: str  # where the treating hospital is
    target_zh: str
    target_en: str
    visits: float | None


@router.get(
    "/flows", response_model=list[Flow], dependencies=[requires("admin", "analyst", "hospital", "public")]
)
def flows(
    user: CurrentUser,
    engine: EngineDep,
    level: Literal["city", "county"] = "city",
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
    type: Annotated[str | None, Query(description="only this encounter type, e.g. inpatient")] = None,
    region: str | None = None,
) -> list[Flow]:
    """Patient flows (患者流向): visits by the patient's county (or city) of residence → that of the hospital.

    Counted on the hospitals in the user's scope; residence from the hospital's patient record.
    """
    prefix = narrow(user, region)
    where, params = region_filter(user, "h.county_code", "h.hospital_id")
    width = 4 if level == "city" else 6
    rows = engine.query(
        f"""SELECT rpad(substr(p.county_code, 1, {width}), 6, '0') AS source,
                   rpad(substr(h.county_code, 1, {width}), 6, '0') AS target, count(*)::DOUBLE AS n
            FROM encounter e JOIN patient_record p USING (hospital_id, patient_key)
            JOIN hospital h ON h.hospital_id = e.hospital_id
            WHERE {where} AND (? IS NULL OR starts_with(h.county_code, ?)) AND p.county_code IS NOT NULL
              AND (? IS NULL OR e.admit_ts >= ?) AND (? IS NULL OR e.admit_ts < ?::DATE + 1)
              AND (? IS NULL OR e.type = ?)
            GROUP BY 1, 2 ORDER BY n DESC""",
        [*params, prefix, prefix, start, start, end, end, type, type],
    )
    if user.role == "public":
        rows = suppress_cells(rows, "source", "target", "n").sort_values("n", ascending=False)
    names = engine.query("SELECT code, name_zh, name_en FROM region")
    label = {c: (zh, en) for c, zh, en in names.itertuples(index=False)}
    out = []
    for source, target, n in rows.itertuples(index=False):
        shown = None if pd.isna(n) else float(n)
        s, t = label.get(source, (source, source)), label.get(target, (target, target))
        out.append(Flow(source=source, source_zh=s[0], source_en=s[1], target=target, target_zh=t[0],
                        target_en=t[1], visits=shown))  # fmt: skip
    return out


class ClusterCounty(BaseModel):
    code: str
    name_zh: str
    name_en: str


class Cluster(BaseModel):
    rank: int
    centre: str
    lon: float
    lat: float
    counties: list[ClusterCounty]
    radius_km: float
    start: dt.date
    end: dt.date
    observed: float | None
    expected: float
    relative_risk: float
    llr: float
    p_value: float


class Clusters(BaseModel):
    model: str
    disease: str | None
    start: dt.date
    end: dt.date
    cases: float | None
    replicas: int
    clusters: list[Cluster]


_SCANS: dict[tuple[Any, ...], tuple[Any, dict[str, Any]]] = {}
_SCANS_LOCK = threading.Lock()


@router.get("/clusters", response_model=Clusters, dependencies=[requires("admin", "analyst", "public")])
def clusters(
    user: CurrentUser,
    engine: EngineDep,
    model: Literal["permutation", "poisson"] = "permutation",
    disease: Disease = None,
    start: Start = None,
    end: End = None,
    region: str | None = None,
    replicas: Annotated[int, Query(ge=19, le=9999)] = 999,
    max_weeks: Annotated[int, Query(ge=1, le=26)] = 4,
    prospective: bool = False,
) -> Clusters:
    """Space-time clusters (Kulldorff's scan statistic) over the counties in scope, most likely first."""
    from provista.analytics.surveillance.geography import centroids

    prefix = narrow(user, region)
    chosen = _disease(engine, disease)
    first, last = _period(engine, start, end)
    key = (str(engine.path), os.stat(engine.path).st_mtime_ns, model, chosen, first, last, prefix, replicas,
           max_weeks, prospective)  # fmt: skip
    with _SCANS_LOCK:
        cached = _SCANS.get(key)
    if cached is None:
        try:
            cached = inputs.scan_warehouse(
                engine,
                model=model,
                disease=chosen,
                start=first,
                end=last,
                prefix=prefix,
                replicas=replicas,
                max_periods=max_weeks,
                prospective=prospective,
            )
        except ProvistaError as exc:
            raise HTTPException(422, str(exc)) from None
        with _SCANS_LOCK:
            if len(_SCANS) > 32:
                _SCANS.clear()
            _SCANS[key] = cached
    result, meta = cached
    names = engine.query("SELECT code, name_zh, name_en FROM region WHERE level = 'county'")
    label = {c: (zh, en) for c, zh, en in names.itertuples(index=False)}
    place = centroids().set_index("code")
    out = [
        Cluster(
            rank=c.rank,
            centre=c.centre,
            lon=float(place.loc[c.centre, "lon"]),
            lat=float(place.loc[c.centre, "lat"]),
            counties=[ClusterCounty(code=m, name_zh=label[m][0], name_en=label[m][1]) for m in c.counties],
            radius_km=c.radius_km,
            start=c.start,
            end=c.end,
            observed=_hide(user, c.observed),
            expected=c.expected,
            relative_risk=c.relative_risk,
            llr=c.llr,
            p_value=c.p_value,
        )
        for c in result.clusters
    ]
    return Clusters(model=model, disease=meta["disease"], start=meta["from"], end=meta["to"],
                    cases=_hide(user, result.total_cases), replicas=replicas, clusters=out)  # fmt: skip


class Move(BaseModel):
    from_city: str
    to_city: str
    kind: str
    patients: int
    distance_km: float
    short: dict[str, float]
    spare: dict[str, float]
    reason_en: str
    reason_zh: str


class CityBalance(BaseModel):
    city: str
    name_zh: str
    name_en: str
    demand: dict[str, float]
    free: dict[str, float]
    short: dict[str, float]
    sent: int
    received: int
    unmet: dict[str, int]


class TransferPlanOut(BaseModel):
    message: str
    unmet: int
    patient_km: float
    moves: list[Move]
    cities: list[CityBalance]


@router.get("/transfers", response_model=TransferPlanOut, dependencies=[requires("admin", "analyst")])
def transfers(
    user: CurrentUser,
    engine: EngineDep,
    disease: Disease = None,
    horizon: Annotated[int, Query(ge=1, le=12)] = 2,
    admission_share: Annotated[float, Query(ge=0, le=1)] = 0.1,
    icu_share: Annotated[float, Query(ge=0, le=1)] = 0.1,
    ventilated_share: Annotated[float, Query(ge=0, le=1)] = 0.5,
    max_per_pair: Annotated[int, Query(ge=0)] = 50,
    max_km: Annotated[float, Query(gt=0)] = 300.0,
) -> TransferPlanOut:
    """Recommended patient transfers between cities for the forecast demand, each with its reasons.

    The plan is the province's; a city user sees the moves from or to their city and its own balance.
    """
    from provista.analytics.surveillance.transfers import KINDS, RESOURCES

    try:
        plan, cities = inputs.recommend_from_warehouse(
            engine,
            disease=_disease(engine, disease),
            horizon_weeks=horizon,
            admission_share=admission_share,
            icu_share=icu_share,
            ventilated_share=ventilated_share,
            max_per_pair=max_per_pair,
            max_km=max_km,
        )
    except ProvistaError as exc:
        raise HTTPException(422, str(exc)) from None
    prefix = user.region_prefix

    def mine(city: str) -> bool:
        return prefix is None or city.startswith(prefix[:4])

    names = {c: (zh, en) for c, zh, en in cities.itertuples(index=False)}
    moves = [Move(**m) for m in plan.moves.to_dict("records") if mine(m["from_city"]) or mine(m["to_city"])]
    balances = [
        CityBalance(
            city=r["city"],
            name_zh=names[r["city"]][0],
            name_en=names[r["city"]][1],
            demand={k: r[f"demand_{k}"] for k in KINDS},
            free={x: r[f"free_{x}"] for x in RESOURCES},
            short={x: r[f"short_{x}"] for x in RESOURCES},
            sent=r["sent"],
            received=r["received"],
            unmet={k: r[f"unmet_{k}"] for k in KINDS},
        )
        for r in plan.cities.to_dict("records")
        if mine(r["city"])
    ]
    return TransferPlanOut(message=plan.message, unmet=plan.unmet, patient_km=plan.patient_km, moves=moves,
                           cities=balances)  # fmt: skip
