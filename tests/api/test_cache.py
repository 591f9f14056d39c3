"""The dashboard answer cache (api/cache.py): shared by role and scope, never across them, never without
a live session, emptied by a change to the alerts, bypassed by ``Cache-Control: no-cache``."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from provista.api.app import create_app
from provista.api.serve import seed_demo_users
from provista.api.state import AppState
from tests.api.conftest import login

URL = "/api/map/metric?metric=visits_per_10k&level=city"


@pytest.fixture
def fresh(warehouse: Path, tmp_path: Path) -> FastAPI:
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    seed_demo_users(AppState(url), warehouse)
    return create_app(warehouse, url)


def test_an_answer_is_computed_once_per_role_and_scope(fresh: FastAPI) -> None:
    admin, hangzhou = login(fresh, "admin"), login(fresh, "hangzhou")
    first, again = admin.get(URL), admin.get(URL)
    assert first.headers["X-Provista-Cache"] == "miss" and again.headers["X-Provista-Cache"] == "hit"
    assert first.json() == again.json() and again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert again.headers["X-Frame-Options"] == "DENY"  # a hit still passes the guard
    other_admin = login(fresh, "admin")  # another session, same role and scope: shared
    assert other_admin.get(URL).headers["X-Provista-Cache"] == "hit"
    city = hangzhou.get(URL)
    assert city.headers["X-Provista-Cache"] == "miss"  # another scope never gets the province's answer
    assert {r["code"][:4] for r in city.json()} == {"3301"}
    assert len({r["code"] for r in admin.get(URL).json()}) == 11
    fresh_answer = admin.get(URL, headers={"Cache-Control": "no-cache"})
    assert fresh_answer.headers["X-Provista-Cache"] == "miss" and fresh_answer.json() == first.json()


def test_no_session_no_answer_even_when_cached(fresh: FastAPI) -> None:
    admin = login(fresh, "admin")
    assert admin.get(URL).status_code == 200
    assert admin.post("/api/auth/logout").status_code in (200, 204)
    assert admin.get(URL).status_code == 401
    stranger = login(fresh, "public")
    stranger.cookies.set("provista_session", "forged")
    assert stranger.get(URL).status_code == 401


def test_a_change_to_an_alert_empties_the_cache(fresh: FastAPI) -> None:
    admin = login(fresh, "admin")
    before = admin.get("/api/alerts/count").json()
    assert admin.get("/api/overview/kpis").headers["X-Provista-Cache"] == "miss"
    assert admin.get("/api/overview/kpis").headers["X-Provista-Cache"] == "hit"
    alert = admin.get("/api/alerts", params={"status": "new", "page_size": 1}).json()["items"][0]
    changed = admin.patch(f"/api/alerts/{alert['alert_id']}", json={"status": "dismissed", "note": "test"})
    assert changed.status_code == 200, changed.text
    assert len(fresh.state.response_cache) == 0
    after = admin.get("/api/overview/kpis")
    assert after.headers["X-Provista-Cache"] == "miss"
    assert admin.get("/api/alerts/count").json() != before


def test_the_cache_can_be_turned_off(warehouse: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    seed_demo_users(AppState(url), warehouse)
    off = create_app(warehouse, url, cache_seconds=0)
    admin = login(off, "admin")
    admin.get(URL)
    assert "X-Provista-Cache" not in admin.get(URL).headers and len(off.state.response_cache) == 0
