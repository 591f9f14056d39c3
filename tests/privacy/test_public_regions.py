"""The public role's regional answers on the tiny province, attacked: the operations indicators by city and
county, and the notifiable-disease incidence by county and week next to the epidemic curves of the cities
and the province. An LP over every related answer tries to recover each hidden count of 1–4 and cannot
narrow one below the protection width."""

from __future__ import annotations

import datetime as dt
from typing import Any

from provista.analytics.operations.definitions import load_definitions
from provista.privacy.suppression import PROTECTION, THRESHOLD
from tests.api.conftest import login
from tests.privacy.attack import Attacker


def _rows(client: Any, by: str, region: str | None = None) -> dict[str, dict[str, Any]]:
    got = client.get(
        "/api/operations/indicators", params={"by": by, **({"region": region} if region else {})}
    )
    assert got.status_code == 200, got.text
    return {r["code"] or "province": r for r in got.json()["rows"]}


def test_operations_hide_small_counts_of_people_and_whatever_would_reveal_them(app) -> None:  # type: ignore[no-untyped-def]
    public, staff = login(app, "public"), login(app, "admin")
    defs = load_definitions()
    people = [m.id for m in defs.measures if m.people]
    assert {"deaths", "discharges", "outpatient_visits"} <= set(people)
    pub = {by: _rows(public, by) for by in ("city", "county", "province")}
    truth = {by: _rows(staff, by) for by in ("city", "county", "province")}
    small = 0
    for m in people:
        a = Attacker()
        for city, row in pub["city"].items():
            value = row["measures"][m]
            terms: list[tuple[object, float]] = [] if value is not None else [(city, -1.0)]
            constant = -(value or 0.0)
            for county, c in pub["county"].items():
                if county[:4] == city[:4]:
                    if c["measures"][m] is None:
                        terms.append((county, 1.0))
                    else:
                        constant += c["measures"][m]
            a.equation(terms, constant)
        hidden_cities = [c for c, r in pub["city"].items() if r["measures"][m] is None]
        shown_cities = sum(r["measures"][m] or 0.0 for r in pub["city"].values())
        province = truth["province"]["province"]["measures"][m]  # given to the attacker
        a.equation([(c, 1.0) for c in hidden_cities], shown_cities - province)
        for level in ("city", "county"):
            for code, row in truth[level].items():
                value, shown = row["measures"][m], pub[level][code]["measures"][m]
                if shown is not None:
                    assert shown == value, (m, code)
                if value is not None and 0 < value < THRESHOLD:
                    small += 1
                    assert shown is None, (m, code, value)
                    lo, hi = a.interval(code)
                    assert hi - lo >= PROTECTION, (m, code, value, lo, hi)
    assert small > 0, "the tiny province should have counties with 1-4 deaths or grade-4 operations a year"
    for rows in pub.values():
        for row in rows.values():
            for i in defs.indicators:
                if row["measures"][i.numerator] is None or row["measures"][i.denominator] is None:
                    assert row["values"][i.id] is None, (row["key"], i.id)
    narrowed = _rows(public, "county", region=next(iter(pub["city"])))
    assert narrowed and all(row == pub["county"][code] for code, row in narrowed.items())


def _curve(
    client: Any, region: str | None, interval: str = "week", disease: str | None = None
) -> dict[dt.date, float | None]:
    params = {"interval": interval, **({"region": region} if region else {})}
    params |= {"disease": disease} if disease else {}
    got = client.get("/api/surveillance/curve", params=params)
    assert got.status_code == 200, got.text
    return {dt.date.fromisoformat(d): v for d, v in got.json()["points"]}


def test_incidence_hides_small_county_weeks_so_that_the_city_and_province_curves_cannot_reveal_them(
    app,
) -> None:  # type: ignore[no-untyped-def]
    public, staff = login(app, "public"), login(app, "admin")
    pub = public.get("/api/surveillance/incidence").json()
    truth = staff.get("/api/surveillance/incidence").json()
    weeks = [dt.date.fromisoformat(w) for w in pub["weeks"]]
    codes = [c["code"] for c in pub["counties"]]
    shown = {(codes[c], weeks[w]): n for c, w, n, _ in pub["cells"]}
    real = {(codes[c], weeks[w]): n for c, w, n, _ in truth["cells"]}
    cities = sorted({code[:4] + "00" for code in codes})
    curves = {city: _curve(public, city) for city in cities}
    province = _curve(public, None)
    small = [(k, n) for k, n in real.items() if 0 < n < THRESHOLD]
    assert len(small) > 100, "the tiny province has many county-weeks of 1-4 cases"
    for key, n in real.items():
        assert shown[key] is None if 0 < n < THRESHOLD else shown[key] in (None, n), (key, n, shown[key])
    inner = weeks[1:-1]  # the curves count only the period's days; the table whole weeks
    checked = 0
    for week in inner:
        in_week = [(code, n) for (code, w), n in small if w == week]
        if not in_week:
            continue
        a = Attacker()
        for city in cities:
            total = curves[city][week]
            terms: list[tuple[object, float]] = [] if total is not None else [(city, -1.0)]
            constant = -(total or 0.0)
            for code in codes:
                if code[:4] == city[:4]:
                    v = shown.get((code, week), 0.0)  # absent: zero cases, published
                    if v is None:
                        terms.append((code, 1.0))
                    else:
                        constant += v
            a.equation(terms, constant)
        total = province[week]
        terms = [(c, 1.0) for c in cities if curves[c][week] is None]
        constant = sum(curves[c][week] or 0.0 for c in cities)
        if total is None:
            terms.append(("province", -1.0))
        else:
            constant -= total
        a.equation(terms, constant)
        for code, n in in_week[:8]:
            lo, hi = a.interval(code)
            assert hi - lo >= PROTECTION, (code, week, n, lo, hi)
            checked += 1
    assert checked > 50


def test_a_daily_curve_is_public_for_the_province_only_and_its_days_cannot_be_recovered_from_the_weeks(
    app,
) -> None:  # type: ignore[no-untyped-def]
    public, staff = login(app, "public"), login(app, "admin")
    county = public.get("/api/surveillance/incidence").json()["counties"][0]["code"]
    refused = public.get("/api/surveillance/curve", params={"interval": "day", "region": county})
    assert refused.status_code == 403 and "interval=week" in refused.json()["detail"]
    diseases = staff.get("/api/surveillance/diseases").json()
    rare = next(d["disease"] for d in diseases if 100 < d["cases"] < 1500)  # a few cases a day
    days, weeks = _curve(public, None, "day", rare), _curve(public, None, "week", rare)
    truth = _curve(staff, None, "day", rare)
    small = [d for d, n in truth.items() if n is not None and 0 < n < THRESHOLD]
    assert len(small) > 20
    for d, n in truth.items():
        assert days[d] is None if d in small else days[d] in (None, n)
    checked = 0
    for week in sorted(weeks)[1:-1]:
        a = Attacker()
        members = [week + dt.timedelta(days=k) for k in range(7)]
        terms = [(d, 1.0) for d in members if days[d] is None]
        constant = sum(days[d] or 0.0 for d in members)
        if weeks[week] is None:
            terms.append(("week", -1.0))
        else:
            constant -= weeks[week]
        a.equation(terms, constant)
        for d in members:
            if d in small:
                lo, hi = a.interval(d)
                assert hi - lo >= PROTECTION, (d, truth[d], lo, hi)
                checked += 1
    assert checked > 20
