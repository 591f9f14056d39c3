"""The surveillance API on the tiny province: figures checked against the case reports directly, scopes
and roles, small cells hidden from the public."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.api.conftest import login

FLU = "流行性感冒"


class _Rows:
    """The app's own read-only connection, answering as DB-API rows."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.engine = engine

    def execute(self, sql: str, params: list[object] | None = None) -> _Rows:
        self.rows = [tuple(r) for r in self.engine.query(sql, params).itertuples(index=False)]
        return self

    def fetchall(self) -> list[tuple[object, ...]]:
        return self.rows

    def fetchone(self) -> tuple[object, ...]:
        return self.rows[0]


@pytest.fixture
def db(app) -> _Rows:  # type: ignore[no-untyped-def]
    return _Rows(app.state.engine)


def test_weekly_incidence_per_100k_matches_the_case_reports(app, db) -> None:  # type: ignore[no-untyped-def]
    client = login(app, "admin")
    got = client.get(f"/api/surveillance/incidence?disease={FLU}&from=2025-01-06&to=2025-02-02").json()
    assert got["weeks"] == ["2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27"]
    counties = got["counties"]
    assert len(counties) == 90
    expected = dict(
        db.execute(
            """SELECT county_code || '|' || strftime(date_trunc('week', onset_date), '%Y-%m-%d'), count(*)
               FROM case_report WHERE disease = ? AND onset_date BETWEEN '2025-01-06' AND '2025-02-02'
                 AND case_class IN ('确诊病例', '临床诊断病例') GROUP BY 1""",
            [FLU],
        ).fetchall()
    )
    cells = {f"{counties[c]['code']}|{got['weeks'][w]}": (n, rate) for c, w, n, rate in got["cells"]}
    assert {k: v[0] for k, v in cells.items()} == expected
    pop = dict(db.execute("SELECT code, population FROM region WHERE level = 'county'").fetchall())
    for key, (n, rate) in cells.items():
        assert rate == pytest.approx(n / pop[key[:6]] * 1e5, rel=1e-12)


def test_curve_heatmap_and_flows_add_up(app, db) -> None:  # type: ignore[no-untyped-def]
    client = login(app, "admin")
    curve = client.get(
        f"/api/surveillance/curve?disease={FLU}&from=2025-01-06&to=2025-03-30&interval=day"
    ).json()
    assert len(curve["points"]) == 84 and curve["points"][0][0] == "2025-01-06"
    (total,) = db.execute(
        """SELECT count(*) FROM case_report
           WHERE disease = ? AND onset_date BETWEEN '2025-01-06' AND '2025-03-30'
             AND case_class IN ('确诊病例', '临床诊断病例')""",
        [FLU],
    ).fetchone()
    assert sum(n for _, n in curve["points"]) == total
    heat = client.get("/api/surveillance/heatmap?from=2025-01-06&to=2025-03-30").json()
    assert heat["rows"][0] == FLU and len(heat["columns"]) == 12
    row = heat["rows"].index(FLU)
    assert sum(v for _, r, v in heat["cells"] if r == row) == total
    flows = client.get("/api/surveillance/flows?level=city").json()
    (visits,) = db.execute(
        "SELECT count(*) FROM encounter e JOIN patient_record p USING (hospital_id, patient_key) "
        "WHERE p.county_code IS NOT NULL"
    ).fetchone()
    assert sum(f["visits"] for f in flows) == visits
    assert any(f["source"] != f["target"] for f in flows)  # some patients are treated in another city


