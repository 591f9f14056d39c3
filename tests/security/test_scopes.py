"""Scopes hold on every route that takes a region or a hospital, found by walking the OpenAPI spec.

A city analyst (hangzhou, 3301) tries every other city's code and a county of each, and every hospital
outside Hangzhou; a hospital user (ningbo_hospital) tries every city and every other hospital. Each answer
must be a refusal (403, or 404 / 422 for nothing to show) or a success that holds no region code and no
hospital id from outside the user's scope.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from provista.engine import DuckDBEngine
from tests.security.conftest import declarations
from tests.security.scoping import (
    HOSPITAL_PARAMS,
    REGION_PARAMS,
    SCOPE_WORDS,
    Operation,
    fill,
    foreign,
    operations,
)

REFUSED = {403, 404, 422}
# Public geography (the outline of every city, to draw the province): shapes and names, no figures.
GEOGRAPHY = {"/api/map/boundaries"}
# Fields that describe an in-scope row rather than place it: a patient flow is a visit to a hospital in
# scope (its target); where the patient lives (its source) may be anywhere.
ATTRIBUTES = {"/api/surveillance/flows": {"source", "source_zh", "source_en"}}


def _rows(op: Operation, payload: Any) -> Any:
    """The response without the fields that are attributes of in-scope rows (ATTRIBUTES)."""
    drop = ATTRIBUTES.get(op.path, set())
    if isinstance(payload, list):
        return [_rows(op, v) for v in payload]
    if isinstance(payload, dict):
        return {k: _rows(op, v) for k, v in payload.items() if k not in drop}
    return payload


@pytest.fixture(scope="module")
def province(warehouse: Path) -> dict[str, Any]:
    with DuckDBEngine(warehouse, read_only=True) as engine:
        cities = engine.frame("SELECT code FROM region WHERE level = 'prefecture' ORDER BY code")
        cities = cities["code"].tolist()
        counties = engine.frame("SELECT code, parent_code FROM region WHERE level = 'county' ORDER BY code")
        hospitals = engine.frame("SELECT hospital_id, county_code, city_code FROM hospital ORDER BY 1")
    return {"cities": cities, "counties": counties, "hospitals": hospitals}


def _allowed(app: FastAPI, op: Operation, role: str) -> bool:
    marks = declarations(app).get((op.method, op.path))
    return bool(marks) and role in getattr(marks[0], "roles", ())


def _try(
    client: TestClient,
    op: Operation,
    own: dict[str, str],
    param: str,
    value: str,
    region_ok: Callable[[str], bool],
    hospital_ok: Callable[[str], bool],
) -> str | None:
    """None when the answer keeps to the scope, else what went wrong."""
    path, query = fill(op, own, **{param: value})
    r = client.request(op.method, path, params=query)
    if r.status_code in REFUSED:
        return None
    if r.status_code >= 300:
        return f"{op} {param}={value}: {r.status_code} {r.text[:200]}"
    if op.path in GEOGRAPHY:
        return None
    leaked = foreign(_rows(op, r.json()), region_ok, hospital_ok)
    return f"{op} {param}={value}: rows of {sorted(leaked)[:5]}" if leaked else None


def test_scope_parameters_are_known(sec_app: FastAPI) -> None:
    """A parameter named like a region or hospital must be one the scope tests try."""
    unknown = [
        f"{op} {p.name}"
        for op in operations(sec_app)
        for p in op.params
        if any(w in p.name.lower() for w in SCOPE_WORDS) and p.name not in REGION_PARAMS | HOSPITAL_PARAMS
    ]
    assert not unknown, f"add to REGION_PARAMS or HOSPITAL_PARAMS (tests/security/scoping.py): {unknown}"


def test_a_city_analyst_tries_every_other_city_and_hospital(
    sec_app: FastAPI, clients: dict[str, TestClient], province: dict[str, Any]
) -> None:
    client = clients["analyst"]  # hangzhou: city 330100
    counties = province["counties"]
    own = {"region": "330100", "county": counties[counties["parent_code"] == "330100"]["code"].iloc[0]}
    own_hospitals = province["hospitals"][province["hospitals"]["city_code"] == "330100"]["hospital_id"]
    own["hospital"] = own_hospitals.iloc[0]
    other_cities = [c for c in province["cities"] if c != "330100"]
    elsewhere = counties[counties["parent_code"] != "330100"]
    other_counties = elsewhere.groupby("parent_code")["code"].first().tolist()
    hospitals = province["hospitals"]
    other_hospitals = hospitals[hospitals["city_code"] != "330100"]["hospital_id"].tolist()
    assert len(other_cities) == 10 and len(other_counties) == 10 and other_hospitals

    def region_ok(code: str) -> bool:
        return code.startswith("3301") or code == "330000"

    def hospital_ok(h: str) -> bool:
        return h[1:5] == "3301"

    problems, tried, baseline = [], 0, []
    for op in operations(sec_app):
        if not _allowed(sec_app, op, "analyst"):
            continue
        for p in op.params:
            if p.name in REGION_PARAMS:
                codes = other_counties if p.name == "county" else other_cities + other_counties
                if p.name == "parent":
                    codes = other_cities
                mine = own["county"] if p.name == "county" else own["region"]
            elif p.name in HOSPITAL_PARAMS:
                codes, mine = other_hospitals, own["hospital"]
            else:
                continue
            path, query = fill(op, own, **{p.name: mine})
            baseline.append((str(op), p.name, client.request(op.method, path, params=query).status_code))
            for code in codes:
                problems.append(_try(client, op, own, p.name, code, region_ok, hospital_ok))
                tried += 1
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems[:20])
    assert tried > 200, tried
    # Inside its own scope the same calls succeed: the refusals above are about scope, not bad requests.
    failing = [b for b in baseline if b[2] != 200]
    assert not failing, failing


def test_a_hospital_user_tries_every_city_and_every_other_hospital(
    sec_app: FastAPI, clients: dict[str, TestClient], province: dict[str, Any]
) -> None:
    client = clients["hospital"]
    me = client.get("/api/auth/me").json()
    hospitals = province["hospitals"].set_index("hospital_id")
    mine = me["scope_code"]
    county, city = hospitals.loc[mine, "county_code"], hospitals.loc[mine, "city_code"]
    own = {"region": city, "county": county, "hospital": mine}
    others = [h for h in hospitals.index if h != mine]

    def region_ok(code: str) -> bool:
        return code in ("330000", city, county)

    def hospital_ok(h: str) -> bool:
        return h == mine

    problems, tried = [], 0
    for op in operations(sec_app):
        if not _allowed(sec_app, op, "hospital"):
            continue
        for p in op.params:
            if p.name in REGION_PARAMS:  # a hospital account is refused any region: a county a city will do
                counties = province["counties"].groupby("parent_code")["code"].first().tolist()
                codes = list(province["cities"]) + counties
            elif p.name in HOSPITAL_PARAMS:
                codes = others
            else:
                continue
            for code in codes:
                problems.append(_try(client, op, own, p.name, code, region_ok, hospital_ok))
                tried += 1
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems[:20])
    assert tried > 200, tried


def test_without_parameters_a_scoped_user_sees_only_their_rows(
    sec_app: FastAPI, clients: dict[str, TestClient]
) -> None:
    """Every GET route the user may call, with only its required parameters: nothing from outside."""
    checks = {
        "analyst": (lambda c: c.startswith("3301") or c == "330000", lambda h: h[1:5] == "3301"),
    }
    for role, (region_ok, hospital_ok) in checks.items():
        client = clients[role]
        seen = 0
        for op in operations(sec_app):
            if op.method != "GET" or not _allowed(sec_app, op, role) or op.path in GEOGRAPHY:
                continue
            path, query = fill(op, {"region": "330100", "county": "330102", "hospital": ""})
            r = client.get(path, params=query)
            if r.status_code == 200 and r.headers["content-type"].startswith("application/json"):
                leaked = foreign(_rows(op, r.json()), region_ok, hospital_ok)
                assert not leaked, f"{role} {op}: {sorted(leaked)[:5]}"
                seen += 1
        assert seen > 10
