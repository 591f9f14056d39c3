"""Transfer recommendations: small instances solved by hand, the limits and shortages said plainly, bad
input refused with where and what to do, and `provista transfers` on the tiny province."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from provista.analytics.surveillance.scan_cli import register
from provista.analytics.surveillance.transfers import TransferError, balance, recommend_transfers

KM = pd.DataFrame([[0, 50, 100], [50, 0, 60], [100, 60, 0]], index=list("ABC"), columns=list("ABC"))


def _moves(plan) -> dict[tuple[str, str, str], int]:  # type: ignore[no-untyped-def]
    return {(m.from_city, m.to_city, m.kind): m.patients for m in plan.moves.itertuples()}


def test_three_cities_by_hand() -> None:
    """A needs 10 ICU beds and has 6; B has 3 to spare (50 km), C 10 (100 km): 3 to B, then 1 to C."""
    demand = pd.DataFrame({"icu": [10, 2, 0]}, index=list("ABC"))
    capacity = pd.DataFrame({"icu_beds": [6, 5, 10], "staff": [100, 100, 100]}, index=list("ABC"))
    plan = recommend_transfers(demand, capacity, KM)
    assert _moves(plan) == {("A", "B", "icu"): 3, ("A", "C", "icu"): 1}
    assert plan.unmet == 0 and plan.patient_km == pytest.approx(3 * 50 + 1 * 100)
    assert "every patient is placed" in plan.message
    first = plan.moves.iloc[0]
    assert first["short"] == {"icu_beds": 4.0} and first["spare"]["icu_beds"] == 3.0
    assert "A lacks icu beds 4" in first["reason_en"] and "B has icu beds 3" in first["reason_en"]
    assert "50 km" in first["reason_en"] and "ICU床位 4" in first["reason_zh"]
    cities = plan.cities.set_index("city")
    assert cities.loc["A", "short_icu_beds"] == 4 and cities.loc["A", "sent"] == 4
    assert cities.loc["C", "received"] == 1


def test_transport_limits_leave_patients_and_say_so() -> None:
    demand = pd.DataFrame({"icu": [10, 2, 0]}, index=list("ABC"))
    capacity = pd.DataFrame({"icu_beds": [6, 5, 10], "staff": [100, 100, 100]}, index=list("ABC"))
    plan = recommend_transfers(demand, capacity, KM, max_per_pair=2, max_km=80)  # C is 100 km away
    assert _moves(plan) == {("A", "B", "icu"): 2}
    assert plan.unmet == 2 and plan.cities.set_index("city").loc["A", "unmet_icu"] == 2
    assert "transport limits (at most 2 per pair of cities, at most 80 km) leave 2" in plan.message
    nothing = recommend_transfers(demand, capacity, KM, max_per_pair=0)
    assert nothing.moves.empty and nothing.unmet == 4


def test_a_province_short_overall_is_named() -> None:
    demand = pd.DataFrame({"ward": [30, 0]}, index=["A", "B"])
    capacity = pd.DataFrame({"beds": [10, 5], "staff": [100, 100]}, index=["A", "B"])
    plan = recommend_transfers(demand, capacity, KM.loc[["A", "B"], ["A", "B"]])
    assert _moves(plan) == {("A", "B", "ward"): 5} and plan.unmet == 15
    assert "the province as a whole lacks 15 beds" in plan.message


def test_ventilated_patients_are_placed_first_and_staff_binds() -> None:
    """One spare ICU bed with a ventilator goes to the ventilated patient (weight 3 > 2); B's 2 nurses
    take 5 ward patients (0.4 each), though it has 10 beds."""
    demand = pd.DataFrame({"icu": [1, 0], "ventilated": [1, 0], "ward": [8, 0]}, index=["A", "B"])
    capacity = pd.DataFrame(
        {"beds": [0, 10], "icu_beds": [0, 1], "ventilators": [0, 1], "staff": [0, 5]}, index=["A", "B"]
    )
    plan = recommend_transfers(demand, capacity, KM.loc[["A", "B"], ["A", "B"]])
    assert _moves(plan) == {("A", "B", "ventilated"): 1, ("A", "B", "ward"): 5}  # 3 + 5 × 0.4 = 5 nurses
    assert plan.unmet == 1 + 3
    gap = balance(demand, capacity)
    assert gap.loc["A", "staff"] == pytest.approx(3 + 3 + 8 * 0.4)


def test_no_shortage_means_no_move() -> None:
    demand = pd.DataFrame({"ward": [1, 1]}, index=["A", "B"])
    capacity = pd.DataFrame({"beds": [5, 5], "staff": [10, 10]}, index=["A", "B"])
    plan = recommend_transfers(demand, capacity, KM.loc[["A", "B"], ["A", "B"]])
    assert plan.moves.empty and plan.unmet == 0 and plan.message.startswith("No city is short")


def test_bad_input_is_refused_naming_city_and_field() -> None:
    capacity = pd.DataFrame({"beds": [5, 5]}, index=["A", "B"])
    two = KM.loc[["A", "B"], ["A", "B"]]
    with pytest.raises(TransferError, match="demand of city B: ward is -1"):
        recommend_transfers(pd.DataFrame({"ward": [1, -1]}, index=["A", "B"]), capacity, two)
    with pytest.raises(TransferError, match=r"unknown column.*beds_icu"):
        recommend_transfers(pd.DataFrame({"ward": [1]}, index=["A"]), capacity.assign(beds_icu=1), two)
    with pytest.raises(TransferError, match="demand for city Z with no capacity"):
        recommend_transfers(pd.DataFrame({"ward": [1]}, index=["Z"]), capacity, two)
    with pytest.raises(TransferError, match="no distance for city C"):
        recommend_transfers(pd.DataFrame({"ward": [1]}, index=["A"]), capacity.reindex(list("ABC")), two)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(lambda: None)
    register(app)
    return app


def test_provista_transfers_on_the_tiny_province(warehouse: Path, tmp_path: Path) -> None:
    """Hangzhou given far more patients than it has room for: every move leaves Hangzhou, for a city
    with room, within the limits, and says why; the forecast alone needs no move on this quiet province."""
    demand = tmp_path / "demand.csv"
    demand.write_text(
        "city,ward,icu,ventilated\n杭州市,120,30,12\nNingbo,10,2,1\n330300,5,,0\n", encoding="utf-8"
    )
    args = ["transfers", "--warehouse", str(warehouse), "--demand", str(demand), "--format", "json"]
    done = CliRunner().invoke(_app(), [*args, "--max-per-pair", "20"])
    assert done.exit_code == 0, done.output
    plan = json.loads(done.stdout)
    assert plan["moves"] and all(m["from_city"] == "330100" for m in plan["moves"])
    pairs: dict[str, int] = {}
    for m in plan["moves"]:
        pairs[m["to_city"]] = pairs.get(m["to_city"], 0) + m["patients"]
        assert m["distance_km"] <= 300 and "Hangzhou lacks" in m["reason_en"] and "杭州市" in m["reason_zh"]
    assert max(pairs.values()) <= 20
    cities = {c["city"]: c for c in plan["cities"]}
    assert cities["330100"]["demand_ward"] == 120 and cities["330300"]["demand_icu"] == 0
    quiet = CliRunner().invoke(_app(), ["transfers", "--warehouse", str(warehouse), "--format", "json"])
    assert quiet.exit_code == 0, quiet.output
    assert "message" in json.loads(quiet.stdout)


def test_a_bad_demand_file_names_row_and_field(warehouse: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("city,ward\n杭州市,12\n宁波市,many\n", encoding="utf-8")
    done = CliRunner().invoke(_app(), ["transfers", "--warehouse", str(warehouse), "--demand", str(bad)])
    assert done.exit_code == 2 and "row 3, field 'ward': 'many' is not a number" in done.output
    bad.write_text("city,ward\nAtlantis,12\n", encoding="utf-8")
    done = CliRunner().invoke(_app(), ["transfers", "--warehouse", str(warehouse), "--demand", str(bad)])
    assert done.exit_code == 2 and "no city 'Atlantis'" in done.output
    bad.write_text("town,ward\n杭州市,12\n", encoding="utf-8")
    done = CliRunner().invoke(_app(), ["transfers", "--warehouse", str(warehouse), "--demand", str(bad)])
    assert done.exit_code == 2 and "no 'city' column" in done.output
