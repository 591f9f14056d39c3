"""The forecast API on the tiny province: roles, scopes, and figures checked against the warehouse itself."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from provista.api.routes.forecast import router
from provista.engine import DuckDBEngine
from tests.api.conftest import login

FC = "/api/forecast"


@pytest.fixture(scope="module")
def db(warehouse: Path):  # type: ignore[no-untyped-def]
    with DuckDBEngine(warehouse, read_only=True) as engine:
        yield engine


def test_every_forecast_route_declares_staff_roles_and_refuses_the_public(app) -> None:  # type: ignore[no-untyped-def]
    paths = []
    for route in router.routes:  # the router itself: the app wraps included routers
        roles = [r for d in route.dependencies for r in (getattr(d.dependency, "roles", None) or ())]  # type: ignore[attr-defined]
        assert set(roles) == {"admin", "analyst", "hospital"}, route.path  # type: ignore[attr-defined]
        paths.append(route.path)  # type: ignore[attr-defined]
    assert sorted(paths) == [f"{FC}/backtest", f"{FC}/series", f"{FC}/units"]
    public = login(app, "public")
    for path in paths:
        assert public.get(path).status_code == 403, path
        assert TestClient(app).get(path).status_code == 401, path


def test_the_hangzhou_user_sees_hangzhou_hospitals_only(app, db) -> None:  # type: ignore[no-untyped-def]
    client = login(app, "hangzhou")
    units = client.get(f"{FC}/units").json()
    city = set(db.query("SELECT hospital_id FROM hospital WHERE city_code = '330100'")["hospital_id"])
    assert units["hospitals"] and {h["hospital_id"] for h in units["hospitals"]} <= city
    ningbo = db.query("SELECT min(hospital_id) AS h FROM hospital WHERE city_code = '330200'").loc[0, "h"]
    for route in ("series", "backtest"):
        r = client.get(f"{FC}/{route}?hospital={ningbo}")
        assert r.status_code == 403 and "outside your scope" in r.json()["detail"], route
    assert client.get(f"{FC}/series").json()["hospital_id"] in city  # default: the first in scope


def test_a_hospital_user_gets_their_own_hospital_only(app) -> None:  # type: ignore[no-untyped-def]
    client = login(app, "ningbo_hospital")
    me = client.get("/api/auth/me").json()["scope_code"]
    units = client.get(f"{FC}/units").json()["hospitals"]
    assert [h["hospital_id"] for h in units] == [me]
    assert client.get(f"{FC}/series").json()["hospital_id"] == me
    other = "H3301020031"
    assert client.get(f"{FC}/series?hospital={other}").status_code == 403
    assert client.get(f"{FC}/backtest?hospital={other}").status_code == 403


def test_the_series_history_is_the_census_and_the_forecast_follows_it(app, db) -> None:  # type: ignore[no-untyped-def]
    client = login(app, "admin")
    units = client.get(f"{FC}/units").json()
    unit = max(units["hospitals"], key=lambda h: len(h["departments"]))
    hospital, department = unit["hospital_id"], unit["departments"][0]
    body = client.get(f"{FC}/series?hospital={hospital}&department={department}&horizon=21&history=28").json()
    last = dt.date.fromisoformat(units["last_census"])
    assert body["last_census"] == units["last_census"]
    census = db.query(
        """SELECT date::DATE AS d, occupied_beds::DOUBLE AS n FROM bed_census
           WHERE hospital_id = ? AND department = ? AND date > ?::DATE - 28""",
        [hospital, department, last],
    )
    sent = {pd.Timestamp(r.d).date(): r.n for r in census.itertuples()}
    assert len(body["history"]) == 28
    for point in body["history"]:  # the census as sent; a day without a row is flagged as filled
        day = dt.date.fromisoformat(point["date"])
        assert point["filled"] == (day not in sent)
        if day in sent:
            assert point["occupied"] == sent[day]
    ahead = body["forecast"]
    assert [p["horizon"] for p in ahead] == list(range(1, 22))
    assert ahead[0]["date"] == str(last + dt.timedelta(days=1))
    for p in ahead:
        assert 0 <= p["lo95"] <= p["lo80"] <= p["point"] <= p["hi80"] <= p["hi95"]
    assert client.get(f"{FC}/series?hospital={hospital}&department=NOPE").status_code == 404
    assert client.get(f"{FC}/series?horizon=40").status_code == 422


def test_the_backtest_summary_states_whether_the_model_beats_the_baseline(app) -> None:  # type: ignore[no-untyped-def]
    client = login(app, "admin")
    body = client.get(f"{FC}/backtest?origins=4&horizon=14").json()
    assert len(body["origins"]) == 4 and body["model"] == "arx" and body["baseline"] == "snaive"
    steps = {
        (dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days
        for a, b in zip(body["origins"], body["origins"][1:], strict=False)
    }
    assert steps == {7}
    assert {(r["bucket"], r["model"]) for r in body["rows"]} == {
        ("1–7", "arx"),
        ("1–7", "snaive"),
        ("8–14", "arx"),
        ("8–14", "snaive"),
    }
    for v in body["verdicts"]:
        assert v["beats"] == (v["mae"] < v["baseline_mae"])
        assert any(("does NOT beat" if not v["beats"] else "beats") in s for s in body["statements"])
