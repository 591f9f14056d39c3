"""What every route depends on: the warehouse, the app state, and who is asking (with their scope)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from provista.api.state import AppState, Principal
from provista.engine import DuckDBEngine

SESSION_COOKIE = "provista_session"


def get_engine(request: Request) -> DuckDBEngine:
    engine: DuckDBEngine = request.app.state.engine
    return engine


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.app_state
    return state


def current_user(request: Request, state: Annotated[AppState, Depends(get_state)]) -> Principal:
    principal = state.principal(request.cookies.get(SESSION_COOKIE))
    if principal is None:
        raise HTTPException(401, "not logged in, or the session expired: log in again")
    return principal


EngineDep = Annotated[DuckDBEngine, Depends(get_engine)]
StateDep = Annotated[AppState, Depends(get_state)]
CurrentUser = Annotated[Principal, Depends(current_user)]


def region_filter(
    user: Principal, county_column: str, hospital_column: str | None = None
) -> tuple[str, list[Any]]:
    """SQL condition (and parameters) that keeps only the rows in the user's scope.

    Applied in every query: a city analyst never receives another city's rows. A hospital user sees
    their hospital's rows only; where a table has no hospital column, nothing.
    """
    if user.hospital is not None:
        if hospital_column is None:
            return "FALSE", []
        return f"{hospital_column} = ?", [user.hospital]
    if user.region_prefix is not None:
        return f"starts_with({county_column}, ?)", [user.region_prefix]
    return "TRUE", []


def check_region(user: Principal, code: str | None) -> None:
    """A region asked for must lie inside the user's scope (403 otherwise)."""
    if code is None:
        return
    if user.hospital is not None:
        raise HTTPException(403, f"your account sees hospital {user.hospital} only, not region {code}")
    prefix = user.region_prefix
    if prefix is not None and not (code.startswith(prefix) or prefix.startswith(code.rstrip("0"))):
        raise HTTPException(403, f"region {code} is outside your scope ({user.scope_code})")


def narrow(user: Principal, code: str | None) -> str | None:
    """The county-code prefix to filter by: the region asked for, within the user's scope."""
    check_region(user, code)
    asked = _prefix(code) if code else None
    own = user.region_prefix
    if asked is None:
        return own
    if own is None:
        return asked
    return asked if len(asked) >= len(own) else own


def _prefix(code: str) -> str:
    """330000 → 33, 330100 → 3301, 330106 → 330106."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def requires(*roles: str) -> Any:
    """Declare, on the route itself, which roles may call it: ``dependencies=[requires("admin", "analyst")]``.

    Every route declares one (the security tests fail on a route without). The user's region or hospital
    scope still applies inside the route, through ``region_filter`` / ``narrow``.
    """

    def check(user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise HTTPException(403, f"the {user.role} role may not use this page or endpoint")
        return user

    check.roles = roles  # type: ignore[attr-defined]  # read by the route-declaration test
    return Depends(check)
