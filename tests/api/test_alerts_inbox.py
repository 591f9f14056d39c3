"""The alert inbox on the tiny province: scopes, roles, the status machine, the audit trail, the chart."""

from __future__ import annotations

from pathlib import Path

import pytest

from provista.engine import DuckDBEngine
from tests.api.conftest import login as plain_login


def login(app, username: str):  # type: ignore[no-untyped-def]
    """A logged-in client that sends the session's CSRF token with every change, as the pages do."""
    client = plain_login(app, username)
    token = client.cookies.get("provista_csrf")
    if token:
        client.headers["X-CSRF-Token"] = token
    return client


@pytest.fixture(scope="module")
def alerts(warehouse: Path) -> list[dict]:
    """The surveillance alerts the build raised, newest first (read straight from the warehouse)."""
    with DuckDBEngine(warehouse, read_only=True) as engine:  # the app's own settings: one file, one config
        rows = engine.frame(
            "SELECT * FROM alert WHERE source = 'surveillance' ORDER BY period_start DESC, alert_id"
        )
    assert len(rows) > 20, "the tiny province should raise surveillance alerts"
    return rows.to_dict("records")


def _pick(alerts: list[dict], *, city: str | None = None, outside: str | None = None, skip: int = 0) -> dict:
    chosen = [a for a in alerts if (city is None or a["county_code"].startswith(city))
              and (outside is None or not a["county_code"].startswith(outside))]  # fmt: skip
    return chosen[skip]


def test_the_list_is_newest_first_and_pages(app, alerts) -> None:
    client = login(app, "admin")
    first = client.get("/api/alerts?source=surveillance&page_size=7").json()
    second = client.get("/api/alerts?source=surveillance&page_size=7&page=2").json()
    assert first["total"] == second["total"] == len(alerts)
    starts = [a["period_start"] for a in first["items"] + second["items"]]
    assert starts == sorted(starts, reverse=True)
    assert not {a["alert_id"] for a in first["items"]} & {a["alert_id"] for a in second["items"]}
    item = first["items"][0]
    assert item["status"] in ("new", "investigating", "confirmed", "dismissed")
    assert item["county_name_zh"] and item["detail_en"]
    assert item["period_start"] == str(alerts[0]["period_start"].date())


def test_filters_by_disease_rule_region_and_period(app, alerts) -> None:
    client = login(app, "admin")
    a = alerts[0]
    disease, rule = a["subject"], a["rule"]
    page = client.get("/api/alerts", params={"disease": disease, "rule": rule, "page_size": 200}).json()
    expected = [x for x in alerts if x["subject"] == disease and x["rule"] == rule]
    assert page["total"] == len(expected) and all(i["subject"] == disease for i in page["items"])
    county = a["county_code"]
    page = client.get("/api/alerts", params={"region": county, "page_size": 200}).json()
    assert page["total"] >= 1 and all(i["county_code"] == county for i in page["items"])
    day = str(a["period_start"].date())
    page = client.get("/api/alerts", params={"from": day, "to": day, "source": "surveillance"}).json()
    assert a["alert_id"] in {i["alert_id"] for i in page["items"]}
    assert all(i["period_start"] <= day <= i["period_end"] for i in page["items"])
    facets = client.get("/api/alerts/facets").json()
    assert "surveillance" in facets["sources"] and disease in {s["code"] for s in facets["subjects"]}
    assert {"new", "confirmed"} <= set(facets["statuses"])


def test_a_city_user_never_sees_another_citys_alerts(app, alerts) -> None:
    client = login(app, "hangzhou")
    page = client.get("/api/alerts?page_size=200").json()
    ours = [a for a in alerts if a["county_code"].startswith("3301")]
    assert page["items"] and all((i["county_code"] or "").startswith("3301") for i in page["items"])
    assert client.get("/api/alerts?source=surveillance").json()["total"] == len(ours)
    other = _pick(alerts, outside="3301")
    assert client.get(f"/api/alerts/{other['alert_id']}").status_code == 404
    assert (
        client.patch(f"/api/alerts/{other['alert_id']}", json={"status": "investigating"}).status_code == 404
    )
    assert client.get("/api/alerts?region=330200").status_code == 403
    facets = client.get("/api/alerts/facets").json()
    assert all(c["code"].startswith("3301") for c in facets["counties"])


def test_public_and_hospital_accounts_cannot_change_alerts(app, alerts) -> None:
    target = alerts[0]["alert_id"]
    public = login(app, "public")
    assert public.get("/api/alerts").status_code == 403
    assert public.patch(f"/api/alerts/{target}", json={"status": "investigating"}).status_code == 403
    hospital = login(app, "ningbo_hospital")
    mine = hospital.get("/api/alerts?page_size=200").json()
    assert all(i["source"] != "surveillance" for i in mine["items"])  # area signals have no hospital
    own = hospital.get("/api/auth/me").json()["scope_code"]
    assert all(i["hospital_id"] == own for i in mine["items"])
    assert hospital.patch(f"/api/alerts/{target}", json={"status": "investigating"}).status_code == 403
    assert hospital.post(f"/api/alerts/{target}/notes", json={"note": "x"}).status_code == 403
    admin = login(app, "admin")
    assert admin.get(f"/api/alerts/{target}").json()["inbox"]["history"] == []


