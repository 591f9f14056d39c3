"""Standard populations shipped with the package."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from provista.analytics.epi import AGE_GROUPS, STANDARDS, age_group, standard_population, standard_weights
from provista.analytics.epi.standards import standard_source


@pytest.mark.parametrize("name", STANDARDS)
def test_weights_sum_to_one_over_18_groups(name: str) -> None:
    w = standard_weights(name)
    assert tuple(w.index) == AGE_GROUPS
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert (w > 0).all()


def test_who_and_segi_weights_equal_the_shared_reference(shared: Path) -> None:
    ref = pd.read_csv(shared / "reference/epi/standard_populations.csv").set_index("age_group")
    assert standard_population("who").tolist() == ref["who_2000_2025_per100k"].tolist()
    assert standard_population("segi").tolist() == ref["segi_1960_per100k"].tolist()
    assert standard_weights("who").to_numpy() == pytest.approx(
        ref["who_2000_2025_weight"].to_numpy(), abs=1e-15
    )
    assert standard_weights("segi").to_numpy() == pytest.approx(ref["segi_1960_weight"].to_numpy(), abs=1e-15)


def test_who_85_plus_folds_the_published_21_groups(shared: Path) -> None:
    groups = pd.read_csv(shared / "reference/epi/standard_population_who2000_2025_21groups.csv")
    assert standard_population("who").sum() == groups["who_2000_2025_per100k"].sum() == 100_035
    assert standard_population("who")["85+"] == 440 + 150 + 40 + 5


def test_china_census_standards_add_up_to_the_census_totals() -> None:
    # 6th census (2010) and 5th census (2000), 31 provinces: the published national totals.
    assert int(standard_population("china2010").sum()) == 1_332_810_869
    assert int(standard_population("china2000").sum()) == 1_242_612_226
    # Published 2010 groups, checked one by one at both ends.
    c2010 = standard_population("china2010")
    assert c2010["0-4"] == 75_532_610
    assert c2010["80-84"] == 13_373_198
    assert c2010["85+"] == 5_631_928 + 1_578_307 + 369_979 + 35_934


@pytest.mark.parametrize("name", STANDARDS)
def test_every_standard_names_its_source(name: str) -> None:
    assert len(standard_source(name)) > 20


def test_age_groups_of_ages() -> None:
    ages = pd.Series([0, 4, 5, 9, 44, 84, 85, 120, None])
    assert age_group(ages).tolist() == ["0-4", "0-4", "5-9", "5-9", "40-44", "80-84", "85+", "85+", None]
