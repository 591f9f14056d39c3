"""Every API route says who may call it, on the route itself; the few open ones are named here on purpose."""

from __future__ import annotations

from fastapi import FastAPI

from provista.api.state import PATIENT_ROLES, ROLES
from tests.security.conftest import declarations

# The only routes that need no session. Adding one is a decision: add it here, with its reason in the code.
OPEN = {("POST", "/api/auth/login"), ("GET", "/api/auth/session"), ("POST", "/api/auth/logout")}
# Paths that name a person reach patient-level data: they must use requires_patient_access.
PATIENT_WORDS = ("/patient", "/person", "/timeline", "/cohort", "/encounter")


def test_every_api_route_declares_its_roles(sec_app: FastAPI) -> None:
    found = declarations(sec_app)
    assert len(found) > 30  # the walk sees the routes (a refactor that hid them would pass vacuously)
    missing = sorted(k for k, marks in found.items() if not marks)
    assert not missing, f"routes without requires(...) / open_to_all(...): {missing}"
    doubled = sorted(k for k, marks in found.items() if len(marks) > 1)
    assert not doubled, f"routes with more than one declaration: {doubled}"
    opened = {k for k, marks in found.items() if hasattr(marks[0], "open_reason")}
    assert opened == OPEN, f"open routes changed: {sorted(opened ^ OPEN)}"
    for key, (mark,) in found.items():
        if key not in OPEN:
            roles = set(mark.roles)
            assert roles and roles <= set(ROLES), f"{key}: unknown roles {sorted(roles - set(ROLES))}"


def test_patient_level_routes_need_a_clinical_or_research_role(sec_app: FastAPI) -> None:
    for (method, path), (mark,) in declarations(sec_app).items():
        if getattr(mark, "patient_level", False):
            assert set(mark.roles) <= set(PATIENT_ROLES), f"{method} {path}: {mark.roles}"
        elif any(word in path for word in PATIENT_WORDS):
            raise AssertionError(f"{method} {path} looks patient-level: use requires_patient_access()")


def test_public_and_auditor_roles_reach_no_account_or_audit_route(sec_app: FastAPI) -> None:
    for (method, path), (mark,) in declarations(sec_app).items():
        if path.startswith("/api/admin/"):
            assert set(mark.roles) == {"admin"}, f"{method} {path}"
        if path.startswith("/api/audit/"):
            assert set(mark.roles) == {"admin", "auditor"}, f"{method} {path}"
        if hasattr(mark, "roles") and "auditor" in mark.roles:
            assert path.startswith(("/api/audit/", "/api/auth/")), f"the auditor reads the log only: {path}"
