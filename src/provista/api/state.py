"""App state, apart from analytics (DESIGN.md §9): users, their scopes and sessions, through SQLAlchemy.

SQLite by default (``PROVISTA_APP_DB`` takes any SQLAlchemy URL, e.g. PostgreSQL in production). Passwords
are stored as argon2id hashes; a session cookie carries a random token whose SHA-256 is stored, so a copy
of this database does not let anyone log in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import DateTime, ForeignKey, String, create_engine, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from provista.errors import ProvistaError

ROLES = ("admin", "analyst", "hospital", "public")
SCOPE_KINDS = ("province", "city", "county", "hospital")
_hasher = PasswordHasher()


class AccountError(ProvistaError, ValueError):
    """An account that cannot be created as asked."""


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    scope_kind: Mapped[str] = mapped_column(String(16))  # province, city, county or hospital
    scope_code: Mapped[str] = mapped_column(String(32))  # 330000, 330100 / 3301, 330106, H3302…
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class SessionRow(Base):
    __tablename__ = "sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username", ondelete="CASCADE"))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


@dataclass(frozen=True)
class Principal:
    """Who is asking, and the part of the province they may see."""

    username: str
    role: str
    scope_kind: str
    scope_code: str

    @property
    def region_prefix(self) -> str | None:
        """Prefix of the county codes in scope (None: the whole province; hospital scope has none)."""
        if self.scope_kind == "city":
            return self.scope_code[:4]
        if self.scope_kind == "county":
            return self.scope_code[:6]
        return None

    @property
    def hospital(self) -> str | None:
        return self.scope_code if self.scope_kind == "hospital" else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AppState:
    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url)
        Base.metadata.create_all(self.engine)

    def add_user(self, username: str, password: str, role: str, scope_kind: str, scope_code: str) -> None:
        if role not in ROLES:
            raise AccountError(f"unknown role {role!r}", hint=f"use one of: {', '.join(ROLES)}")
        if scope_kind not in SCOPE_KINDS:
            raise AccountError(f"unknown scope {scope_kind!r}", hint=f"use one of: {', '.join(SCOPE_KINDS)}")
        if len(password) < 12:
            raise AccountError("a password needs at least 12 characters", hint="choose a longer one")
        with Session(self.engine) as s, s.begin():
            s.merge(
                User(
                    username=username,
                    password_hash=_hasher.hash(password),
                    role=role,
                    scope_kind=scope_kind,
                    scope_code=scope_code,
                    created_at=_now(),
                )
            )

    def login(self, username: str, password: str, hours: float) -> str | None:
        """A new session token, or None when the name or password is wrong (the same answer for both)."""
        with Session(self.engine) as s, s.begin():
            user = s.get(User, username)
            try:
                if user is None:
                    _hasher.hash(password)  # the same work as a real check: no timing difference
                    return None
                _hasher.verify(user.password_hash, password)
            except (VerifyMismatchError, InvalidHashError):
                return None
            token = secrets.token_urlsafe(32)
            s.add(
                SessionRow(
                    token_hash=_digest(token),
                    username=username,
                    expires_at=_now() + dt.timedelta(hours=hours),
                )
            )
            return token

    def principal(self, token: str | None) -> Principal | None:
        if not token:
            return None
        with Session(self.engine) as s:
            row = s.execute(
                select(User, SessionRow.expires_at)
                .join(SessionRow, SessionRow.username == User.username)
                .where(SessionRow.token_hash == _digest(token))
            ).first()
            if row is None or row[1] <= _now():
                return None
            u = row[0]
            return Principal(u.username, u.role, u.scope_kind, u.scope_code)

    def logout(self, token: str) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(delete(SessionRow).where(SessionRow.token_hash == _digest(token)))

    def purge_expired(self) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(delete(SessionRow).where(SessionRow.expires_at <= _now()))


# The demo's accounts (demo mode only; documented in the README). Outside the demo there are none.
DEMO_USERS = (
    ("admin", "provista-admin-demo", "admin", "province", "330000"),
    ("hangzhou", "provista-hangzhou-demo", "analyst", "city", "330100"),
    ("ningbo_hospital", "provista-ningbo-demo", "hospital", "hospital", "NINGBO_FIRST"),
    ("public", "provista-public-demo", "public", "province", "330000"),
)
