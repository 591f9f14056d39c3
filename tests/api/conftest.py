"""An app on the tiny province's warehouse, with the demo accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from provista.api.app import create_app

PASSWORDS = {"admin": "provista-admin-demo", "hangzhou": "provista-hangzhou-demo",
             "ningbo_hospital": "provista-ningbo-demo", "public": "provista-public-demo"}  # fmt: skip


@pytest.fixture(scope="session")
def app(warehouse: Path, app_db: str):  # type: ignore[no-untyped-def]
    return create_app(warehouse, app_db)


def login(app, username: str) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    r = client.post("/api/auth/login", json={"username": username, "password": PASSWORDS[username]})
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.cookies["provista_csrf"]  # as the pages send it on every change
    return client


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    yield TestClient(app)