def test_status_moves_assignment_notes_and_their_history(app, alerts) -> None:
    alert = _pick(alerts, city="3301", skip=1)
    url = f"/api/alerts/{alert['alert_id']}"
    analyst = login(app, "hangzhou")
    detail = analyst.get(url).json()
    assert detail["inbox"]["status"] == "new" and detail["inbox"]["transitions"] == [
        "investigating",
        "dismissed",
    ]

    r = analyst.patch(url, json={"status": "confirmed"})
    assert r.status_code == 409 and "new cannot become confirmed" in r.json()["detail"]
    r = analyst.patch(url, json={"status": "closed"})
    assert r.status_code == 422
    r = analyst.patch(url, json={"assignee": "nobody-here"})
    assert r.status_code == 422 and "no user called" in r.json()["detail"]
    r = analyst.patch(url, json={})
    assert r.status_code == 422 and "nothing to change" in r.json()["detail"]

    r = analyst.patch(
        url, json={"status": "investigating", "assignee": "hangzhou", "note": "calling the county CDC"}
    )
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["status"] == "investigating" and state["assignee"] == "hangzhou"
    assert state["transitions"] == ["confirmed", "dismissed"]
    kinds = [(e["kind"], e["from_value"], e["to_value"], e["username"]) for e in state["history"]]
    assert kinds == [
        ("status", "new", "investigating", "hangzhou"),
        ("assignee", None, "hangzhou", "hangzhou"),
    ]
    assert state["history"][0]["note"] == "calling the county CDC"

    listed = analyst.get("/api/alerts", params={"status": "investigating", "assignee": "hangzhou"}).json()
    assert alert["alert_id"] in {i["alert_id"] for i in listed["items"]}
    new = analyst.get("/api/alerts", params={"status": "new", "page_size": 200}).json()
    assert alert["alert_id"] not in {i["alert_id"] for i in new["items"]}

    r = analyst.post(f"{url}/notes", json={"note": "three cases share a kindergarten"})
    assert r.status_code == 200
    admin = login(app, "admin")
    r = admin.patch(url, json={"status": "confirmed", "note": "cluster confirmed"})
    assert r.status_code == 200 and r.json()["status"] == "confirmed" and r.json()["transitions"] == []
    r = admin.patch(url, json={"status": "dismissed"})
    assert r.status_code == 409 and "confirmed cannot become dismissed" in r.json()["detail"]
    assert "it is final" in r.json()["detail"]

    history = analyst.get(url).json()["inbox"]["history"]
    assert [e["kind"] for e in history] == ["status", "assignee", "note", "status"]
    assert history[:2] == state["history"]  # earlier entries are never rewritten
    assert (history[2]["note"], history[3]["username"]) == ("three cases share a kindergarten", "admin")
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)


def test_the_active_count_follows_the_inbox(app, alerts) -> None:
    alert = _pick(alerts, city="3301", skip=2)
    client = login(app, "hangzhou")
    before = client.get("/api/alerts/count").json()
    assert before["active"] == before["new"] + before["investigating"]
    assert before["active"] <= len([a for a in alerts if a["county_code"].startswith("3301")]) + 1000
    assert 0 <= before["recent"] <= before["active"] and before["as_of"]
    url = f"/api/alerts/{alert['alert_id']}"
    assert client.patch(url, json={"status": "investigating"}).status_code == 200
    middle = client.get("/api/alerts/count").json()
    assert (middle["active"], middle["investigating"]) == (before["active"], before["investigating"] + 1)
    assert client.patch(url, json={"status": "dismissed", "note": "one family"}).status_code == 200
    after = client.get("/api/alerts/count").json()
    assert after["active"] == before["active"] - 1
    province = login(app, "admin").get("/api/alerts/count").json()
    assert province["active"] >= after["active"]


def test_one_alert_comes_with_its_series_and_the_detectors_threshold(app, alerts) -> None:
    client = login(app, "admin")
    for alert in (next(a for a in alerts if a["rule"] == rule) for rule in {a["rule"] for a in alerts}):
        detail = client.get(f"/api/alerts/{alert['alert_id']}").json()
        series = detail["series"]
        assert series and series["method"] == alert["rule"], alert["rule"]
        at = {p["date"]: p for p in series["points"]}
        first = at[str(alert["period_start"].date())]
        assert first["alarm"] and first["raised"] and first["value"] == alert["observed"]
        assert all(p["alarm"] for p in series["points"] if p["raised"])
        assert first["threshold"] == pytest.approx(alert["threshold"], rel=1e-9)
        dates = [p["date"] for p in series["points"]]
        assert dates == sorted(dates) and dates[0] < str(alert["period_start"].date())
