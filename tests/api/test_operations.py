"""The operations API on the tiny province: scopes, roles, figures checked against the warehouse itself."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from provista.engine import DuckDBEngine
from tests.api.conftest import login

OPS = "/api/operations"
PERIOD = "from=2025-03-01&to=2025-03-31"


@pytest.fixture(scope="module")
def db(warehouse: Path):  # type: ignore[no-untyped-def]
    with DuckDBEngine(warehouse, read_only=True) as engine:
        yield engine


def test_the_hangzhou_user_gets_only_3301_hospitals(app) -> None:  # type: ignore[no-untyped-def]
    client = login(app, "hangzhou")
    rows = client.get(f"{OPS}/indicators?by=hospital&{PERIOD}").json()["rows"]
    assert rows and all(r["hospital_id"][1:5] == "3301" for r in rows)
    ranked = client.get(f"{OPS}/ranking?indicator=average_length_of_stay&{PERIOD}").json()
    assert ranked["rows"] and all(r["hospital_id"][1:5] == "3301" for r in ranked["rows"])
    assert ranked["band"]["peers"] >= len([r for r in ranked["rows"] if r["value"] is not None])
    hospitals = client.get(f"{OPS}/hospitals").json()
    assert hospitals and all(h["hospital_id"][1:5] == "3301" for h in hospitals)
    cities = client.get(f"{OPS}/indicators?by=city&{PERIOD}").json()["rows"]
    assert [c["code"] for c in cities] == ["330100"]
    outside = "H3302030010"  # a Ningbo hospital
    for route in ("trend", "occupancy", "equipment", "theatre"):
        r = client.get(f"{OPS}/{route}?hospital={outside}")
        assert r.status_code == 403 and "outside your scope" in r.json()["detail"], route
    assert client.get(f"{OPS}/occupancy?region=330200").status_code == 403
    assert client.get(f"{OPS}/indicators?by=province").status_code == 403


def test_a_hospital_user_and_the_public(app) -> None:  # type: ignore[no-untyped-def]
    hospital = login(app, "ningbo_hospital")
    me = hospital.get("/api/auth/me").json()["scope_code"]
    rows = hospital.get(f"{OPS}/indicators?by=department&{PERIOD}").json()["rows"]
    assert rows and {r["hospital_id"] for r in rows} == {me}
    assert hospital.get(f"{OPS}/trend").json()["hospital_id"] == me
    assert hospital.get(f"{OPS}/indicators?by=city").status_code == 403
    public = login(app, "public")
    assert public.get(f"{OPS}/indicators?by=city&{PERIOD}").status_code == 200
    assert public.get(f"{OPS}/definitions").status_code == 200
    for route in ("indicators?by=hospital", "ranking", "trend", "occupancy", "equipment", "theatre"):
        assert public.get(f"{OPS}/{route}").status_code == 403, route


def test_indicator_values_are_the_warehouse_figures(app, db: DuckDBEngine) -> None:  # type: ignore[no-untyped-def]
    client = login(app, "admin")
    rows = {r["key"]: r for r in client.get(f"{OPS}/indicators?by=hospital&{PERIOD}").json()["rows"]}
    hid = db.scalar(
        "SELECT hospital_id FROM encounter WHERE type = 'inpatient' AND discharge_ts >= '2025-03-01' "
        "AND discharge_ts < '2025-04-01' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    )
    occupied, open_ = db.frame(
        "SELECT sum(occupied_beds)::DOUBLE, sum(open_beds)::DOUBLE FROM bed_census "
        "WHERE hospital_id = ? AND date BETWEEN '2025-03-01' AND '2025-03-31'",
        [hid],
    ).iloc[0]
    stays = db.frame(
        "SELECT greatest(date_diff('day', admit_ts::DATE, discharge_ts::DATE), 1) AS d FROM encounter "
        "WHERE hospital_id = ? AND type = 'inpatient' AND admit_ts IS NOT NULL "
        "AND discharge_ts::DATE BETWEEN '2025-03-01' AND '2025-03-31'",
        [hid],
    )
    row = rows[hid]
    assert abs(row["values"]["bed_occupancy_rate"] - occupied / open_ * 100) < 1e-9
    assert abs(row["values"]["average_length_of_stay"] - stays["d"].mean()) < 1e-9
    assert row["measures"]["discharges"] == len(stays)
    assert abs(row["values"]["bed_turnover"] - len(stays) / (open_ / 31)) < 1e-9


def test_ranking_trend_and_peer_band(app) -> None:  # type: ignore[no-untyped-def]
    client = login(app, "admin")
    ranked = client.get(f"{OPS}/ranking?indicator=average_length_of_stay&level=secondary&{PERIOD}").json()
    values = [r["value"] for r in ranked["rows"] if r["rank"] is not None]
    assert values == sorted(values)  # lower is better: rank 1 has the shortest stays
    assert ranked["band"]["median"] == pytest.approx(float(np.median(values)))
    first = ranked["rows"][0]["hospital_id"]
    trend = client.get(
        f"{OPS}/trend?indicator=bed_occupancy_rate&hospital={first}&from=2025-01-01&to=2025-12-31"
    )
    points = trend.json()["points"]
    assert len(points) == 12 and points[0]["month"] == "2025-01-01"
    assert all(p["q1"] <= p["median"] <= p["q3"] for p in points if p["median"] is not None)
    bad = client.get(f"{OPS}/ranking?indicator=happiness")
    assert bad.status_code == 422 and "bed_occupancy_rate" in bad.json()["detail"]
    swapped = client.get(f"{OPS}/trend?from=2025-03-01&to=2025-01-01")
    assert swapped.status_code == 422 and "swap" in swapped.json()["detail"]


def test_heat_map_equipment_and_theatre(app, db: DuckDBEngine) -> None:  # type: ignore[no-untyped-def]
    client = login(app, "admin")
    hid = db.scalar("SELECT hospital_id FROM procedure GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
    heat = client.get(f"{OPS}/occupancy?hospital={hid}&{PERIOD}").json()
    assert len(heat["columns"]) == 31 and heat["rows"]
    col, row, value = heat["cells"][0]
    occupied = next(c for c in heat["occupied"] if c[:2] == [col, row])[2]
    open_ = next(c for c in heat["open"] if c[:2] == [col, row])[2]
    assert value is None or abs(value - occupied / open_ * 100) < 1e-9
    devices = client.get(f"{OPS}/equipment?hospital={hid}&{PERIOD}").json()
    assert devices and all(d["hospital_id"] == hid for d in devices)
    assert all(d["utilisation"] is None or 0 <= d["utilisation"] <= 100 for d in devices)
    theatre = client.get(f"{OPS}/theatre?hospital={hid}").json()
    assert theatre["operations"] and theatre["rooms"]
    for op in theatre["operations"]:  # times of day as recorded, the minutes between them
        span = dt.datetime.fromisoformat(op["end_ts"]) - dt.datetime.fromisoformat(op["start_ts"])
        assert op["start_ts"].startswith(theatre["day"]) and span.total_seconds() / 60 == op["minutes"]
        assert db.scalar(
            "SELECT start_ts FROM procedure WHERE hospital_id = ? AND operation_id = ?",
            [hid, op["operation_id"]],
        ) == (dt.datetime.fromisoformat(op["start_ts"]))
    minutes = sum(op["minutes"] for op in theatre["operations"])
    assert abs(sum(r["minutes"] for r in theatre["rooms"]) - minutes) < 1e-9
    expected = minutes / (theatre["operating_rooms"] * theatre["session_minutes"]) * 100
    assert abs(theatre["utilisation"] - expected) < 1e-9
