"""The API: every route needs a session, scopes filter in the query, errors say what to do."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from provista.engine import DuckDBEngine
from tests.api.conftest import login

# Every data route with a valid set of parameters (a new route must be added here to be tested).
ROUTES = [
    "/api/overview/kpis",
    "/api/map/boundaries?level=city",
    "/api/map/metric?metric=visits_per_10k&level=city",
    "/api/map/hospitals?county=330106",
    "/api/trends/visits?by=type",
    "/api/trends/visits?by=department&level=tertiary",
    "/api/trends/facets",
    "/api/trends/heatmap?kind=chapter_week",
    "/api/quality/hospitals",
]


def test_every_route_without_a_session_is_401(app, client: TestClient) -> None:
    """Walks the OpenAPI spec, so that a route added later is covered without being listed here."""
    data_routes = {p for p in app.openapi()["paths"] if p.startswith("/api/") and "auth" not in p}
    assert {re.sub(r"\?.*", "", r) for r in ROUTES} <= data_routes
    for path, methods in app.openapi()["paths"].items():
        if not path.startswith("/api/") or path.startswith("/api/auth/"):
            continue
        for method in methods:
            r = client.request(method.upper(), re.sub(r"\{[^}]+\}", "x", path))
            assert r.status_code == 401, f"{method} {path}"
            assert "log in" in r.json()["detail"]


def test_login_logout_and_wrong_passwords(app) -> None:
    client = TestClient(app)
    bad = client.post("/api/auth/login", json={"username": "admin", "password": "wrong-password!"})
    assert bad.status_code == 401 and bad.json()["detail"] == "wrong user name or password"
    unknown = client.post("/api/auth/login", json={"username": "nobody", "password": "wrong-password!"})
    assert unknown.json() == bad.json()  # no hint that the account exists
    client = login(app, "admin")
    cookie = client.cookies.get("provista_session")
    assert cookie and client.get("/api/auth/me").json()["scope_kind"] == "province"
    assert client.post("/api/auth/logout").status_code == 204
    client.cookies.set("provista_session", cookie)  # the old cookie is dead on the server too
    assert client.get("/api/overview/kpis").status_code == 401


def test_a_city_analyst_never_receives_another_citys_rows(app) -> None:
    client = login(app, "hangzhou")
    cities = client.get("/api/map/metric?level=city").json()
    assert cities and {c["code"] for c in cities} == {"330100"}
    counties = client.get("/api/map/metric?level=county&parent=330100").json()
    assert counties and all(c["code"].startswith("3301") for c in counties)
    for city in (
        "330200",
        "330300",
        "330400",
        "330500",
        "330600",
        "330700",
        "330800",
        "330900",
        "331000",
        "331100",
    ):
        for route in (
            f"/api/map/metric?level=county&parent={city}",
            f"/api/trends/visits?region={city}",
            f"/api/map/boundaries?level=county&parent={city}",
        ):
            r = client.get(route)
            assert r.status_code == 403, route
            assert "outside your scope" in r.json()["detail"]
    hospitals = client.get("/api/quality/hospitals?limit=500").json()["items"]
    assert hospitals and all(h["hospital_id"][1:5] == "3301" for h in hospitals)


def test_a_hospital_user_sees_their_hospital_only(app, warehouse) -> None:
    client = login(app, "ningbo_hospital")
    me = client.get("/api/auth/me").json()
    items = client.get("/api/quality/hospitals").json()["items"]
    assert [h["hospital_id"] for h in items] == [me["scope_code"]]
    assert client.get("/api/map/metric?level=county&parent=330200").status_code == 403
    with DuckDBEngine(warehouse, read_only=True) as engine:
        expected = engine.scalar(
            "SELECT sum(visits) FROM mart_visits_daily WHERE hospital_id = ? AND day = "
            "(SELECT max(day) FROM mart_visits_daily WHERE hospital_id = ?)",
            [me["scope_code"], me["scope_code"]],
        )
    kpis = {k["key"]: k for k in client.get("/api/overview/kpis").json()["kpis"]}
    assert kpis["encounters_today"]["value"] == expected


def test_map_values_are_the_warehouse_figures(app, warehouse) -> None:
    client = login(app, "admin")
    rows = {
        r["code"]: r
        for r in client.get(
            "/api/map/metric?metric=incidence&level=county&parent=330100&from=2020-01-01&to=2030-01-01"
        ).json()
    }
    with DuckDBEngine(warehouse, read_only=True) as engine:
        cases = engine.scalar("SELECT sum(cases) FROM mart_cases_weekly WHERE county_code = '330106'")
        population = engine.scalar("SELECT population FROM region WHERE code = '330106'")
    assert rows["330106"]["numerator"] == cases
    assert abs(rows["330106"]["value"] - cases / population * 1e5) < 1e-9


def test_responses_carry_etags_and_security_headers(app) -> None:
    client = login(app, "admin")
    first = client.get("/api/overview/kpis")
    assert first.headers["etag"] and "no-cache" in first.headers["cache-control"]
    again = client.get("/api/overview/kpis", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    csp = first.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp and first.headers["x-content-type-options"] == "nosniff"


def test_bad_parameters_get_a_message_a_person_can_act_on(app) -> None:
    client = login(app, "admin")
    r = client.get("/api/map/boundaries?level=county")
    assert r.status_code == 422 and "parent=330100" in r.json()["detail"]
    assert client.get("/api/map/metric?metric=nonsense").status_code == 422


def test_docs_and_pages_load_nothing_from_outside(client: TestClient) -> None:
    for path in ("/", "/docs", "/static/js/app.js", "/static/js/charts.js"):
        text = client.get(path).text
        assert not re.search(r"(src|href)=\"https?://", text), path
    assert client.get("/static/vendor/echarts.min.js").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "Provista API"


def test_trend_filters_count_the_encounters_they_name(app, warehouse) -> None:
    """Visits by department among tertiary hospitals of Hangzhou = the encounters counted in SQL."""
    client = login(app, "hangzhou")
    facets = client.get("/api/trends/facets").json()
    assert "tertiary" in facets["levels"] and "RES" in facets["departments"]
    got = client.get("/api/trends/visits?by=department&level=tertiary&type=outpatient&grain=month").json()
    totals = {s["name"]: sum(v for _, v in s["points"]) for s in got["series"]}
    with DuckDBEngine(warehouse, read_only=True) as engine:
        want = engine.frame(
            """SELECT e.department, count(*) AS n FROM encounter e JOIN hospital h USING (hospital_id)
               WHERE h.city_code = '330100' AND h.level_en = 'tertiary' AND e.type = 'outpatient'
                 AND e.admit_ts IS NOT NULL GROUP BY 1"""
        )
    assert totals == dict(zip(want["department"], want["n"].astype(float), strict=True))


def test_heat_maps_count_every_diagnosis_and_visit_in_scope(app, warehouse) -> None:
    client = login(app, "hangzhou")
    chapters = client.get("/api/trends/heatmap?kind=chapter_week").json()
    hours = client.get("/api/trends/heatmap?kind=department_hour").json()
    with DuckDBEngine(warehouse, read_only=True) as engine:
        where = "h.city_code = '330100' AND e.admit_ts IS NOT NULL"
        diagnoses = engine.scalar(
            "SELECT count(*) FROM diagnosis d JOIN encounter e USING (hospital_id, encounter_id) "
            f"JOIN hospital h ON h.hospital_id = e.hospital_id WHERE {where}"
        )
        visits = engine.scalar(
            f"SELECT count(*) FROM encounter e JOIN hospital h USING (hospital_id) WHERE {where}"
        )
        respiratory = engine.scalar(
            "SELECT count(*) FROM diagnosis d JOIN encounter e USING (hospital_id, encounter_id) "
            f"JOIN hospital h ON h.hospital_id = e.hospital_id WHERE {where} AND left(d.icd10, 1) = 'J'"
        )
    assert sum(v for _, _, v in chapters["cells"]) == diagnoses
    assert sum(v for _, _, v in hours["cells"]) == visits
    x = chapters["rows"].index("X")  # chapter X: J00–J99
    assert sum(v for _, r, v in chapters["cells"] if r == x) == respiratory


def test_the_active_alerts_card_counts_open_alerts_of_the_last_four_weeks(app, warehouse) -> None:
    client = login(app, "hangzhou")
    kpis = {k["key"]: k for k in client.get("/api/overview/kpis").json()["kpis"]}
    count = client.get("/api/alerts/count?recent_days=28").json()
    assert kpis["active_alerts"]["value"] == count["recent"]
    with DuckDBEngine(warehouse, read_only=True) as engine:
        raised = engine.scalar(
            "SELECT count(*) FROM alert WHERE starts_with(county_code, '3301') "
            "AND period_start > (SELECT max(period_end) FROM alert) - 28"
        )
    assert 0 < count["recent"] <= raised  # some may have been closed by other tests
    public = {k["key"]: k for k in login(app, "public").get("/api/overview/kpis").json()["kpis"]}
    assert public["active_alerts"]["value"] is None
