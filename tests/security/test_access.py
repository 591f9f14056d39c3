"""Every route, walked from the app itself: no session → 401, a role the route does not name → 403.

Routes added later are covered without being listed here.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from provista.api.state import ROLES
from tests.security.conftest import ROLE_USER, concrete, declarations
from tests.security.test_declarations import OPEN


def test_every_route_without_a_session_is_401(sec_app: FastAPI) -> None:
    anonymous = TestClient(sec_app)
    tried = 0
    for (method, path), _ in sorted(declarations(sec_app).items()):
        if (method, path) in OPEN:
            continue
        body = {} if method in ("POST", "PUT", "PATCH") else None
        r = anonymous.request(method, concrete(path), json=body)
        assert r.status_code == 401, f"{method} {path}: {r.status_code} {r.text[:200]}"
        assert "log in" in r.json()["detail"]
        tried += 1
    assert tried > 30


def test_a_session_that_expired_is_401(sec_app: FastAPI) -> None:
    state = sec_app.state.app_state
    made = state.login("hangzhou", "provista-hangzhou-demo", hours=-0.01, client_ip="testclient")
    assert made is not None
    client = TestClient(sec_app, cookies={"provista_session": made.token})
    assert client.get("/api/auth/me").status_code == 401
    assert client.get("/api/overview/kpis").status_code == 401
    assert client.get("/api/auth/session").json() == {"user": None}


def test_every_role_a_route_does_not_name_is_403(sec_app: FastAPI, clients: dict[str, TestClient]) -> None:
    refused = 0
    for (method, path), marks in sorted(declarations(sec_app).items()):
        if (method, path) in OPEN:
            continue
        allowed = set(marks[0].roles)
        for role in set(ROLES) - allowed:
            body = {} if method in ("POST", "PUT", "PATCH") else None
            r = clients[role].request(method, concrete(path), json=body)
            assert r.status_code == 403, f"{ROLE_USER[role]} ({role}) {method} {path}: {r.status_code}"
            refused += 1
    assert refused > 100  # seven roles over every route: most pairs are refusals


def test_refusals_are_in_the_audit_log(sec_app: FastAPI, clients: dict[str, TestClient]) -> None:
    from provista.api import audit

    assert clients["public"].get("/api/quality/hospitals").status_code == 403
    _, events = audit.search(sec_app.state.app_state, username="public", action="access.denied", limit=5)
    assert events and events[0].target == "/api/quality/hospitals" and events[0].outcome == "denied"
    assert events[0].client_ip == "testclient" and events[0].role == "public"
