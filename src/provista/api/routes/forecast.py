"""Bed-demand forecast (床位需求预测): one hospital's (or department's) forecast with its intervals and recent
census, and the rolling-origin backtest of that series against the seasonal-naive baseline.

Hospital-level data: staff roles only. The user's scope is resolved in SQL to the hospitals it covers
(``region_filter``); a hospital outside it is refused (403) before any census is read.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from provista.analytics.forecast.backtest import backtest as run_backtest
from provista.analytics.forecast.backtest import origin_dates, statements, summarise, verdicts
from provista.analytics.forecast.models import BASELINE, DEFAULT_MODEL, MODELS, ForecastError, model
from provista.analytics.forecast.series import (
    CensusSeries,
    census_series,
    history_points,
    last_census_day,
    read_census,
)
from provista.api.deps import CurrentUser, EngineDep, region_filter, requires
from provista.api.state import Principal
from provista.engine import DuckDBEngine

router = APIRouter(prefix="/api/forecast", tags=["forecast"])
STAFF = ("admin", "analyst", "hospital")
HospitalQuery = Annotated[str | None, Query(description="hospital id (default: the first in your scope)")]
DepartmentQuery = Annotated[str | None, Query(description="department code (default: the hospital's total)")]


def _scope(engine: DuckDBEngine, user: Principal) -> pd.DataFrame:
    """The hospitals the user may see."""
    where, params = region_filter(user, "county_code", "hospital_id")
    return engine.query(
        f"SELECT hospital_id, name_zh, name_en, level_en FROM hospital WHERE {where} ORDER BY hospital_id",
        params,
    )


def _hospital_id(engine: DuckDBEngine, user: Principal, hospital: str | None) -> str:
    scope = _scope(engine, user)
    if scope.empty:
        raise HTTPException(404, "no hospital in your scope")
    if hospital is None:
        return str(scope.iloc[0]["hospital_id"])
    if hospital not in set(scope["hospital_id"]):
        raise HTTPException(403, f"hospital {hospital} is outside your scope, or does not exist")
    return hospital


def _series(engine: DuckDBEngine, hospital_id: str, department: str | None) -> CensusSeries:
    """The hospital's total (``department`` None) or one of its departments, to the last census day."""
    census = read_census(engine, [hospital_id])
    found = census_series(census, departments=department is not None, end=last_census_day(engine))
    for s in found:
        if s.department == department:
            return s
    what = f"department {department} of hospital {hospital_id}" if department else f"hospital {hospital_id}"
    raise HTTPException(404, f"no recent bed census for {what}")


class Unit(BaseModel):
    hospital_id: str
    name_zh: str | None
    name_en: str | None
    level_en: str | None
    departments: list[str]


class Units(BaseModel):
    last_census: dt.date | None
    hospitals: list[Unit]


@router.get("/units", response_model=Units, dependencies=[requires(*STAFF)])
def units(user: CurrentUser, engine: EngineDep) -> Units:
    """The hospitals in the user's scope, with the departments that have a census (the page's pickers)."""
    scope = _scope(engine, user)
    rows = engine.query(
        """SELECT DISTINCT hospital_id, department FROM bed_census
           WHERE list_contains(?::VARCHAR[], hospital_id)""",
        [scope["hospital_id"].tolist()],
    )
    departments = rows.groupby("hospital_id")["department"].agg(lambda d: sorted(map(str, d))).to_dict()
    hospitals = [
        Unit(
            hospital_id=r.hospital_id,
            name_zh=r.name_zh,
            name_en=r.name_en,
            level_en=r.level_en,
            departments=departments[r.hospital_id],
        )
        for r in scope.itertuples(index=False)
        if r.hospital_id in departments
    ]
    return Units(last_census=last_census_day(engine), hospitals=hospitals)


class HistoryPoint(BaseModel):
    date: dt.date
    occupied: float | None  # None: unknown (no census, and not a short gap)
    filled: bool  # True: a short gap filled by a straight line (series.py), not a census received


