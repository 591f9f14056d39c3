"""The alert inbox (预警信息): every build's alerts, newest first, with the state people gave them.

Alerts come from the warehouse's ``alert`` table (outbreak signals and operational rules); status,
assignee, notes and history from the app-state database (``provista.api.inbox``). Staff see the alerts of
their region (a hospital account: its hospital's); only admins and analysts change them, and every change
is also written to the audit log (``alert.change``). One alert comes with its series and the detector's
threshold around the signal, recomputed from ``case_report``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from provista.analytics.surveillance.outbreak_alerts import detection_config, disease_names_en, signal_series
from provista.api import audit, inbox
from provista.api.deps import CurrentUser, EngineDep, StateDep, narrow, region_filter, requires
from provista.api.state import Principal
from provista.engine import DuckDBEngine
from provista.errors import ProvistaError

router = APIRouter(prefix="/api/alerts", tags=["alerts"])
STAFF = ("admin", "analyst", "hospital")
EDITORS = ("admin", "analyst")
Status = Literal["new", "investigating", "confirmed", "dismissed"]
SEVERITY_ORDER = "CASE a.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END"
FROM = """FROM alert a LEFT JOIN hospital h ON h.hospital_id = a.hospital_id
          LEFT JOIN region r ON r.code = coalesce(a.county_code, h.county_code)"""
COLUMNS = """a.alert_id, a.source, a.rule, a.city_code, coalesce(a.county_code, h.county_code) AS county_code,
             a.hospital_id, a.subject, a.frequency, a.period_start, a.period_end, a.observed, a.threshold,
             a.severity, a.detail_zh, a.detail_en, r.name_zh AS county_name_zh, r.name_en AS county_name_en,
             h.name_zh AS hospital_name_zh, h.name_en AS hospital_name_en"""


class AlertItem(BaseModel):
    alert_id: str
    source: str
    rule: str
    city_code: str | None
    county_code: str | None
    hospital_id: str | None
    subject: str
    subject_en: str | None = None
    frequency: str | None
    period_start: dt.date
    period_end: dt.date
    observed: float | None
    threshold: float | None
    severity: str
    detail_zh: str | None
    detail_en: str | None
    county_name_zh: str | None
    county_name_en: str | None
    hospital_name_zh: str | None
    hospital_name_en: str | None
    status: Status = "new"
    assignee: str | None = None
    updated_at: dt.datetime | None = None
    updated_by: str | None = None


class AlertPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[AlertItem]


class Region(BaseModel):
    code: str
    name_zh: str | None
    name_en: str | None


class Subject(BaseModel):
    code: str
    name_en: str | None


class Facets(BaseModel):
    sources: list[str]
    rules: list[str]
    frequencies: list[str]
    severities: list[str]
    statuses: list[str]
    subjects: list[Subject]
    cities: list[Region]
    counties: list[Region]


class Point(BaseModel):
    date: dt.date
    count: float
    value: float  # what the threshold is compared with (mpm: the cases in the 7-day window)
    threshold: float | None
    alarm: bool  # the detector's alarm
    raised: bool  # an alarm with enough cases to become an alert (min_count)


class SignalSeries(BaseModel):
    method: str
    frequency: str
    value: Literal["count", "window"]
    points: list[Point]


class Event(BaseModel):
    at: dt.datetime
    username: str
    kind: str
    from_value: str | None
    to_value: str | None
    note: str | None


class InboxState(BaseModel):
    alert_id: str
    status: Status
    assignee: str | None
    updated_at: dt.datetime | None
    updated_by: str | None
    transitions: list[str]  # where the status may go next
    history: list[Event]


class AlertDetail(BaseModel):
    alert: AlertItem
    inbox: InboxState
    series: SignalSeries | None


class Change(BaseModel):
    status: Status | None = None
    assignee: str | None = Field(None, max_length=64, description="a username; see unassign to clear")
    unassign: bool = False
    note: str | None = Field(None, max_length=4000)


class Note(BaseModel):
    note: str = Field(min_length=1, max_length=4000)


class ActiveCount(BaseModel):
    active: int  # new + investigating, in the user's scope
    new: int
    investigating: int
    recent: int  # of them, signals that began in the last ``recent_days`` days of the data
    recent_days: int
    as_of: dt.date | None  # the last day any alert covers


def _clean(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value.item() if hasattr(value, "item") else value


def _has_alerts(engine: DuckDBEngine) -> bool:
    # information_schema lists views too: a Spark-built warehouse is served as views over Parquet
    sql = "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'alert'"
    return bool(engine.query(sql).loc[0, "n"])


def _scope(user: Principal, region: str | None) -> tuple[str, list[Any]]:
    """The user's rows, narrowed to ``region`` (403 outside the scope)."""
    prefix = narrow(user, region)
    where, params = region_filter(user, "coalesce(a.county_code, h.county_code)", "a.hospital_id")
    return f"{where} AND (?::VARCHAR IS NULL OR starts_with(coalesce(a.county_code, h.county_code), ?))", [
        *params,
        prefix,
        prefix,
    ]


