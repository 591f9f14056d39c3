"""The audit log: who did what, when, from where and why — append-only and hash-chained.

Every patient-level read and every change (accounts, EMPI links, alerts, log-ins) is one row of
``audit_log`` in the app-state database. The application cannot alter it: triggers in the database refuse
any UPDATE or DELETE. Someone who goes around the application (a database shell, a restored file) can, so
each row also carries ``hash = SHA-256(previous row's hash + this row)``; ``provista audit verify``
recomputes the chain and names the first row that does not fit. Truncating the end of the log leaves a
valid chain, which is why ``provista audit anchor`` writes the head (sequence number and hash) to a file
kept elsewhere: a later verify checks every anchor is still there.

Call ``record(state, user, action, target, detail, request)`` wherever something happens that an
inspector should be able to find.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from provista.errors import ProvistaError

if TYPE_CHECKING:
    from fastapi import Request

    from provista.api.state import AppState, Principal

PURPOSE_HEADER = "X-Provista-Purpose"
GENESIS = "0" * 64
_metadata = MetaData()
audit_log = Table(
    "audit_log",
    _metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),  # UTC, ISO 8601 with microseconds
    Column("username", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(64), nullable=False),  # e.g. patient.read, user.create, login.failed
    Column("target", String(300), nullable=False),  # what it was done to: a user, a path, a record pair
    Column("purpose", String(300), nullable=False),
    Column("outcome", String(16), nullable=False),  # ok, denied, failed
    Column("client_ip", String(64), nullable=False),
    Column("detail", Text, nullable=False),  # JSON object
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("prev_hash", name="audit_log_one_successor"),  # the chain cannot fork
)
FIELDS = ("seq", "at", "username", "role", "action", "target", "purpose", "outcome", "client_ip", "detail")

_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_log_no_{op.lower()} BEFORE {op} ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: {op} refused'); END"""
    for op in ("UPDATE", "DELETE")
]
_POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION provista_audit_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP; END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
       FOR EACH STATEMENT EXECUTE FUNCTION provista_audit_append_only()""",
]
_lock = threading.Lock()  # one writer at a time in this process; the unique prev_hash guards the others


class AuditError(ProvistaError, RuntimeError):
    """The audit log cannot be written or read as asked."""


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    at: str
    username: str
    role: str
    action: str
    target: str
    purpose: str
    outcome: str
    client_ip: str
    detail: str
    hash: str


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: the number of rows, the head of the chain, and every problem."""

    rows: int
    head_seq: int
    head_hash: str
    problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems


def ensure_schema(engine: Engine) -> None:
    """Create the table and the triggers that make it append-only (idempotent)."""
    _metadata.create_all(engine)
    statements = {"sqlite": _SQLITE_TRIGGERS, "postgresql": _POSTGRES_TRIGGERS}.get(engine.dialect.name)
    if statements is None:
        raise AuditError(
            f"the audit log has no append-only triggers for {engine.dialect.name}",
            hint="use SQLite or PostgreSQL for the app state (PROVISTA_APP_DB)",
        )
    with engine.begin() as c:
        for statement in statements:
            c.execute(text(statement))


