"""App state, apart from analytics (DESIGN.md §9): users, their scopes and sessions, through SQLAlchemy.

SQLite by default (``PROVISTA_APP_DB`` takes any SQLAlchemy URL, e.g. PostgreSQL in production). Passwords
are stored as argon2id hashes; a session cookie carries a random token whose SHA-256 is stored, so a copy
of this database does not let anyone log in. Each session also has a CSRF token (stored as its SHA-256)
that the pages send back in a header on every change. Failed log-ins are counted per account and per
client address; past a limit the account or the address is refused for a while (``LockedOut``). The audit
log lives in the same database (``provista.api.audit``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    create_engine,
    delete,
    false,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from provista.api import audit
from provista.api.password_policy import password_problems
from provista.errors import ProvistaError

# admin: accounts and the audit log; analyst: aggregates of their region; hospital: their hospital's
# figures; public: published aggregates only; clinician and researcher: patient-level data with a stated
# purpose; auditor: the audit log only.
ROLES = ("admin", "analyst", "hospital", "public", "clinician", "researcher", "auditor")
PATIENT_ROLES = ("clinician", "researcher")
SCOPE_KINDS = ("province", "city", "county", "hospital")
USERNAME = re.compile(r"[A-Za-z0-9_.-]{2,64}")
SCOPE_CODE = {
    "province": re.compile(r"\d{2}0000"),
    "city": re.compile(r"\d{4}00"),
    "county": re.compile(r"\d{6}"),
    "hospital": re.compile(r"[A-Za-z0-9_-]{1,32}"),
}

# Failed log-ins: an account is refused after ACCOUNT_FAILURES failures within WINDOW (since its last
# successful log-in), a client address after ADDRESS_FAILURES, until the oldest of them leaves the window.
ACCOUNT_FAILURES = 5
ADDRESS_FAILURES = 20
WINDOW = dt.timedelta(minutes=15)
_hasher = PasswordHasher()


class AccountError(ProvistaError, ValueError):
    """An account that cannot be created or changed as asked."""


class AccountExists(AccountError):
    """The user name is taken."""


class NoSuchAccount(AccountError, LookupError):
    """No account has this user name."""


class LockedOut(ProvistaError, PermissionError):
    """Too many failed log-ins for an account or from an address: refused until ``retry_after``."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, hint=f"wait {max(1, -(-retry_after // 60))} minute(s), then log in again")
        self.retry_after = retry_after


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
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class SessionRow(Base):
    __tablename__ = "sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username", ondelete="CASCADE"))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    csrf_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    client_ip: Mapped[str] = mapped_column(String(64))


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)  # as typed, folded: unknown names count too
    client_ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)


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


@dataclass(frozen=True)
class NewSession:
    token: str  # goes in the HttpOnly session cookie
    csrf: str  # goes in a cookie the pages can read, and comes back in the X-CSRF-Token header


@dataclass(frozen=True)
class Account:
    """A user as the admin page lists it (never the password hash)."""

    username: str
    role: str
    scope_kind: str
    scope_code: str
    disabled: bool
    created_at: dt.datetime
    password_changed_at: dt.datetime | None
    sessions: int


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_account(username: str, role: str, scope_kind: str, scope_code: str) -> None:
    """Refuse a malformed account (the names and codes are checked against the warehouse elsewhere)."""
    if not USERNAME.fullmatch(username):
        raise AccountError(
            f"user name {username[:80]!r} is not allowed",
            hint="use 2–64 letters, digits, '.', '_' or '-'",
        )
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}", hint=f"use one of: {', '.join(ROLES)}")
    if scope_kind not in SCOPE_KINDS:
        raise AccountError(f"unknown scope {scope_kind!r}", hint=f"use one of: {', '.join(SCOPE_KINDS)}")
    if not SCOPE_CODE[scope_kind].fullmatch(scope_code):
        example = {"province": "330000", "city": "330100", "county": "330106", "hospital": "H33010001"}
        raise AccountError(
            f"{scope_code[:40]!r} is not a {scope_kind} code", hint=f"e.g. {example[scope_kind]}"
        )
    if role == "hospital" and scope_kind != "hospital":
        raise AccountError("a hospital account needs a hospital scope", hint="set the scope to one hospital")
    if role == "public" and scope_kind != "province":
        raise AccountError("a public account sees the province's published figures", hint="scope: province")


def check_password(password: str, username: str) -> None:
    problems = password_problems(password, username)
    if problems:
        raise AccountError(
            "the password is refused: " + "; ".join(problems),
            hint="choose a passphrase of 12 or more characters that is not the user name nor a common one",
        )


