"""The warehouse queries and `provista epi rates` end to end, on a small hand-made warehouse.

Two Hangzhou counties of the shipped Zhejiang province, with populations from the region table and the
2020 census sex × age structure, and a handful of case reports whose rates are computed by hand.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from provista.analytics.epi import poisson_limits
from provista.analytics.epi.cli import register
from provista.analytics.epi.warehouse import (
    epidemic_curve_from_warehouse,
    incidence_from_warehouse,
    population,
    timeliness_from_warehouse,
)
from provista.engine import DuckDBEngine
from provista.synth.province import load_province
from provista.warehouse.schema import create_all

COUNTIES = {"330102": 400_000, "330105": 600_000}  # 上城区, 拱墅区 (杭州市 330100)


def _case(
    i: int, county: str, disease: str, klass: str, onset: str, age: int, sex: str, **kw: object
) -> dict:
    diagnosed = pd.Timestamp(onset) + pd.Timedelta("1D")
    return {
        "report_id": f"r{i}",
        "disease": disease,
        "disease_class": klass,
        "onset_date": pd.Timestamp(onset),
        "diagnosis_ts": diagnosed,
        "report_ts": diagnosed + pd.Timedelta(str(kw.get("delay", "1h"))),
        "county_code": county,
        "age": age,
        "sex": sex,
        "case_class": kw.get("case_class", "确诊病例"),
        "source_file": "test",
        "record_ref": str(i),
    }


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("epi") / "w.duckdb"
    cases = [
        _case(1, "330102", "流行性感冒", "C", "2024-01-02", 3, "M"),
        _case(2, "330102", "流行性感冒", "C", "2024-01-03", 70, "F", delay="25h"),
        _case(3, "330105", "流行性感冒", "C", "2024-01-10", 30, "M"),
        _case(4, "330105", "乙型肝炎", "B", "2024-02-01", 45, "M", delay="24h"),
        _case(5, "330105", "乙型肝炎", "B", "2024-02-01", 45, "M", case_class="疑似病例"),
        _case(6, "330105", "霍乱", "A", "2024-03-01", 20, "F", delay="2h 1min"),
        _case(7, "330105", "流行性感冒", "C", "2023-12-31", 8, "F"),  # outside the period
    ]
    with DuckDBEngine(path) as engine:
        create_all(engine)
        engine.append(
            "region",
            pd.DataFrame(
                [{"code": "330100", "name_zh": "杭州市", "level": "prefecture", "population": 1_000_000}]
                + [
                    {"code": c, "name_zh": n, "level": "county", "parent_code": "330100", "population": p}
                    for (c, p), n in zip(COUNTIES.items(), ["上城区", "拱墅区"], strict=True)
                ]
            ),
        )
        engine.append("case_report", pd.DataFrame(cases))
    return path


START, END = date(2024, 1, 1), date(2024, 12, 31)


def test_incidence_by_county_by_hand(small_warehouse: Path) -> None:
    with DuckDBEngine(small_warehouse, read_only=True) as engine:
        table = incidence_from_warehouse(engine, ["county"], START, END).set_index("county")
    # Suspected case 5 and the 2023 case 7 are not counted.
    assert table["cases"].to_dict() == {"330102": 2, "330105": 3}
    assert table.loc["330105", "rate"] == pytest.approx(3 / 600_000 * 1e5)
    assert table.loc["330102", "upper"] == pytest.approx(poisson_limits([2])[1][0] / 400_000 * 1e5, rel=1e-12)


def test_incidence_by_disease_repeats_the_population(small_warehouse: Path) -> None:
    with DuckDBEngine(small_warehouse, read_only=True) as engine:
        table = incidence_from_warehouse(engine, ["disease"], START, END).set_index("disease")
    assert (table["population"] == 1_000_000).all()
    assert table["cases"].to_dict() == {"乙型肝炎": 1, "流行性感冒": 3, "霍乱": 1}


def test_population_by_sex_and_age_follows_the_census_structure(small_warehouse: Path) -> None:
    prov = load_province("zhejiang")
    i = [c.code for c in prov.counties].index("330102")
    census = prov.population[i]
    with DuckDBEngine(small_warehouse, read_only=True) as engine:
        pop = population(engine, ["county", "sex", "age_group"])
    part = pop[pop["county"] == "330102"].set_index(["sex", "age_group"])["population"]
    assert part.sum() == pytest.approx(400_000)
    assert part[("F", "85+")] == pytest.approx(400_000 * census[1, -1] / census.sum())


def test_standardised_rate_by_hand(small_warehouse: Path) -> None:
    from provista.analytics.epi import standard_weights

    with DuckDBEngine(small_warehouse, read_only=True) as engine:
        table = incidence_from_warehouse(engine, [], START, END, standard="china2010")
        pop = population(engine, ["age_group"]).set_index("age_group")["population"]
    w = standard_weights("china2010")
    cases = pd.Series(0.0, index=w.index)
    for group, n in {"0-4": 1, "70-74": 1, "30-34": 1, "45-49": 1, "20-24": 1}.items():
        cases[group] = n
    assert table["adj_rate"].iloc[0] == pytest.approx(float((w * cases / pop[w.index]).sum()) * 1e5, rel=1e-9)
    assert table["lower_gamma"].iloc[0] < table["adj_rate"].iloc[0] < table["upper_gamma"].iloc[0]


def test_timeliness_and_curve_from_the_warehouse(small_warehouse: Path) -> None:
    with DuckDBEngine(small_warehouse, read_only=True) as engine:
        table = timeliness_from_warehouse(engine, ["class"], START, END).set_index("class")
        curve = epidemic_curve_from_warehouse(engine, date(2024, 1, 1), date(2024, 1, 14), interval="week")
    assert table.loc["A", "on_time"] == 0  # 2 h 1 min for cholera
    assert table.loc["B", "share_on_time"] == 1.0  # exactly 24 h, and the suspected case at 1 h
    # By diagnosis date: case 7 (onset 2023-12-31) was diagnosed on 2024-01-01; the 25 h report is late.
    assert (table.loc["C", "judged"], table.loc["C", "on_time"]) == (4, 3)
    assert curve["cases"].tolist() == [2, 1]


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test root."""

    register(app)
    return app


