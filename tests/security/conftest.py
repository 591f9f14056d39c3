"""An app on the tiny province with its own app-state database: the demo accounts plus one account for
each role the demo lacks (clinician, researcher, auditor), so every role can be tried on every route."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.testclient import TestClient

from provista.api.app import create_app
from provista.api.serve import seed_demo_users
from provista.api.state import AppState
from provista.engine import DuckDBEngine
from tests.api.conftest import PASSWORDS as DEMO_PASSWORDS
from tests.postgres import NO_POSTGRES, PostgresServer, server_binaries

PASSWORDS = {
    **DEMO_PASSWORDS,
    "dr_zhang": "clinician-test-passphrase",
    "researcher": "researcher-test-passphrase",
    "inspector": "auditor-test-passphrase",
}
ROLE_USER = {"admin": "admin", "analyst": "hangzhou", "hospital": "ningbo_hospital", "public": "public",
             "clinician": "dr_zhang", "researcher": "researcher", "auditor": "inspector"}  # fmt: skip


def seed(url: str, warehouse: Path) -> None:
    state = AppState(url)
    seed_demo_users(state, warehouse)
    state.add_user("dr_zhang", PASSWORDS["dr_zhang"], "clinician", "hospital", hangzhou_hospital(warehouse))
    state.add_user("researcher", PASSWORDS["researcher"], "researcher", "province", "330000")
    state.add_user("inspector", PASSWORDS["inspector"], "auditor", "province", "330000")


def hangzhou_hospital(warehouse: Path) -> str:
    with DuckDBEngine(warehouse, read_only=True) as engine:
        found = engine.frame("SELECT min(hospital_id) AS h FROM hospital WHERE city_code = '330100'")
    return str(found["h"].iloc[0])


@pytest.fixture(scope="session")
def sec_db(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('security') / 'app.sqlite'}"
    seed(url, warehouse)
    return url


@pytest.fixture(scope="session")
def sec_app(warehouse: Path, sec_db: str) -> FastAPI:
    return create_app(warehouse, sec_db)


@pytest.fixture
def fresh_app(warehouse: Path, tmp_path: Path) -> FastAPI:
    """An app with an app-state database of its own (for tests that lock accounts or tamper with it)."""
    return seeded_app(warehouse, f"sqlite:///{tmp_path / 'app.sqlite'}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session (started once, about 2 s); skips when there is none."""
    binaries = server_binaries()
    if binaries is None:
        pytest.skip(NO_POSTGRES)
    server = PostgresServer(binaries)
    try:
        server.start()
        yield server
    finally:
        server.stop()  # also after a failed start: no server left running, no directory left behind


@pytest.fixture(params=["sqlite", "postgresql"])
def each_app_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty app-state database on SQLite (one process) and on PostgreSQL (many), in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def app_on_each_db(warehouse: Path, each_app_db: str) -> FastAPI:
    """As ``fresh_app``, once with the app state in SQLite and once in PostgreSQL."""
    return seeded_app(warehouse, each_app_db)


def seeded_app(warehouse: Path, url: str) -> FastAPI:
    seed(url, warehouse)
    return create_app(warehouse, url)


def signin(app: FastAPI, username: str, password: str | None = None, **client: Any) -> TestClient:
    """A client logged in as ``username``, sending its CSRF token on every request as the pages do."""
    c = TestClient(app, **client)
    r = c.post("/api/auth/login", json={"username": username, "password": password or PASSWORDS[username]})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.cookies["provista_csrf"]
    return c


def declarations(app: FastAPI) -> dict[tuple[str, str], Any]:
    """(method, path template) → the declaring dependency (its ``roles``, ``open_reason``,
    ``patient_level``) of every /api route."""
    found = {}
    # FastAPI 0.165 keeps included routers lazy: iter_route_contexts yields their effective routes.
    walk = getattr(fastapi_routing, "iter_route_contexts", None)
    for route in walk(app.routes) if walk else app.routes:
        path, dependencies = getattr(route, "path", None), getattr(route, "dependencies", None)
        if path and path.startswith("/api/") and dependencies is not None:
            marks = [d.dependency for d in dependencies if _declares(d.dependency)]
            for method in route.methods or ():
                found[(method, path)] = marks
    return found


def _declares(dependency: Any) -> bool:
    return hasattr(dependency, "roles") or hasattr(dependency, "open_reason")


def concrete(path: str, values: dict[str, str] | None = None) -> str:
    """A path template with its parameters filled (``x`` where no value is given)."""
    return re.sub(r"\{([^}]+)\}", lambda m: (values or {}).get(m.group(1), "x"), path)


@pytest.fixture(scope="session")
def clients(sec_app: FastAPI) -> Iterator[dict[str, TestClient]]:
    """One logged-in client per role."""
    yield {role: signin(sec_app, user) for role, user in ROLE_USER.items()}
