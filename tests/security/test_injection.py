"""SQL injection and path traversal in every text parameter and body field, found from the OpenAPI spec.

Every answer must be a clean refusal or a success; never a 500, never a database error or a file's content
in the body. A success must not widen what the request sees: an injected filter returns what a filter
value that matches nothing returns (the same body, once each value is blanked), and a city analyst still
gets no row from another city.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from provista.api.app import create_app
from provista.api.deps import CurrentUser, EngineDep, region_filter, requires
from tests.security.conftest import declarations, seed, signin
from tests.security.scoping import Operation, fill, foreign, operations
from tests.security.test_scopes import GEOGRAPHY, _rows

SQL = [
    "' OR '1'='1",
    "330100' OR '1'='1' --",
    "'; DROP TABLE hospital; --",
    '" OR ""="',
    "1) OR (1=1",
    "%' OR 1=1 --",
    "%",
    "_",
    "' UNION SELECT hospital_id, name_zh, name_en FROM hospital --",
    "33%",
    "\\' OR 1=1 --",
]
TRAVERSAL = [
    "../../../../../../etc/passwd",
    "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "....//....//....//etc/passwd",
    "/etc/passwd",
    "..\\..\\..\\..\\windows\\win.ini",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "file:///etc/passwd",
    "x\x00y",
]
NEUTRAL = "provista-no-such-value"
ACCEPTED = {200, 201, 204, 400, 403, 404, 409, 422}
# Text that must never reach a client: a file's content, a stack trace, the database's own errors.
LEAKS = ["root:x:0:0", "[fonts]", "Traceback", "duckdb", "sqlite", "Binder Error", "Parser Error",
         "Catalog Error", "syntax error", "sqlalchemy"]  # fmt: skip
# Views of what the tests themselves change (the audit log grows with every refusal): no differential.
CHANGING = ("/api/audit/",)


@pytest.fixture(scope="module")
def inj_app(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    url = f"sqlite:///{tmp_path_factory.mktemp('injection') / 'app.sqlite'}"
    seed(url, warehouse)
    return create_app(warehouse, url)


def _allowed(app: FastAPI, op: Operation, role: str) -> bool:
    marks = declarations(app).get((op.method, op.path))
    return bool(marks) and role in getattr(marks[0], "roles", ())


def _blank(payload: Any, values: tuple[str, ...]) -> Any:
    """``payload`` with each of ``values`` replaced, wherever a string holds it (echoed filters)."""
    if isinstance(payload, str):
        for v in values:
            payload = payload.replace(v, "<v>")
        return payload
    if isinstance(payload, list):
        return [_blank(v, values) for v in payload]
    if isinstance(payload, dict):
        return {_blank(k, values): _blank(v, values) for k, v in payload.items()}
    return payload


def _neutral(value: str) -> str:
    """A value that matches nothing and passes the same scope checks: the payload's leading code, then
    ``NEUTRAL`` ("330100' OR '1'='1" → "330100-provista-no-such-value")."""
    lead = re.match(r"[0-9A-Za-z]*", value)
    return f"{lead.group(0) if lead else ''}-{NEUTRAL}".lstrip("-")


def _body(r: Any) -> Any:
    try:
        return r.json()
    except ValueError:
        return r.text


def _call(client: TestClient, op: Operation, own: dict[str, str], name: str, value: str, where: str) -> Any:
    if where == "body":
        path, query = fill(op, own)
        assert op.body is not None
        body = _example_body(op.body)
        body[name] = value
        return client.request(op.method, path, params=query, json=body)
    path, query = fill(op, own, **{name: quote(value, safe="") if where == "path" else value})
    return client.request(op.method, path, params=query)


def _example_body(schema: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, prop in schema.get("properties", {}).items():
        options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
        first = options[0] if options else {}
        if "enum" in first:
            out[key] = first["enum"][0]
        elif first.get("type") == "boolean":
            out[key] = False
        elif first.get("type") in ("integer", "number"):
            out[key] = 1
        elif first.get("type") == "string":
            out[key] = "provista-test"
    return out


def _targets(op: Operation) -> list[tuple[str, str]]:
    """(name, where) of every free-text parameter and body field of ``op``."""
    found = [(p.name, p.where) for p in op.params if p.is_text]
    if op.body:
        for key, prop in op.body.get("properties", {}).items():
            options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
            if any(o.get("type") == "string" and "enum" not in o for o in options):
                found.append((key, "body"))
    return found


def _check(r: Any, what: str) -> list[str]:
    problems = []
    if r.status_code not in ACCEPTED:
        problems.append(f"{what}: {r.status_code} {r.text[:200]}")
    text = r.text.lower()
    problems += [f"{what}: the answer holds {m!r}" for m in LEAKS if m.lower() in text]
    return problems


def probe(client: TestClient, user: str, op: Operation) -> tuple[int, list[str]]:
    """Every payload in every text parameter and body field of ``op``: (requests made, problems found)."""
    own = {"region": "330100", "county": "330102", "hospital": ""}
    problems: list[str] = []
    tried = 0
    for name, where in _targets(op):
        neutrals: dict[str, Any] = {}
        for value in SQL + (TRAVERSAL if user == "admin" else []):  # the analyst: scope bypasses
            what = f"{user} {op} {where} {name}={value!r}"
            r = _call(client, op, own, name, value, where)
            tried += 1
            problems += _check(r, what)
            if r.status_code != 200 or op.method != "GET":
                continue
            if user == "hangzhou" and op.path not in GEOGRAPHY:
                leaked = foreign(_rows(op, _body(r)), lambda c: c[:4] == "3301" or c == "330000",
                                 lambda h: h[1:5] == "3301")  # fmt: skip
                if leaked:
                    problems.append(f"{what}: rows of {sorted(leaked)[:5]}")
            if value in SQL and not op.path.startswith(CHANGING):
                plain = _neutral(value)
                if plain not in neutrals:
                    neutrals[plain] = _call(client, op, own, name, plain, where)
                neutral = neutrals[plain]
                if neutral.status_code != 200:
                    problems.append(f"{what}: 200, where {plain!r} got {neutral.status_code}")
                elif _blank(_body(r), (value, plain)) != _blank(_body(neutral), (value, plain)):
                    problems.append(f"{what}: the answer differs from that to a value matching nothing")
    return tried, problems


@pytest.mark.parametrize("user", ["admin", "hangzhou"])
def test_injection_in_every_text_parameter(inj_app: FastAPI, user: str) -> None:
    client = signin(inj_app, user)
    role = client.get("/api/auth/me").json()["role"]
    problems: list[str] = []
    tried = 0
    for op in operations(inj_app):
        if op.path.startswith("/api/auth/logout") or not _allowed(inj_app, op, role):
            continue
        n, found = probe(client, user, op)
        tried, problems = tried + n, problems + found
    assert not problems, "\n".join(problems[:30])
    assert tried > 300, tried


vulnerable = APIRouter(prefix="/api/vulnerable")


@vulnerable.get("/visits", dependencies=[requires("admin", "analyst")])
def vulnerable_visits(
    user: CurrentUser, engine: EngineDep, department: str | None = None
) -> list[dict[str, Any]]:
    """What the probe must catch: a filter pasted into the SQL."""
    where, params = region_filter(user, "h.county_code", "h.hospital_id")
    rows = engine.query(
        f"""SELECT h.hospital_id, sum(v.visits)::DOUBLE AS n FROM mart_visits_daily v
            JOIN hospital h USING (hospital_id)
            WHERE {where} AND v.department = '{department}' GROUP BY 1 ORDER BY 1""",
        params,
    )
    return list(rows.to_dict("records"))


def test_the_probe_finds_a_route_that_formats_sql(warehouse: Path, tmp_path: Path) -> None:
    """A deliberately vulnerable route is caught three ways: the probe can fail."""
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    seed(url, warehouse)
    app = create_app(warehouse, url)
    app.include_router(vulnerable)
    op = next(o for o in operations(app) if o.path == "/api/vulnerable/visits")
    _, admin = probe(signin(app, "admin"), "admin", op)
    assert any("differs from that to a value matching nothing" in p for p in admin), admin
    assert any("the answer holds" in p or ": 500" in p for p in admin), admin  # a lone quote breaks the SQL
    _, analyst = probe(signin(app, "hangzhou"), "hangzhou", op)
    assert any("rows of" in p for p in analyst), analyst  # ' OR '1'='1 escapes the city


@pytest.mark.parametrize("path", [
    "/static/../../../../etc/passwd",
    "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%5c..%5c..%5cetc%5cpasswd",
    "/static/....//....//etc/passwd",
    "/static/../api/state.py",
    "/static/..%2fapi%2fstate.py",
    "/static/js/../../../api/state.py",
    "/static//etc/passwd",
    "/static/%00",
    "/../../etc/passwd",
    "/api/../../etc/passwd",
])  # fmt: skip
def test_no_file_outside_the_static_folder_is_served(inj_app: FastAPI, path: str) -> None:
    r = TestClient(inj_app).get(path)
    assert r.status_code in (400, 404, 405), (path, r.status_code)
    assert "root:x:0:0" not in r.text and "AppState" not in r.text


def test_the_injection_payloads_reach_the_routes(inj_app: FastAPI) -> None:
    """The walk above covers every filter: every GET route with a text parameter is among those tried."""
    with_text = [op for op in operations(inj_app) if any(p.is_text for p in op.params)]
    assert len(with_text) >= 15, [str(o) for o in with_text]
    assert json.dumps(SQL) and all(isinstance(v, str) for v in SQL + TRAVERSAL)
