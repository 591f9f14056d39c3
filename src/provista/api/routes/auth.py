"""Log in, see who you are, change your password, log out here or everywhere.

Log-ins are limited: too many failures for an account or from an address answer 429 with Retry-After,
before the password is even checked. Every log-in, failed or not, and every log-out is in the audit log.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from provista.api import audit
from provista.api.audit import client_ip
from provista.api.deps import CSRF_COOKIE, SESSION_COOKIE, CurrentUser, StateDep, open_to_all, requires
from provista.api.state import ROLES, AccountError, LockedOut

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Credentials(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class Me(BaseModel):
    username: str
    role: str
    scope_kind: str
    scope_code: str


@router.post(
    "/login",
    response_model=Me,
    dependencies=[open_to_all("logging in")],
    responses={401: {"description": "wrong user name or password"}, 429: {"description": "locked out"}},
)
def login(body: Credentials, request: Request, response: Response, state: StateDep) -> Me:
    hours = request.app.state.session_hours
    ip = client_ip(request)
    try:
        made = state.login(body.username, body.password, hours, ip)
    except LockedOut as exc:
        audit.record(
            state,
            body.username,
            "login.locked",
            body.username,
            {"why": exc.message},
            request,
            outcome="denied",
        )
        minutes = max(1, -(-exc.retry_after // 60))
        raise HTTPException(
            429,
            f"{exc.message}: try again in {minutes} minute(s)",
            headers={"Retry-After": str(exc.retry_after)},
        ) from None
    if made is None:
        audit.record(state, body.username, "login.failed", body.username, None, request, outcome="failed")
        raise HTTPException(401, "wrong user name or password")
    principal = state.principal(made.token)
    assert principal is not None
    audit.record(state, principal, "login", principal.username, None, request)
    secure = request.url.scheme == "https"
    age = int(hours * 3600)
    response.set_cookie(
        SESSION_COOKIE, made.token, max_age=age, httponly=True, samesite="strict", secure=secure
    )
    response.set_cookie(CSRF_COOKIE, made.csrf, max_age=age, httponly=False, samesite="strict", secure=secure)
    return Me(**principal.__dict__)


@router.get("/me", response_model=Me, dependencies=[requires(*ROLES)])
def me(user: CurrentUser) -> Me:
    return Me(**user.__dict__)


class SessionInfo(BaseModel):
    user: Me | None


@router.get("/session", response_model=SessionInfo, dependencies=[open_to_all("asking whether logged in")])
def session(request: Request, state: StateDep) -> SessionInfo:
    """Who is logged in on this browser, if anyone (200 either way: the pages ask before logging in)."""
    principal = state.principal(request.cookies.get(SESSION_COOKIE))
    return SessionInfo(user=Me(**principal.__dict__) if principal else None)


@router.post("/logout", status_code=204, dependencies=[open_to_all("logging out")])
def logout(request: Request, response: Response, state: StateDep) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        principal = state.principal(token)
        state.logout(token)
        if principal is not None:
            audit.record(state, principal, "logout", principal.username, None, request)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)


class Ended(BaseModel):
    sessions_ended: int


@router.post("/logout-everywhere", response_model=Ended, dependencies=[requires(*ROLES)])
def logout_everywhere(user: CurrentUser, request: Request, response: Response, state: StateDep) -> Ended:
    """End every session of this account: this browser, other browsers, other devices."""
    ended = state.logout_everywhere(user.username)
    audit.record(state, user, "logout.everywhere", user.username, {"sessions": ended}, request)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return Ended(sessions_ended=ended)


class PasswordChange(BaseModel):
    current: str = Field(max_length=1024)
    new: str = Field(max_length=1024)


@router.post("/password", status_code=204, dependencies=[requires(*ROLES)])
def change_password(body: PasswordChange, user: CurrentUser, request: Request, state: StateDep) -> None:
    """Change your own password (the current one first); your other sessions end, this one stays."""
    if not state.verify_password(user.username, body.current):
        audit.record(state, user, "password.change", user.username, None, request, outcome="failed")
        raise HTTPException(403, "the current password is wrong")
    try:
        state.set_password(user.username, body.new, keep_token=request.cookies.get(SESSION_COOKIE))
    except AccountError as exc:
        raise HTTPException(422, f"{exc.message} ({exc.hint})") from None
    audit.record(state, user, "password.change", user.username, None, request)
