"""Accounts: list, create, change role or scope, disable, reset a password (admin only; each change audited).

A scope names a real division or hospital of the warehouse; a change of role or scope applies at the
account's next request (the scope is read with every request, never kept in the browser).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field

from provista.api import audit
from provista.api.deps import SESSION_COOKIE, CurrentUser, EngineDep, StateDep, requires
from provista.api.state import (
    ROLES,
    SCOPE_KINDS,
    Account,
    AccountError,
    AccountExists,
    AppState,
    NoSuchAccount,
    check_account,
)
from provista.engine import DuckDBEngine

router = APIRouter(prefix="/api/admin", tags=["admin"])
Username = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
LEVELS = {"province": "province", "city": "prefecture", "county": "county"}


class UserOut(BaseModel):
    username: str
    role: str
    scope_kind: str
    scope_code: str
    disabled: bool
    created_at: dt.datetime
    password_changed_at: dt.datetime | None
    sessions: int


class UserList(BaseModel):
    roles: list[str]
    scope_kinds: list[str]
    users: list[UserOut]


class NewUser(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    role: str = Field(max_length=16)
    scope_kind: str = Field(max_length=16)
    scope_code: str = Field(max_length=32)


class UserChange(BaseModel):
    role: str | None = Field(None, max_length=16)
    scope_kind: str | None = Field(None, max_length=16)
    scope_code: str | None = Field(None, max_length=32)
    disabled: bool | None = None


class NewPassword(BaseModel):
    password: str = Field(max_length=1024)


def _out(account: Account) -> UserOut:
    return UserOut(**account.__dict__)


def scope_exists(engine: DuckDBEngine, kind: str, code: str) -> bool:
    """Whether the warehouse has this division (province, city, county) or hospital."""
    if kind == "hospital":
        found = engine.query("SELECT count(*) AS n FROM hospital WHERE hospital_id = ?", [code])
    else:
        found = engine.query(
            "SELECT count(*) AS n FROM region WHERE code = ? AND level = ?", [code, LEVELS[kind]]
        )
    return int(found["n"].iloc[0]) > 0


def _check_scope_exists(engine: DuckDBEngine, kind: str, code: str) -> None:
    if not scope_exists(engine, kind, code):
        raise HTTPException(
            422, f"no {kind} {code} in the warehouse: pick one from the map or the hospital list"
        )


def _account_error(exc: AccountError) -> HTTPException:
    status = 409 if isinstance(exc, AccountExists) else 404 if isinstance(exc, NoSuchAccount) else 422
    return HTTPException(status, f"{exc.message} ({exc.hint})" if exc.hint else exc.message)


@router.get("/users", response_model=UserList, dependencies=[requires("admin")])
def users(state: StateDep) -> UserList:
    """Every account with its role, scope, state and number of live sessions (never a password hash)."""
    return UserList(
        roles=list(ROLES), scope_kinds=list(SCOPE_KINDS), users=[_out(a) for a in state.accounts()]
    )


@router.post("/users", response_model=UserOut, status_code=201, dependencies=[requires("admin")])
def create_user(
    body: NewUser, user: CurrentUser, request: Request, state: StateDep, engine: EngineDep
) -> UserOut:
    try:
        check_account(body.username, body.role, body.scope_kind, body.scope_code)
        _check_scope_exists(engine, body.scope_kind, body.scope_code)
        account = state.create_user(body.username, body.password, body.role, body.scope_kind, body.scope_code)
    except AccountError as exc:
        raise _account_error(exc) from None
    _record(state, user, "user.create", account, request)
    return _out(account)


@router.patch("/users/{username}", response_model=UserOut, dependencies=[requires("admin")])
def change_user(
    username: Username,
    body: UserChange,
    user: CurrentUser,
    request: Request,
    state: StateDep,
    engine: EngineDep,
) -> UserOut:
    """Change role, scope or disabled; disabling ends the account's sessions at once."""
    before = state.account(username)
    if before is None:
        raise HTTPException(404, f"no user {username!r}: check the name in the list of users")
    kind = body.scope_kind or before.scope_kind
    code = body.scope_code or before.scope_code
    try:
        check_account(username, body.role or before.role, kind, code)
        if body.scope_kind or body.scope_code:
            _check_scope_exists(engine, kind, code)
        account = state.update_user(
            username,
            role=body.role,
            scope_kind=body.scope_kind,
            scope_code=body.scope_code,
            disabled=body.disabled,
        )
    except AccountError as exc:
        raise _account_error(exc) from None
    changes = {
        k: [getattr(before, k), getattr(account, k)] for k in ("role", "scope_kind", "scope_code", "disabled")
    }
    _record(state, user, "user.change", account, request, {k: v for k, v in changes.items() if v[0] != v[1]})
    return _out(account)


@router.post("/users/{username}/password", status_code=204, dependencies=[requires("admin")])
def reset_password(
    username: Username, body: NewPassword, user: CurrentUser, request: Request, state: StateDep
) -> None:
    """Set a new password (tell the user by another channel); the account's sessions end."""
    try:
        keep = request.cookies.get(SESSION_COOKIE) if username == user.username else None
        state.set_password(username, body.password, keep_token=keep)
    except AccountError as exc:
        raise _account_error(exc) from None
    account = state.account(username)
    assert account is not None
    _record(state, user, "user.password_reset", account, request)


@router.post("/users/{username}/logout", response_model=UserOut, dependencies=[requires("admin")])
def end_sessions(username: Username, user: CurrentUser, request: Request, state: StateDep) -> UserOut:
    """End every session of the account (a lost laptop, a shared screen)."""
    if state.account(username) is None:
        raise HTTPException(404, f"no user {username!r}: check the name in the list of users")
    ended = state.logout_everywhere(username)
    account = state.account(username)
    assert account is not None
    _record(state, user, "user.logout_everywhere", account, request, {"sessions": ended})
    return _out(account)


def _record(
    state: AppState,
    user: CurrentUser,
    action: str,
    account: Account,
    request: Request,
    detail: dict[str, object] | None = None,
) -> None:
    audit.record(
        state,
        user,
        action,
        account.username,
        {"role": account.role, "scope": f"{account.scope_kind} {account.scope_code}", **(detail or {})},
        request,
    )
