"""The audit log for admins and inspectors: search by user, action and period; export as CSV.

Reading the log is itself recorded (an export in full, with its filters), so an inspector's visit leaves
a trace too.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from provista.api import audit
from provista.api.deps import CurrentUser, StateDep, requires

router = APIRouter(prefix="/api/audit", tags=["audit"])
READERS = ("admin", "auditor")
User = Annotated[str | None, Query(max_length=64, description="exactly this user name")]
Action = Annotated[
    str | None, Query(max_length=64, description="actions starting with this, e.g. user. or patient.read")
]
Target = Annotated[str | None, Query(max_length=300, description="targets containing this")]
Since = Annotated[dt.datetime | None, Query(description="from this moment (ISO 8601; without a zone: UTC)")]
Until = Annotated[dt.datetime | None, Query(description="before this moment (ISO 8601; without a zone: UTC)")]


class Event(BaseModel):
    seq: int
    at: dt.datetime  # UTC
    username: str
    role: str
    action: str
    target: str
    purpose: str
    outcome: str
    client_ip: str
    detail: str
    hash: str


class EventPage(BaseModel):
    total: int
    items: list[Event]


@router.get("/events", response_model=EventPage, dependencies=[requires(*READERS)])
def events(
    state: StateDep,
    user: User = None,
    action: Action = None,
    target: Target = None,
    since: Since = None,
    until: Until = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=2**62),  # SQLite integers are 64-bit
) -> EventPage:
    """Events newest first, with the number that match before paging."""
    total, found = audit.search(
        state,
        username=user,
        action=action,
        target=target,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return EventPage(total=total, items=[Event(**e.__dict__) for e in found])


@router.get(
    "/export.csv",
    response_class=Response,
    dependencies=[requires(*READERS)],
    responses={200: {"content": {"text/csv": {}}, "description": "every matching event, oldest first"}},
)
def export(
    reader: CurrentUser,
    request: Request,
    state: StateDep,
    user: User = None,
    action: Action = None,
    target: Target = None,
    since: Since = None,
    until: Until = None,
) -> Response:
    """Every matching event as CSV (UTF-8 with BOM, for spreadsheets; cells never start a formula)."""
    _, found = audit.search(
        state, username=user, action=action, target=target, since=since, until=until, limit=None
    )
    filters = {"user": user, "action": action, "target": target, "since": since, "until": until}
    audit.record(state, reader, "audit.export", "audit_log", {"rows": len(found), **filters}, request)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Response(
        "\ufeff" + audit.to_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="provista-audit-{stamp}.csv"'},
    )