def test_scopes_and_roles(app) -> None:  # type: ignore[no-untyped-def]
    hangzhou = login(app, "hangzhou")
    inc = hangzhou.get(f"/api/surveillance/incidence?disease={FLU}").json()
    assert inc["counties"] and all(c["code"].startswith("3301") for c in inc["counties"])
    assert hangzhou.get("/api/surveillance/incidence?region=330200").status_code == 403
    flows = hangzhou.get("/api/surveillance/flows?level=county").json()
    assert flows and all(f["target"].startswith("3301") for f in flows)
    scan = hangzhou.get(f"/api/surveillance/clusters?disease={FLU}&replicas=19").json()
    assert all(c["code"].startswith("3301") for cl in scan["clusters"] for c in cl["counties"])
    plan = hangzhou.get("/api/surveillance/transfers").json()
    assert [c["city"] for c in plan["cities"]] == ["330100"]
    hospital = login(app, "ningbo_hospital")
    assert hospital.get("/api/surveillance/incidence").status_code == 403
    flows = hospital.get("/api/surveillance/flows").json()
    assert flows and all(f["target"] == "330200" for f in flows)
    public = login(app, "public")
    assert public.get("/api/surveillance/transfers").status_code == 403


def test_the_public_sees_no_count_below_five(app) -> None:  # type: ignore[no-untyped-def]
    public, admin = login(app, "public"), login(app, "admin")
    url = "/api/surveillance/incidence?disease=麻疹"
    shown = public.get(url).json()["cells"]
    assert all(n is None or n >= 5 for _, _, n, _ in shown)
    assert all(rate is None for _, _, n, rate in shown if n is None)
    assert any(0 < n < 5 for _, _, n, _ in admin.get(url).json()["cells"])  # staff see them
    for path in (
        "/api/surveillance/flows?level=county",
        "/api/surveillance/heatmap",
        "/api/surveillance/diseases",
    ):
        body = public.get(path).json()
        values = (
            [c[2] for c in body["cells"]]
            if "cells" in body
            else [r.get("visits", r.get("cases")) for r in body]
        )
        assert all(v is None or v == 0 or v >= 5 for v in values), path


def test_clusters_and_a_bad_disease(app) -> None:  # type: ignore[no-untyped-def]
    client = login(app, "admin")
    scan = client.get(f"/api/surveillance/clusters?disease={FLU}&replicas=99&model=poisson").json()
    assert scan["model"] == "poisson" and scan["replicas"] == 99 and scan["clusters"]
    top = scan["clusters"][0]
    assert 0 < top["p_value"] <= 1 and top["observed"] > top["expected"]
    assert 118 < top["lon"] < 123 and 27 < top["lat"] < 31.5
    bad = client.get("/api/surveillance/curve?disease=nothing")
    assert bad.status_code == 422 and "no disease 'nothing'" in bad.json()["detail"]


def test_a_period_beyond_the_records_is_clipped_to_the_onsets_on_record(app, db) -> None:  # type: ignore[no-untyped-def]
    """The fuzzer asked for 0001-01-01 to 9999-12-31: half a million weeks per county ran the test process
    out of memory. The weeks outside the onsets on record hold no data, so the period stops at them."""
    client = login(app, "admin")
    first, last = (
        pd.Timestamp(d).date()
        for d in db.execute("SELECT min(onset_date), max(onset_date) FROM case_report").fetchone()
    )
    wide = "from=0001-01-01&to=9999-12-31"
    inc = client.get(f"/api/surveillance/incidence?disease={FLU}&{wide}").json()
    weeks = [dt.date.fromisoformat(w) for w in inc["weeks"]]
    assert weeks[0] >= first and weeks[-1] + dt.timedelta(days=6) <= last
    assert weeks[0] - dt.timedelta(days=7) < first  # the first whole week on record, not a later one
    assert weeks[-1] + dt.timedelta(days=13) > last
    curve = client.get(f"/api/surveillance/curve?disease={FLU}&{wide}&interval=day").json()
    assert curve["points"][0][0] == inc["weeks"][0] and len(curve["points"]) == 7 * len(weeks)
    later = client.get(f"/api/surveillance/curve?from={last + dt.timedelta(days=30)}&to=9999-12-31")
    assert (
        later.status_code == 422 and f"onsets on record run from {first} to {last}" in later.json()["detail"]
    )