def _items(state: StateDep, frame: pd.DataFrame) -> list[AlertItem]:
    states = inbox.states(state.engine, frame["alert_id"].tolist())
    names = disease_names_en()
    items = []
    for row in frame.to_dict("records"):
        s = states.get(row["alert_id"], inbox.NEW)
        values = {k: _clean(v) for k, v in row.items()}
        items.append(
            AlertItem(
                **values,
                subject_en=names.get(values["subject"]),
                status=s.status,  # type: ignore[arg-type]
                assignee=s.assignee,
                updated_at=s.updated_at,
                updated_by=s.updated_by,
            )
        )
    return items


@router.get("", response_model=AlertPage, dependencies=[requires(*STAFF)])
def list_alerts(
    user: CurrentUser,
    engine: EngineDep,
    state: StateDep,
    source: str | None = None,
    status: Status | None = None,
    region: Annotated[str | None, Query(description="a city or county code inside your scope")] = None,
    disease: Annotated[
        str | None, Query(description="the alert's subject (a disease for surveillance)")
    ] = None,
    rule: str | None = None,
    frequency: str | None = None,
    severity: str | None = None,
    assignee: str | None = None,
    start: Annotated[dt.date | None, Query(alias="from", description="signals that end on or after")] = None,
    end: Annotated[dt.date | None, Query(alias="to", description="signals that begin on or before")] = None,
    page: Annotated[int, Query(ge=1, le=2**50)] = 1,  # (page - 1) × page_size stays a 64-bit offset
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AlertPage:
    """Alerts in scope, newest first (then critical before warning), filtered and paged."""
    if not _has_alerts(engine):
        return AlertPage(total=0, page=page, page_size=page_size, items=[])
    where, params = _scope(user, region)
    filters = {"a.source": source, "a.subject": disease, "a.rule": rule, "a.frequency": frequency,
               "a.severity": severity}  # fmt: skip
    for column, value in filters.items():
        where += f" AND (?::VARCHAR IS NULL OR {column} = ?)"
        params += [value, value]
    where += " AND (?::DATE IS NULL OR a.period_end >= ?) AND (?::DATE IS NULL OR a.period_start <= ?)"
    params += [start, start, end, end]
    if status is not None:  # an alert without a state row is new; a state row never returns to new
        ids = inbox.ids_where(state.engine, status=status)
        where += f" AND {'NOT ' if status == 'new' else ''}list_contains(?::VARCHAR[], a.alert_id)"
        params.append(ids)
    if assignee is not None:
        where += " AND list_contains(?::VARCHAR[], a.alert_id)"
        params.append(inbox.ids_where(state.engine, assignee=assignee))
    total = int(engine.query(f"SELECT count(*) AS n {FROM} WHERE {where}", params).loc[0, "n"])
    frame = engine.query(
        f"""SELECT {COLUMNS} {FROM} WHERE {where}
            ORDER BY a.period_start DESC, {SEVERITY_ORDER}, a.period_end DESC, a.alert_id
            LIMIT ? OFFSET ?""",
        [*params, page_size, (page - 1) * page_size],
    )
    return AlertPage(total=total, page=page, page_size=page_size, items=_items(state, frame))


@router.get("/facets", response_model=Facets, dependencies=[requires(*STAFF)])
def facets(user: CurrentUser, engine: EngineDep) -> Facets:
    """What the inbox's filters can choose from, in the user's scope."""
    empty = Facets(sources=[], rules=[], frequencies=[], severities=[], statuses=list(inbox.STATUSES),
                   subjects=[], cities=[], counties=[])  # fmt: skip
    if not _has_alerts(engine):
        return empty
    where, params = _scope(user, None)

    def distinct(column: str) -> list[str]:
        frame = engine.query(
            f"SELECT DISTINCT {column} AS v {FROM} WHERE {where} AND {column} IS NOT NULL ORDER BY 1", params
        )
        return [str(v) for v in frame["v"]]

    places = engine.query(
        f"""SELECT DISTINCT r.code, r.name_zh, r.name_en, c.code AS city, c.name_zh AS city_zh,
                   c.name_en AS city_en
            {FROM} LEFT JOIN region c ON c.code = r.parent_code WHERE {where} AND r.code IS NOT NULL
            ORDER BY r.code""",
        params,
    )
    names = disease_names_en()
    cities = places.drop_duplicates("city").dropna(subset=["city"])
    return Facets(
        sources=distinct("a.source"),
        rules=distinct("a.rule"),
        frequencies=distinct("a.frequency"),
        severities=distinct("a.severity"),
        statuses=list(inbox.STATUSES),
        subjects=[Subject(code=s, name_en=names.get(s)) for s in distinct("a.subject")],
        cities=[Region(code=c.city, name_zh=c.city_zh, name_en=c.city_en) for c in cities.itertuples()],
        counties=[Region(code=c.code, name_zh=c.name_zh, name_en=c.name_en) for c in places.itertuples()],
    )


@router.get("/count", response_model=ActiveCount, dependencies=[requires(*STAFF)])
def active_count(
    user: CurrentUser,
    engine: EngineDep,
    state: StateDep,
    recent_days: Annotated[int, Query(ge=1, le=366)] = 28,
) -> ActiveCount:
    """Active alerts (new + investigating) in the user's scope, for the overview's KPI card."""
    if not _has_alerts(engine):
        return ActiveCount(active=0, new=0, investigating=0, recent=0, recent_days=recent_days, as_of=None)
    where, params = _scope(user, None)
    closed = inbox.ids_where(state.engine, status="confirmed") + inbox.ids_where(
        state.engine, status="dismissed"
    )
    investigating = inbox.ids_where(state.engine, status="investigating")
    as_of = _clean(engine.query("SELECT max(period_end) AS d FROM alert").loc[0, "d"])
    row = engine.query(
        f"""SELECT count(*) AS active,
                   count(*) FILTER (WHERE list_contains(?::VARCHAR[], a.alert_id)) AS investigating,
                   count(*) FILTER (WHERE a.period_start > ?::DATE - ?::INTEGER) AS recent
            {FROM} WHERE {where} AND NOT list_contains(?::VARCHAR[], a.alert_id)""",
        [investigating, as_of, recent_days, *params, closed],
    ).iloc[0]
    active, busy = int(row["active"]), int(row["investigating"])
    return ActiveCount(
        active=active,
        new=active - busy,
        investigating=busy,
        recent=int(row["recent"]),
        recent_days=recent_days,
        as_of=as_of,
    )


def _one(engine: DuckDBEngine, user: Principal, alert_id: str) -> AlertItem:
    """The alert if it exists and lies in the user's scope (404 otherwise: no hint of others' alerts)."""
    if _has_alerts(engine):
        where, params = _scope(user, None)
        frame = engine.query(f"SELECT {COLUMNS} {FROM} WHERE {where} AND a.alert_id = ?", [*params, alert_id])
        if len(frame):
            row = {k: _clean(v) for k, v in frame.iloc[0].items()}
            return AlertItem(**row, subject_en=disease_names_en().get(row["subject"]))
    raise HTTPException(404, f"no alert {alert_id} in your scope")


def _inbox_state(state: StateDep, alert_id: str) -> InboxState:
    s = inbox.states(state.engine, [alert_id]).get(alert_id, inbox.NEW)
    return InboxState(
        alert_id=alert_id,
        status=s.status,  # type: ignore[arg-type]
        assignee=s.assignee,
        updated_at=s.updated_at,
        updated_by=s.updated_by,
        transitions=list(inbox.TRANSITIONS[s.status]),
        history=[Event(**vars(e)) for e in inbox.history(state.engine, alert_id)],
    )


def _series(engine: DuckDBEngine, alert: AlertItem) -> SignalSeries | None:
    if alert.source != "surveillance" or alert.county_code is None or alert.frequency is None:
        return None
    try:
        frame = signal_series(
            engine,
            detection_config(),
            method=alert.rule,
            frequency=alert.frequency,
            county=alert.county_code,
            disease=alert.subject,
            start=alert.period_start,
            end=alert.period_end,
        )
    except ProvistaError:
        return None
    if frame is None:
        return None
    points = [Point(**{k: _clean(v) for k, v in row.items()}) for row in frame.to_dict("records")]
    return SignalSeries(
        method=alert.rule,
        frequency=alert.frequency,
        value="window" if alert.rule == "mpm" else "count",
        points=points,
    )


@router.get("/{alert_id}", response_model=AlertDetail, dependencies=[requires(*STAFF)])
def alert_detail(alert_id: str, user: CurrentUser, engine: EngineDep, state: StateDep) -> AlertDetail:
    """One alert: what it says, its state and history, and its series with the threshold (surveillance)."""
    alert = _one(engine, user, alert_id)
    inbox_state = _inbox_state(state, alert_id)
    alert = alert.model_copy(
        update={"status": inbox_state.status, "assignee": inbox_state.assignee,
                "updated_at": inbox_state.updated_at, "updated_by": inbox_state.updated_by}
    )  # fmt: skip
    return AlertDetail(alert=alert, inbox=inbox_state, series=_series(engine, alert))


def _change(state: StateDep, user: Principal, alert_id: str, change: Change, request: Request) -> InboxState:
    try:
        inbox.change(
            state.engine,
            alert_id,
            user.username,
            status=change.status,
            assignee=change.assignee or None,
            unassign=change.unassign,
            note=change.note,
        )
    except inbox.IllegalTransitionError as exc:
        raise HTTPException(409, str(exc)) from None
    except inbox.InboxError as exc:
        raise HTTPException(422, str(exc)) from None
    audit.record(
        state, user, "alert.change", f"alert:{alert_id}", change.model_dump(exclude_none=True), request
    )
    return _inbox_state(state, alert_id)


@router.patch("/{alert_id}", response_model=InboxState, dependencies=[requires(*EDITORS)])
def change_alert(
    alert_id: str, change: Change, request: Request, user: CurrentUser, engine: EngineDep, state: StateDep
) -> InboxState:
    """Move the status (new → investigating → confirmed | dismissed), assign, and/or note; all recorded."""
    _one(engine, user, alert_id)
    return _change(state, user, alert_id, change, request)


@router.post("/{alert_id}/notes", response_model=InboxState, dependencies=[requires(*EDITORS)])
def add_note(
    alert_id: str, note: Note, request: Request, user: CurrentUser, engine: EngineDep, state: StateDep
) -> InboxState:
    """Add a note to an alert's history."""
    _one(engine, user, alert_id)
    return _change(state, user, alert_id, Change(assignee=None, note=note.note), request)