def test_cli_rates_json_with_standard(small_warehouse: Path) -> None:
    args = ["epi", "rates", "--warehouse", str(small_warehouse), "--by", "city", "--from", "2024-01-01"]
    result = CliRunner().invoke(
        _app(), [*args, "--to", "2024-12-31", "--standard", "who", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    row = data["rows"][0]
    assert (row["city"], row["name"], row["cases"]) == ("330100", "杭州市", 5)
    assert row["rate"] == pytest.approx(5 / 1_000_000 * 1e5)
    assert row["adj_rate"] > 0 and data["standard"] == "who"


def test_cli_rates_table_and_csv(small_warehouse: Path) -> None:
    base = ["epi", "rates", "--warehouse", str(small_warehouse), "--from", "2024-01-01", "--to", "2024-06-30"]
    table = CliRunner().invoke(_app(), [*base, "--by", "sex"])
    assert table.exit_code == 0, table.output
    assert "Incidence" in table.stdout and "per 100,000 person-years" in table.stdout
    csv = CliRunner().invoke(_app(), [*base, "--by", "age_group", "--format", "csv", "--no-annualise"])
    assert csv.exit_code == 0, csv.output
    assert csv.stdout.splitlines()[0] == "age_group,population,cases,rate,lower,upper"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--by", "ward"], "--by 'ward'"),
        (["--by", "sex", "--standard", "us2000"], "--standard 'us2000'"),
        (["--by", "age_group", "--standard", "who"], "cannot be age-standardised"),
        (["--by", "sex", "--format", "xml"], "--format 'xml'"),
    ],
)
def test_cli_user_mistakes_are_messages_not_tracebacks(
    small_warehouse: Path, extra: list[str], message: str
) -> None:
    args = ["epi", "rates", "--warehouse", str(small_warehouse), "--from", "2024-01-01", "--to", "2024-12-31"]
    result = CliRunner().invoke(_app(), [*args, *extra])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_cli_bad_dates_and_missing_warehouse(tmp_path: Path, small_warehouse: Path) -> None:
    args = ["epi", "rates", "--by", "sex", "--from", "2024-01-01"]
    missing = CliRunner().invoke(
        _app(), [*args, "--to", "2024-12-31", "--warehouse", str(tmp_path / "no.duckdb")]
    )
    assert missing.exit_code == 2 and "no warehouse" in missing.output
    reversed_ = CliRunner().invoke(_app(), [*args, "--to", "2023-12-31", "--warehouse", str(small_warehouse)])
    assert reversed_.exit_code == 2 and "before" in reversed_.output
    not_a_date = CliRunner().invoke(
        _app(), [*args, "--to", "31/12/2024", "--warehouse", str(small_warehouse)]
    )
    assert not_a_date.exit_code == 2 and "YYYY-MM-DD" in not_a_date.output
