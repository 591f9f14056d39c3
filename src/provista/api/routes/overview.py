"""The province at a glance: KPI cards with sparklines and the change against the previous period."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel

from provista.api.deps import CurrentUser, EngineDep, StateDep, region_filter, requires
from provista.api.routes import alerts
from provista.api.state import AppState, Principal
from provista.engine import DuckDBEngine
from provista.privacy.public import suppress_series_with_sums, suppress_small

router = APIRouter(prefix="/api/overview", tags=["overview"])


class Kpi(BaseModel):
    key: str
    value: float | None
    previous: float | None = None  # the same measure one period earlier (for the change)
    spark: list[float | None] = []  # None: a small count hidden for the public role


class Overview(BaseModel):
    as_of: dt.date | None  # the last day with data
    kpis: list[Kpi]


@router.get(
    "/kpis", response_model=Overview, dependencies=[requires("admin", "analyst", "hospital", "public")]
)
def kpis(user: CurrentUser, engine: EngineDep, state: StateDep) -> Overview:
    where, params = region_filter(user, "h.county_code", "h.hospital_id")
    last = engine.query(
        "SELECT max(v.day)::DATE AS d FROM mart_visits_daily v JOIN hospital h USING (hospital_id) "
        f"WHERE {where}",
        params,
    ).loc[0, "d"]
    if last is None or last != last:
        return Overview(as_of=None, kpis=[])
    daily = engine.query(
        f"""SELECT v.day::DATE AS day, sum(v.visits) AS visits FROM mart_visits_daily v
            JOIN hospital h USING (hospital_id)
            WHERE {where} AND v.day > ?::DATE - INTERVAL 60 DAY GROUP BY 1 ORDER BY 1""",
        [*params, last],
    )
    by_day = dict(zip(daily["day"], daily["visits"].astype(float), strict=True))
    days = [last - dt.timedelta(days=i) for i in range(59, -1, -1)]
    series = [by_day.get(d, 0.0) for d in days]
    census = engine.query(
        f"""SELECT b.date::DATE AS day, sum(b.occupied_beds) AS occupied, sum(b.open_beds) AS open
            FROM bed_census b JOIN hospital h USING (hospital_id)
            WHERE {where} AND b.date > ?::DATE - INTERVAL 30 DAY GROUP BY 1 ORDER BY 1""",
        [*params, last],
    )
    pwhere, pparams = region_filter(user, "county_code")
    if user.hospital is not None:
        persons = engine.query(
            "SELECT count(DISTINCT person_key) AS n FROM encounter WHERE hospital_id = ?", [user.hospital]
        ).loc[0, "n"]
    else:
        persons = engine.query(f"SELECT count(*) AS n FROM person WHERE {pwhere}", pparams).loc[0, "n"]
    occupied = census["occupied"].astype(float).tolist()
    free = (census["open"] - census["occupied"]).astype(float).tolist()
    overview = Overview(
        as_of=last,
        kpis=[
            Kpi(key="persons", value=float(persons)),
            Kpi(key="encounters_today", value=series[-1], previous=series[-8], spark=series[-30:]),
            Kpi(
                key="encounters_week",
                value=sum(series[-7:]),
                previous=sum(series[-14:-7]),
                spark=series[-30:],
            ),
            Kpi(
                key="inpatients",
                value=occupied[-1] if occupied else None,
                previous=occupied[-8] if len(occupied) >= 8 else None,
                spark=occupied,
            ),
            Kpi(
                key="open_beds",
                value=free[-1] if free else None,
                previous=free[-8] if len(free) >= 8 else None,
                spark=free,
            ),
            _active_alerts(user, engine, state),
        ],
    )
    return _public(overview) if user.role == "public" else overview


def _active_alerts(user: Principal, engine: DuckDBEngine, state: AppState) -> Kpi:
    """Alerts raised in the last four weeks and not yet confirmed or dismissed (staff only: the public
    role sees no alert)."""
    if user.role not in alerts.STAFF:
        return Kpi(key="active_alerts", value=None)
    count = alerts.active_count(user, engine, state, recent_days=28)
    return Kpi(key="active_alerts", value=float(count.recent))


def _public(overview: Overview) -> Overview:
    """The public role's cards: small counts hidden, and the weekly sums that would reveal a hidden day.

    The encounter spark is the last 30 days: today is its last day (the previous value 7 days before),
    the week its last 7 days, the previous week the 7 before. Free beds count no one and stay shown.
    """
    kpis = {k.key: k for k in overview.kpis}
    for key in ("persons", "inpatients"):
        if key in kpis:
            k = kpis[key]
            value, previous = suppress_small([k.value, k.previous])
            kpis[key] = k.model_copy(
                update={"value": value, "previous": previous, "spark": suppress_small(k.spark)}
            )
    today, week = kpis.get("encounters_today"), kpis.get("encounters_week")
    if today is not None and week is not None and len(today.spark) == 30:
        days, (this_week, last_week) = suppress_series_with_sums(
            [v or 0.0 for v in today.spark], [range(23, 30), range(16, 23)]
        )
        kpis["encounters_today"] = today.model_copy(
            update={"value": days[29], "previous": days[22], "spark": days}
        )
        kpis["encounters_week"] = week.model_copy(
            update={"value": this_week, "previous": last_week, "spark": days}
        )
    return overview.model_copy(update={"kpis": [kpis[k.key] for k in overview.kpis]})
