"""The alert inbox's state (预警处置): status, assignee and notes of each alert, and who changed what, when.

Alerts themselves are rebuilt by every build (``alert`` in the warehouse, ids stable across builds); what
people do with them lives here, in the app-state database beside users and sessions (DESIGN.md §9), keyed
by ``alert_id``. An alert without a row here is ``new``. Status moves

    new → investigating → confirmed | dismissed        (new → dismissed: an obvious false alarm)

and nothing else (confirmed and dismissed are final). Every change (status, assignee, note) appends one
``alert_events`` row; the code never updates or deletes one.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from provista.api.state import Base, User
from provista.errors import ProvistaError

STATUSES = ("new", "investigating", "confirmed", "dismissed")
ACTIVE = ("new", "investigating")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("investigating", "dismissed"),
    "investigating": ("confirmed", "dismissed"),
    "confirmed": (),
    "dismissed": (),
}


class InboxError(ProvistaError, ValueError):
    """A change the inbox refuses (an illegal transition, an unknown assignee, an empty change)."""


class IllegalTransitionError(InboxError):
    """The status cannot move from where it is to where it was asked to go."""


class AlertState(Base):
    __tablename__ = "alert_states"
    alert_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class AlertEvent(Base):
    __tablename__ = "alert_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    username: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # status | assignee | note
    from_value: Mapped[str | None] = mapped_column(String(64), nullable=True)
    to_value: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


@dataclass(frozen=True)
class State:
    status: str
    assignee: str | None
    updated_at: dt.datetime | None
    updated_by: str | None


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    username: str
    kind: str
    from_value: str | None
    to_value: str | None
    note: str | None


NEW = State("new", None, None, None)
_ready: weakref.WeakSet[Engine] = weakref.WeakSet()


def ensure_tables(engine: Engine) -> None:
    """Create the inbox tables if this database lacks them (an app-state database made before them)."""
    if engine not in _ready:
        Base.metadata.create_all(engine, tables=[AlertState.__table__, AlertEvent.__table__])  # type: ignore[list-item]
        _ready.add(engine)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def states(engine: Engine, alert_ids: Iterable[str]) -> dict[str, State]:
    """The state of each id that has one (the others are new)."""
    ids = list(alert_ids)
    if not ids:
        return {}
    ensure_tables(engine)
    out: dict[str, State] = {}
    with Session(engine) as s:
        for start in range(0, len(ids), 500):
            rows = s.scalars(select(AlertState).where(AlertState.alert_id.in_(ids[start : start + 500])))
            out.update({r.alert_id: State(r.status, r.assignee, r.updated_at, r.updated_by) for r in rows})
    return out


def ids_where(engine: Engine, *, status: str | None = None, assignee: str | None = None) -> list[str]:
    """Ids with a state row matching: status (``new`` gives the ids that are no longer new) and assignee."""
    ensure_tables(engine)
    query = select(AlertState.alert_id)
    if status == "new":
        query = query.where(AlertState.status != "new")
    elif status is not None:
        query = query.where(AlertState.status == status)
    if assignee is not None:
        query = query.where(AlertState.assignee == assignee)
    with Session(engine) as s:
        return list(s.scalars(query))


def history(engine: Engine, alert_id: str) -> list[Event]:
    """Every change of an alert, oldest first."""
    ensure_tables(engine)
    with Session(engine) as s:
        rows = s.scalars(
            select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
        ).all()
        return [Event(r.at, r.username, r.kind, r.from_value, r.to_value, r.note) for r in rows]


def change(
    engine: Engine,
    alert_id: str,
    username: str,
    *,
    status: str | None = None,
    assignee: str | None = None,
    unassign: bool = False,
    note: str | None = None,
) -> State:
    """Apply a status move, an assignment and/or a note as one transaction, each recorded in the history.

    Raises ``IllegalTransitionError`` for a status move ``TRANSITIONS`` does not allow, ``InboxError`` for
    an assignee who is not a user or a change that changes nothing.
    """
    ensure_tables(engine)
    note = (note or "").strip() or None
    if status is None and assignee is None and not unassign and note is None:
        raise InboxError("nothing to change", hint="give a status, an assignee or a note")
    if status is not None and status not in STATUSES:
        raise InboxError(f"unknown status {status!r}", hint=f"use one of {', '.join(STATUSES)}")
    now = _now()
    with Session(engine) as s, s.begin():
        row = s.get(AlertState, alert_id, with_for_update=True)
        if row is None:
            row = AlertState(
                alert_id=alert_id, status="new", assignee=None, updated_at=now, updated_by=username
            )
            s.add(row)
        events: list[AlertEvent] = []
        if status is not None and status != row.status:
            if status not in TRANSITIONS[row.status]:
                allowed = ", ".join(TRANSITIONS[row.status]) or "none: it is final"
                raise IllegalTransitionError(
                    f"an alert that is {row.status} cannot become {status}",
                    hint=f"from {row.status} it can become: {allowed}",
                )
            events.append(_event(alert_id, now, username, "status", row.status, status, note))
            row.status = status
        elif status is not None and note is None:
            raise InboxError(f"the alert is already {status}", hint="choose another status, or add a note")
        target = None if unassign else assignee
        if (unassign or assignee is not None) and target != row.assignee:
            if target is not None and s.get(User, target) is None:
                raise InboxError(f"no user called {target!r}", hint="assign the alert to an existing account")
            events.append(_event(alert_id, now, username, "assignee", row.assignee, target, None))
            row.assignee = target
        if note is not None and not any(e.kind == "status" for e in events):
            events.append(_event(alert_id, now, username, "note", None, None, note))
        if not events:
            raise InboxError("nothing changed", hint="the alert already has that assignee")
        row.updated_at, row.updated_by = now, username
        s.add_all(events)
        return State(row.status, row.assignee, row.updated_at, row.updated_by)


def _event(
    alert_id: str,
    at: dt.datetime,
    username: str,
    kind: str,
    old: str | None,
    new: str | None,
    note: str | None,
) -> AlertEvent:
    return AlertEvent(
        alert_id=alert_id, at=at, username=username, kind=kind, from_value=old, to_value=new, note=note
    )
