"""What every route depends on: the warehouse, the app state, and who is asking (with their scope)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from provista.api import audit
from provista.api.audit import PURPOSE_HEADER, purpose_of
from provista.api.state import PATIENT_ROLES, AppState, Principal
from provista.engine import DuckDBEngine

SESSION_COOKIE = "provista_session"
CSRF_COOKIE = "provista_csrf"  # readable by the pages, which echo it in CSRF_HEADER on every change
CSRF_HEADER = "X-CSRF-Token"


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


def open_to_all(reason: str) -> Any:
    """Declare a route that needs no session (logging in, asking whether one is logged in, logging out).

    The security tests list these routes by name: a new one must be added there, on purpose.
    """

    def check() -> None:
        return None

    check.open_reason = reason  # type: ignore[attr-defined]
    return Depends(check)


def requires_patient_access(*roles: str) -> Any:
    """Declare a patient-level route: a clinical or research role, a stated purpose, and an audit record.

    ``dependencies=[requires_patient_access()]`` (clinician and researcher) or name the roles. The purpose
    comes in the ``X-Provista-Purpose`` header (or a ``purpose`` query parameter): 4–300 characters saying
    why, e.g. "treatment: follow-up of admission 2024-031". Every read is written to the audit log with
    who, when, from where, the purpose, and the path and query asked for; a refusal is recorded too.
    """
    allowed = roles or PATIENT_ROLES

    def check(request: Request, user: CurrentUser, state: StateDep) -> Principal:
        if user.role not in allowed:  # refusals are recorded by the guard (provista.api.guard)
            raise HTTPException(
                403, f"patient-level data needs the {' or '.join(allowed)} role; yours is {user.role}"
            )
        if len(purpose_of(request)) < 4:
            raise HTTPException(
                403,
                f"state why you need this patient's data: send the {PURPOSE_HEADER} header "
                "(e.g. 'treatment: follow-up visit'); it is kept in the audit log",
            )
        detail = {"method": request.method, "query": dict(request.query_params)}
        audit.record(state, user, "patient.read", request.url.path, detail, request)
        return user

    check.roles = allowed  # type: ignore[attr-defined]
    check.patient_level = True  # type: ignore[attr-defined]
    return Depends(check)