class AppState:
    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url)
        self._upgrade()
        Base.metadata.create_all(self.engine)
        audit.ensure_schema(self.engine)

    def _upgrade(self) -> None:
        """Bring an app-state database made by an earlier version up to this one."""
        tables = inspect(self.engine)
        if "sessions" in tables.get_table_names():
            columns = {c["name"] for c in tables.get_columns("sessions")}
            if "csrf_hash" not in columns:  # sessions are short-lived: drop them, users log in again
                SessionRow.__table__.drop(self.engine)  # type: ignore[attr-defined]
        if "users" in tables.get_table_names():
            columns = {c["name"] for c in tables.get_columns("users")}
            with self.engine.begin() as c:
                if "disabled" not in columns:
                    c.execute(text("ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE"))
                if "password_changed_at" not in columns:
                    c.execute(text("ALTER TABLE users ADD COLUMN password_changed_at TIMESTAMP"))

    # --- accounts ---------------------------------------------------------------------------------

    def add_user(self, username: str, password: str, role: str, scope_kind: str, scope_code: str) -> None:
        """Create the account, or reset it (password, role, scope; enabled) when it exists."""
        check_account(username, role, scope_kind, scope_code)
        check_password(password, username)
        with Session(self.engine) as s, s.begin():
            existing = s.get(User, username)
            s.merge(
                User(
                    username=username,
                    password_hash=_hasher.hash(password),
                    role=role,
                    scope_kind=scope_kind,
                    scope_code=scope_code,
                    created_at=existing.created_at if existing else _now(),
                    disabled=False,
                    password_changed_at=_now(),
                )
            )

    def create_user(
        self, username: str, password: str, role: str, scope_kind: str, scope_code: str
    ) -> Account:
        """A new account; refuses a name that is taken."""
        if self.account(username) is not None:
            raise AccountExists(f"user {username!r} exists already", hint="choose another name, or edit it")
        self.add_user(username, password, role, scope_kind, scope_code)
        account = self.account(username)
        assert account is not None
        return account

    def account(self, username: str) -> Account | None:
        return next((a for a in self.accounts() if a.username == username), None)

    def accounts(self) -> list[Account]:
        with Session(self.engine) as s:
            live = dict(
                s.execute(
                    select(SessionRow.username, func.count())
                    .where(SessionRow.expires_at > _now())
                    .group_by(SessionRow.username)
                ).all()
            )
            users = s.scalars(select(User).order_by(User.username)).all()
            return [
                Account(
                    u.username,
                    u.role,
                    u.scope_kind,
                    u.scope_code,
                    bool(u.disabled),
                    u.created_at,
                    u.password_changed_at,
                    int(live.get(u.username, 0)),
                )
                for u in users
            ]

    def update_user(
        self,
        username: str,
        *,
        role: str | None = None,
        scope_kind: str | None = None,
        scope_code: str | None = None,
        disabled: bool | None = None,
    ) -> Account:
        """Change role, scope or state; disabling ends the account's sessions. The last admin stays."""
        with Session(self.engine) as s, s.begin():
            user = s.get(User, username)
            if user is None:
                raise NoSuchAccount(f"no user {username!r}", hint="check the name in the list of users")
            new_role = role or user.role
            new_kind = scope_kind or user.scope_kind
            new_code = scope_code or user.scope_code
            check_account(username, new_role, new_kind, new_code)
            now_disabled = user.disabled if disabled is None else disabled
            if user.role == "admin" and not user.disabled and (new_role != "admin" or now_disabled):
                admins = s.scalar(
                    select(func.count()).select_from(User).where(User.role == "admin", ~User.disabled)
                )
                if (admins or 0) <= 1:
                    raise AccountError(
                        f"{username} is the last enabled admin",
                        hint="make another account admin first, so that someone can still manage accounts",
                    )
            user.role, user.scope_kind, user.scope_code, user.disabled = (
                new_role,
                new_kind,
                new_code,
                now_disabled,
            )
            if now_disabled:
                s.execute(delete(SessionRow).where(SessionRow.username == username))
        account = self.account(username)
        assert account is not None
        return account

    def set_password(self, username: str, password: str, keep_token: str | None = None) -> None:
        """A new password; every session of the account ends, except ``keep_token``'s (the one asking)."""
        check_password(password, username)
        with Session(self.engine) as s, s.begin():
            user = s.get(User, username)
            if user is None:
                raise NoSuchAccount(f"no user {username!r}", hint="check the name in the list of users")
            user.password_hash = _hasher.hash(password)
            user.password_changed_at = _now()
            ended = delete(SessionRow).where(SessionRow.username == username)
            if keep_token:
                ended = ended.where(SessionRow.token_hash != _digest(keep_token))
            s.execute(ended)

    def verify_password(self, username: str, password: str) -> bool:
        with Session(self.engine) as s:
            user = s.get(User, username)
            if user is None:
                return False
            try:
                return _hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                return False

    # --- sessions ---------------------------------------------------------------------------------

    def login(
        self, username: str, password: str, hours: float, client_ip: str = "unknown"
    ) -> NewSession | None:
        """A new session, or None when the name or password is wrong (the same answer for both).

        Raises ``LockedOut`` (before checking the password) while the account or the address has too many
        recent failures; a disabled account fails like a wrong password.
        """
        folded = username.casefold()[:64]
        now = _now()
        with Session(self.engine) as s, s.begin():
            self._refuse_if_locked(s, folded, client_ip, now)
            user = s.get(User, username)
            ok = False
            try:
                if user is None:
                    _hasher.hash(password)  # the same work as a real check: no timing difference
                else:
                    ok = _hasher.verify(user.password_hash, password) and not user.disabled
            except (VerificationError, InvalidHashError):
                ok = False
            s.add(LoginAttempt(username=folded, client_ip=client_ip[:64], at=now, ok=ok))
            s.execute(delete(LoginAttempt).where(LoginAttempt.at < now - dt.timedelta(days=1)))
            if not ok:
                return None
            made = NewSession(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
            s.add(
                SessionRow(
                    token_hash=_digest(made.token),
                    username=username,
                    expires_at=now + dt.timedelta(hours=hours),
                    csrf_hash=_digest(made.csrf),
                    created_at=now,
                    client_ip=client_ip[:64],
                )
            )
            return made

    def _refuse_if_locked(self, s: Session, folded: str, client_ip: str, now: dt.datetime) -> None:
        since = now - WINDOW
        last_ok = s.scalar(
            select(func.max(LoginAttempt.at)).where(LoginAttempt.username == folded, LoginAttempt.ok)
        )
        account = s.scalars(
            select(LoginAttempt.at)
            .where(
                LoginAttempt.username == folded,
                ~LoginAttempt.ok,
                LoginAttempt.at > max(since, last_ok or since),
            )
            .order_by(LoginAttempt.at.desc())
        ).all()
        if len(account) >= ACCOUNT_FAILURES:
            wait = account[ACCOUNT_FAILURES - 1] + WINDOW - now
            raise LockedOut(
                f"too many failed log-ins for this account ({len(account)} in {WINDOW.seconds // 60} min)",
                int(wait.total_seconds()) + 1,
            )
        address = s.scalars(
            select(LoginAttempt.at)
            .where(LoginAttempt.client_ip == client_ip[:64], ~LoginAttempt.ok, LoginAttempt.at > since)
            .order_by(LoginAttempt.at.desc())
        ).all()
        if len(address) >= ADDRESS_FAILURES:
            wait = address[ADDRESS_FAILURES - 1] + WINDOW - now
            raise LockedOut(
                f"too many failed log-ins from your address ({len(address)} in {WINDOW.seconds // 60} min)",
                int(wait.total_seconds()) + 1,
            )

    def principal(self, token: str | None) -> Principal | None:
        if not token:
            return None
        with Session(self.engine) as s:
            row = s.execute(
                select(User, SessionRow.expires_at)
                .join(SessionRow, SessionRow.username == User.username)
                .where(SessionRow.token_hash == _digest(token))
            ).first()
            if row is None or row[1] <= _now() or row[0].disabled:
                return None
            u = row[0]
            return Principal(u.username, u.role, u.scope_kind, u.scope_code)

    def csrf_matches(self, token: str, csrf: str | None) -> bool | None:
        """None when ``token`` is no live session; else whether ``csrf`` is that session's CSRF token."""
        with Session(self.engine) as s:
            row = s.execute(
                select(SessionRow.csrf_hash, SessionRow.expires_at).where(
                    SessionRow.token_hash == _digest(token)
                )
            ).first()
        if row is None or row[1] <= _now():
            return None
        return bool(csrf) and hmac.compare_digest(row[0], _digest(csrf or ""))

    def logout(self, token: str) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(delete(SessionRow).where(SessionRow.token_hash == _digest(token)))

    def logout_everywhere(self, username: str) -> int:
        """End every session of the account (every browser, every device); how many there were."""
        with Session(self.engine) as s, s.begin():
            ended = s.execute(delete(SessionRow).where(SessionRow.username == username))
            return int(ended.rowcount)  # type: ignore[attr-defined]

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
