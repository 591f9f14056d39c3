"""Log in, see who you are, log out."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel

from provista.api.deps import SESSION_COOKIE, CurrentUser, StateDep

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Credentials(BaseModel):
    username: str
    password: str


class Me(BaseModel):
    username: str
    role: str
    scope_kind: str
    scope_code: str


@router.post("/login", response_model=Me)
def login(body: Credentials, request: Request, response: Response, state: StateDep) -> Me:
    hours = request.app.state.session_hours
    token = state.login(body.username, body.password, hours)
    if token is None:
        raise HTTPException(401, "wrong user name or password")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    principal = state.principal(token)
    assert principal is not None
    return Me(**principal.__dict__)


@router.get("/me", response_model=Me)
def me(user: CurrentUser) -> Me:
    return Me(**user.__dict__)


class SessionInfo(BaseModel):
    user: Me | None


@router.get("/session", response_model=SessionInfo)
def session(request: Request, state: StateDep) -> SessionInfo:
    """Who is logged in on this browser, if anyone (200 either way: the pages ask before logging in)."""
    principal = state.principal(request.cookies.get(SESSION_COOKIE))
    return SessionInfo(user=Me(**principal.__dict__) if principal else None)


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, state: StateDep) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        state.logout(token)
    response.delete_cookie(SESSION_COOKIE)