class ForecastPoint(BaseModel):
    date: dt.date
    horizon: int
    point: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


class SeriesForecast(BaseModel):
    hospital_id: str
    department: str | None
    model: str
    model_title: str
    last_census: dt.date
    open_beds: int
    history: list[HistoryPoint]
    forecast: list[ForecastPoint]


@router.get("/series", response_model=SeriesForecast, dependencies=[requires(*STAFF)])
def series(
    user: CurrentUser,
    engine: EngineDep,
    hospital: HospitalQuery = None,
    department: DepartmentQuery = None,
    horizon: Annotated[int, Query(ge=1, le=28, description="days ahead")] = 14,
    history: Annotated[int, Query(ge=7, le=366, description="days of census before the forecast")] = 56,
    model_name: Annotated[Literal["arx", "snaive", "ets"], Query(alias="model")] = "arx",
) -> SeriesForecast:
    """Occupied beds for the ``horizon`` days after the last census day, with 80 % and 95 % intervals."""
    s = _series(engine, _hospital_id(engine, user, hospital), department)
    try:
        table = model(model_name).fit(s.occupied).forecast(horizon).frame()
    except ForecastError as exc:
        raise HTTPException(422, exc.message) from None
    return SeriesForecast(
        hospital_id=s.hospital_id,
        department=s.department,
        model=model_name,
        model_title=MODELS[model_name].title,
        last_census=s.occupied.index[-1].date(),
        open_beds=s.open_beds,
        history=[HistoryPoint(**p) for p in history_points(s, history)],
        forecast=[ForecastPoint(**r) for r in table.to_dict("records")],
    )


class BacktestRow(BaseModel):
    bucket: str
    model: str
    n: int
    mae: float
    baseline_mae: float
    ratio: float | None  # model MAE ÷ baseline MAE; None when the baseline's is 0
    coverage80: float
    coverage95: float


class Verdict(BaseModel):
    bucket: str
    model: str
    mae: float
    baseline_mae: float
    beats: bool


class BacktestSummary(BaseModel):
    hospital_id: str
    department: str | None
    model: str
    baseline: str
    origins: list[dt.date]
    horizon: int
    rows: list[BacktestRow]
    verdicts: list[Verdict]
    statements: list[str]


@router.get("/backtest", response_model=BacktestSummary, dependencies=[requires(*STAFF)])
def backtest(
    user: CurrentUser,
    engine: EngineDep,
    hospital: HospitalQuery = None,
    department: DepartmentQuery = None,
    origins: Annotated[int, Query(ge=1, le=26, description="origins, a week apart")] = 8,
    horizon: Annotated[int, Query(ge=1, le=28, description="days ahead scored")] = 28,
) -> BacktestSummary:
    """The series' rolling-origin backtest: MAE per horizon bucket and interval coverage of the model and of
    the seasonal-naive baseline, and whether the model beats the baseline in each bucket."""
    s = _series(engine, _hospital_id(engine, user, hospital), department)
    try:
        errors = run_backtest([s], models=[DEFAULT_MODEL], origins=origins, horizon=horizon)
    except ForecastError as exc:
        raise HTTPException(422, f"{exc.message}: {exc.hint}" if exc.hint else exc.message) from None
    summary = summarise(errors, horizon)
    return BacktestSummary(
        hospital_id=s.hospital_id,
        department=s.department,
        model=DEFAULT_MODEL,
        baseline=BASELINE,
        origins=[o.date() for o in origin_dates(s.occupied.index[-1], origins, horizon)],
        horizon=horizon,
        rows=[
            BacktestRow.model_validate({**r, "ratio": r["ratio"] if r["baseline_mae"] > 0 else None})
            for r in summary.to_dict("records")
        ],
        verdicts=[
            Verdict(bucket=v.bucket, model=v.model, mae=v.mae, baseline_mae=v.baseline_mae, beats=v.beats)
            for v in verdicts(summary)
        ],
        statements=statements(summary),
    )
