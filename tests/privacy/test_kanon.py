"""k-anonymity: generalisation steps by hand, the least generalisation on small hand-made tables, and
`provista export` on the tiny province (written k-anonymous, or refused with nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from provista.privacy.kanon import (
    Generalisation,
    KAnonymityError,
    QuasiIdentifiers,
    anonymise,
    generalise,
)
from tests.conftest import ROOT

QI = QuasiIdentifiers(age=("age",), dates=("day",), regions=("county",), kept=("sex",))


def _frame(ages: list[int], county: str = "330106", day: str = "2025-05-17") -> pd.DataFrame:
    n = len(ages)
    return pd.DataFrame(
        {"age": ages, "day": [day] * n, "county": [county] * n, "sex": ["F"] * n, "x": range(n)}
    )


@pytest.mark.parametrize(
    "g, expected",
    [
        (Generalisation(0, 0, 0), ["37", "90+", "2025-05-17", "330106"]),  # 90 and over: one group
        (Generalisation(1, 1, 1), ["35-39", "90+", "2025-05", "330100"]),
        (Generalisation(2, 2, 2), ["30-39", "90+", "2025Q2", "330000"]),
        (Generalisation(2, 3, 2), ["30-39", "90+", "2025", "330000"]),
    ],
)
def test_each_step_of_each_hierarchy(g: Generalisation, expected: list[str]) -> None:
    frame = pd.DataFrame({"age": [37, 93], "day": ["2025-05-17", "2025-05-17"], "county": ["330106"] * 2})
    out = generalise(frame, QuasiIdentifiers(age=("age",), dates=("day",), regions=("county",)), g)
    assert [*out["age"], out["day"][0], out["county"][0]] == expected


def test_the_least_generalisation_is_found() -> None:
    # Ten people of one county and day, aged 30 to 39: no one shares an exact age, so k = 5 needs
    # 5-year bands (30-34: five, 35-39: five). Coarser dates or regions would not help.
    result = anonymise(_frame(list(range(30, 40))), QI, k=5, max_suppressed=0.0)
    assert result.generalisation == Generalisation(1, 0, 0)
    assert result.suppressed == 0 and result.smallest_group == 5 and result.groups == 2
    assert sorted(result.frame["age"]) == ["30-34"] * 5 + ["35-39"] * 5
    assert list(result.frame["x"]) == list(range(10))  # the other columns pass untouched


def test_records_in_small_groups_are_suppressed_and_reported() -> None:
    # An 80-year-old is alone at every level: one record (1 in 11) must go.
    frame = _frame([*range(30, 40), 80])
    result = anonymise(frame, QI, k=5, max_suppressed=0.10)
    assert result.generalisation == Generalisation(1, 0, 0)
    assert result.suppressed == 1 and len(result.frame) == 10 and 10 not in set(result.frame["x"])
    with pytest.raises(KAnonymityError, match="would suppress 1 records"):
        anonymise(frame, QI, k=5, max_suppressed=0.0)


def test_the_allowed_generalisation_is_respected() -> None:
    # Three 40-year-olds in one county, two in another of the same city: only the city makes five.
    frame = pd.concat([_frame([40] * 3, "330106"), _frame([40] * 2, "330105")], ignore_index=True)
    result = anonymise(frame, QI, k=5, max_suppressed=0.0)
    assert result.generalisation == Generalisation(0, 0, 1)
    assert set(result.frame["county"]) == {"330100"}
    with pytest.raises(KAnonymityError, match="would suppress 5 records"):
        anonymise(frame, QI, k=5, max_suppressed=0.0, coarsest=Generalisation(2, 3, 0))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "provista", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_export_writes_a_k_anonymous_file_without_any_key(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provista.api import audit
    from provista.api.state import AppState

    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    monkeypatch.setenv("PROVISTA_APP_DB", url)
    output = tmp_path / "visits.csv"
    done = _cli(
        "export", "--warehouse", str(warehouse), "--table", "encounter", "--k", "5", "--output", str(output)
    )
    assert done.returncode == 0, done.stderr
    _, events = audit.search(AppState(url), action="export.records")  # an inspector can find who took what
    assert [e.target for e in events] == [str(output.resolve())] and events[0].username.startswith("cli:")
    assert '"k": 5' in events[0].detail
    frame = pd.read_csv(output, dtype=str, keep_default_na=False)
    qi = ["age", "sex", "residence", "hospital_region", "admit_date", "discharge_date"]
    assert frame.groupby(qi).size().min() >= 5  # counted again here, independently
    leaking = {"person_key", "patient_key", "encounter_id", "record_ref", "source_file", "hospital_id"}
    assert not leaking & set(frame.columns)
    report = json.loads((tmp_path / "visits.csv.k-anonymity.json").read_text(encoding="utf-8"))
    assert report["records_in"] == report["records_out"] + report["suppressed"]
    assert report["suppressed"] <= 0.01 * report["records_in"] and report["smallest_group"] >= 5


def test_export_refuses_and_writes_nothing_when_k_cannot_be_reached(warehouse: Path, tmp_path: Path) -> None:
    output = tmp_path / "visits.csv"
    done = _cli(
        "export", "--warehouse", str(warehouse), "--table", "encounter", "--k", "5", "--output", str(output),
        "--coarsest-date", "day", "--coarsest-region", "county",
    )  # fmt: skip
    assert done.returncode == 2
    assert "no allowed generalisation" in done.stderr and "What to do" in done.stderr
    assert not output.exists() and not (tmp_path / "visits.csv.k-anonymity.json").exists()
    bad = _cli("export", "--warehouse", str(warehouse), "--table", "person", "--output", str(output))
    assert bad.returncode == 2 and "no patient-level export" in bad.stderr