def _digest(prev_hash: str, row: Mapping[str, Any]) -> str:
    payload = json.dumps([prev_hash, *(row[f] for f in FIELDS)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def client_ip(request: Request | None) -> str:
    if request is None:
        return "local"
    return request.client.host if request.client else "unknown"


def purpose_of(request: Request | None) -> str:
    """The purpose the caller stated: the X-Provista-Purpose header, else the ``purpose`` query parameter."""
    if request is None:
        return ""
    stated = request.headers.get(PURPOSE_HEADER) or request.query_params.get("purpose") or ""
    return " ".join(stated.split())[:300]


def record(
    state: AppState,
    user: Principal | str | None,
    action: str,
    target: str,
    detail: Mapping[str, Any] | None = None,
    request: Request | None = None,
    *,
    purpose: str | None = None,
    outcome: str = "ok",
) -> AuditEvent:
    """Append one event. ``user``: the Principal, or a name for work outside the API (``"cli:alice"``).

    ``request`` gives the client address and, unless ``purpose`` is passed, the stated purpose.
    """
    if isinstance(user, str) or user is None:
        username, role = (user or "anonymous"), ""
    else:
        username, role = user.username, user.role
    row: dict[str, Any] = {
        "at": dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds"),
        "username": username[:64],
        "role": role,
        "action": action[:64],
        "target": target[:300],
        "purpose": (purpose if purpose is not None else purpose_of(request))[:300],
        "outcome": outcome[:16],
        "client_ip": client_ip(request)[:64],
        "detail": json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True, default=str),
    }
    for attempt in range(10):
        with _lock:
            try:
                with state.engine.begin() as c:
                    return _append(c, row)
            except IntegrityError:  # another process appended first: chain onto its row
                if attempt == 9:
                    raise
    raise AssertionError("unreachable")


def _append(c: Connection, row: dict[str, Any]) -> AuditEvent:
    head = c.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    prev_seq, prev_hash = (head[0], head[1]) if head else (0, GENESIS)
    full = {**row, "seq": prev_seq + 1}
    digest = _digest(prev_hash, full)
    c.execute(insert(audit_log).values(**full, prev_hash=prev_hash, hash=digest))
    return AuditEvent(**{k: full[k] for k in FIELDS}, hash=digest)


def search(
    state: AppState,
    *,
    username: str | None = None,
    action: str | None = None,
    target: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> tuple[int, list[AuditEvent]]:
    """Events newest first: by exact user, action prefix (``user.`` finds every account change), target
    substring and period (``until`` excluded); with the total before paging."""
    where = []
    if username:
        where.append(audit_log.c.username == username)
    if action:
        where.append(audit_log.c.action.startswith(action, autoescape=True))
    if target:
        where.append(audit_log.c.target.contains(target, autoescape=True))
    if since:
        where.append(audit_log.c.at >= _utc_text(since))
    if until:
        where.append(audit_log.c.at < _utc_text(until))
    columns = [audit_log.c[f] for f in FIELDS] + [audit_log.c.hash]
    with state.engine.connect() as c:
        total = c.execute(select(func.count()).select_from(audit_log).where(*where)).scalar_one()
        query = select(*columns).where(*where).order_by(audit_log.c.seq.desc()).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        rows = c.execute(query).mappings().all()
    return int(total), [AuditEvent(**r) for r in rows]


def _utc_text(moment: dt.datetime) -> str:
    """The stored form of a moment: naive UTC, ISO 8601 (a naive input is taken as UTC already)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP: CSV injection)."""
    s = str(value)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def to_csv(events: Iterable[AuditEvent]) -> str:
    """CSV for inspectors: one row per event, oldest first, with each row's hash."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*FIELDS, "hash"])
    for e in sorted(events, key=lambda e: e.seq):
        writer.writerow([_cell(v) for v in asdict(e).values()])
    return buffer.getvalue()


def verify(engine: Engine, anchors: Path | None = None) -> Verification:
    """Recompute the chain from the first row; check the triggers are in place and every anchor holds."""
    problems: list[str] = []
    prev_seq, prev_hash, rows = 0, GENESIS, 0
    with engine.connect() as c:
        for r in c.execute(select(audit_log).order_by(audit_log.c.seq)).mappings():
            rows += 1
            if r["seq"] != prev_seq + 1:
                problems.append(f"row {r['seq']}: rows {prev_seq + 1}–{r['seq'] - 1} are missing")
            if r["prev_hash"] != prev_hash:
                problems.append(f"row {r['seq']}: does not follow row {prev_seq} (its prev_hash differs)")
            if _digest(r["prev_hash"], dict(r)) != r["hash"]:
                problems.append(f"row {r['seq']}: its content was changed after it was written")
            prev_seq, prev_hash = r["seq"], r["hash"]
        hashes = dict(c.execute(select(audit_log.c.seq, audit_log.c.hash)).tuples().all())
    problems += _missing_triggers(engine)
    if anchors is not None:
        for n, line in enumerate(anchors.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                seq_text, anchored = line.split()[:2]
                seq = int(seq_text)
            except ValueError:
                raise AuditError(
                    f"{anchors}, line {n}: not an anchor",
                    hint="each line is '<seq> <hash>', as `anchor` wrote",
                ) from None
            if hashes.get(seq) != anchored:
                problems.append(
                    f"anchor {anchors}:{n} (row {seq}) no longer matches: the log was cut or rewritten"
                )
    return Verification(rows, prev_seq, prev_hash, problems)


# Per dialect: the query listing the audit log's active triggers, and the triggers that must be among them.
_TRIGGERS_EXPECTED = {
    "sqlite": (
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'",
        ("audit_log_no_update", "audit_log_no_delete"),
    ),
    "postgresql": (
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND tgenabled <> 'D'",
        ("audit_log_append_only",),
    ),
}


def _missing_triggers(engine: Engine) -> list[str]:
    """The append-only triggers that were dropped (or, on PostgreSQL, disabled) behind the app's back."""
    if engine.dialect.name not in _TRIGGERS_EXPECTED:
        return []
    query, expected = _TRIGGERS_EXPECTED[engine.dialect.name]
    with engine.connect() as c:
        names = set(c.execute(text(query)).scalars().all())
    return [
        f"trigger {name} is missing: the log can be altered (restart the app to restore it, and find out who)"
        for name in expected
        if name not in names
    ]


def anchor(engine: Engine, path: Path) -> tuple[int, str]:
    """Append the chain's head to ``path`` (keep that file away from the database's administrators)."""
    found = verify(engine)
    if found.rows == 0:
        raise AuditError("the audit log is empty: nothing to anchor", hint="anchor once something is logged")
    if not found.intact:
        raise AuditError(
            "the audit log does not verify: " + "; ".join(found.problems[:3]),
            hint="investigate before anchoring; `provista audit verify` lists every problem",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(f"{found.head_seq} {found.head_hash}\n")
    return found.head_seq, found.head_hash
