"""Direct (Fay–Feuer gamma, Dobson) and indirect standardisation, against worked examples and by hand.

The worked example is the one on the help page of R ``epitools::ageadjust.direct`` (epitools 0.5-10.1):
Down syndrome live births by maternal age and birth order, Fleiss (1981) *Statistical Methods for Rates
and Proportions*, p. 249; the help page says it "recreates Table 1 of Fay and Feuer, 1997"
(Stat Med 16:791-801), with the mean population of birth orders 1-5 as the standard. Published values
used below: adjusted rate for first births 92.3 per 100,000 (help page, one decimal), and
DSR = 0.00092305, var = 3.919e-9 (the same data in the tests of the AHRI Python package, ``age_adjust``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import gamma

from provista.analytics.epi import (
    EpiInputError,
    direct_rate,
    direct_standardise,
    indirect_standardise,
    poisson_limits,
)
from provista.errors import StatisticalWarning

AGES = ["Under 20", "20-24", "25-29", "30-34", "35-39", "40 and over"]
# Columns: birth order 1, 2, 3, 4, 5+ (epitools help page, filled column by column).
POPULATION = np.array(
    [
        [230061, 329449, 114920, 39487, 14208, 3052],
        [72202, 326701, 208667, 83228, 28466, 5375],
        [15050, 175702, 207081, 117300, 45026, 8660],
        [2293, 68800, 132424, 98301, 46075, 9834],
        [327, 30666, 123419, 149919, 104088, 34392],
    ]
).T
COUNT = np.array(
    [
        [107, 141, 60, 40, 39, 25],
        [25, 150, 110, 84, 82, 39],
        [3, 71, 114, 103, 108, 75],
        [1, 26, 64, 89, 137, 96],
        [0, 8, 63, 112, 262, 295],
    ]
).T
STANDARD = POPULATION.mean(axis=1)


def _by_hand(d: np.ndarray, n: np.ndarray, big_n: np.ndarray, conf: float = 0.95) -> dict[str, float]:
    """epitools::ageadjust.direct's arithmetic, restated."""
    alpha = 1 - conf
    w = big_n / big_n.sum()
    dsr = np.sum(w * d / n)
    var = np.sum(w**2 * d / n**2)
    wm = np.max(w / n)
    lci = gamma.ppf(alpha / 2, dsr**2 / var, scale=var / dsr)
    uci = gamma.ppf(1 - alpha / 2, (dsr + wm) ** 2 / (var + wm**2), scale=(var + wm**2) / (dsr + wm))
    return {"adj_rate": dsr, "variance": var, "lower_gamma": lci, "upper_gamma": uci}


def test_first_births_match_the_published_worked_example() -> None:
    result = direct_rate(COUNT[:, 0], POPULATION[:, 0], STANDARD)
    assert round(result["adj_rate"] * 1e5, 1) == 92.3
    assert result["adj_rate"] == pytest.approx(0.00092305, abs=5e-9)
    assert result["variance"] == pytest.approx(3.919e-9, abs=5e-13)
    assert result["crude_rate"] == pytest.approx(COUNT[:, 0].sum() / POPULATION[:, 0].sum(), rel=1e-15)


@pytest.mark.parametrize("order", range(5))
def test_gamma_limits_are_fay_feuer_as_epitools_computes_them(order: int) -> None:
    result = direct_rate(COUNT[:, order], POPULATION[:, order], STANDARD)
    expected = _by_hand(COUNT[:, order].astype(float), POPULATION[:, order].astype(float), STANDARD)
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, rel=1e-12), key
    assert result["lower_gamma"] < result["adj_rate"] < result["upper_gamma"]


@pytest.mark.parametrize("order", range(5))
def test_dobson_limits_by_hand(order: int) -> None:
    d, n = COUNT[:, order].astype(float), POPULATION[:, order].astype(float)
    result = direct_rate(d, n, STANDARD)
    w = STANDARD / STANDARD.sum()
    dsr, var, total = np.sum(w * d / n), np.sum(w**2 * d / n**2), d.sum()
    o_lo, o_hi = (v[0] for v in poisson_limits([total]))
    assert result["lower_dobson"] == pytest.approx(dsr + np.sqrt(var / total) * (o_lo - total), rel=1e-12)
    assert result["upper_dobson"] == pytest.approx(dsr + np.sqrt(var / total) * (o_hi - total), rel=1e-12)


def test_dobson_is_exact_when_the_standard_is_proportional_to_the_population() -> None:
    # Dobson et al. (1991): with N_i ∝ n_i the DSR is the crude rate and the limits are Garwood's.
    d = np.array([3.0, 8.0, 20.0, 41.0])
    n = np.array([10_000.0, 20_000.0, 15_000.0, 5_000.0])
    result = direct_rate(d, n, 3 * n)
    lo, hi = poisson_limits([d.sum()])
    assert result["adj_rate"] == pytest.approx(d.sum() / n.sum(), rel=1e-12)
    assert result["lower_dobson"] == pytest.approx(lo[0] / n.sum(), rel=1e-12)
    assert result["upper_dobson"] == pytest.approx(hi[0] / n.sum(), rel=1e-12)


def test_no_cases_gives_zero_with_a_finite_gamma_upper_limit() -> None:
    n = np.array([1000.0, 2000.0])
    result = direct_rate([0, 0], n, [1, 1])
    wm = max(0.5 / 1000, 0.5 / 2000)
    assert result["adj_rate"] == 0.0
    assert result["lower_gamma"] == 0.0
    assert result["upper_gamma"] == pytest.approx(gamma.ppf(0.975, 1, scale=wm), rel=1e-12)
    assert result["lower_dobson"] == 0.0
    assert np.isnan(result["upper_dobson"])


def test_direct_standardise_per_group_matches_direct_rate() -> None:
    rows = [
        {
            "order": str(j + 1),
            "age_group": AGES[i],
            "cases": int(COUNT[i, j]),
            "population": int(POPULATION[i, j]),
        }
        for j in range(5)
        for i in range(6)
    ]
    standard = pd.Series(STANDARD, index=AGES)
    table = direct_standardise(pd.DataFrame(rows), standard, ["order"], multiplier=1e5)
    for j in range(5):
        row = table[table["order"] == str(j + 1)].iloc[0]
        single = direct_rate(COUNT[:, j], POPULATION[:, j], STANDARD)
        assert row["adj_rate"] == pytest.approx(single["adj_rate"] * 1e5, rel=1e-12)
        assert row["upper_gamma"] == pytest.approx(single["upper_gamma"] * 1e5, rel=1e-12)
        assert row["lower_dobson"] == pytest.approx(single["lower_dobson"] * 1e5, rel=1e-12)
        assert row["cases"] == COUNT[:, j].sum()


def test_direct_standardise_with_a_shipped_standard() -> None:
    from provista.analytics.epi import AGE_GROUPS, standard_weights

    table = pd.DataFrame({"age_group": AGE_GROUPS, "cases": range(18), "population": [10_000] * 18})
    result = direct_standardise(table, "segi")
    by_hand = float((standard_weights("segi") * pd.Series(range(18), index=AGE_GROUPS) / 10_000).sum()) * 1e5
    assert result["adj_rate"].iloc[0] == pytest.approx(by_hand, rel=1e-12)


def test_age_group_missing_from_a_population_warns() -> None:
    table = pd.DataFrame({"age_group": ["0-4"], "cases": [1], "population": [100]})
    with pytest.warns(StatisticalWarning):
        result = direct_standardise(table, "who")
    assert np.isnan(result["adj_rate"].iloc[0])


def test_unknown_age_group_is_an_error() -> None:
    table = pd.DataFrame({"age_group": ["0-5"], "cases": [1], "population": [100]})
    with pytest.raises(EpiInputError, match="0-5"):
        direct_standardise(table, "who")


def test_smr_observed_over_expected_with_exact_limits() -> None:
    reference = pd.DataFrame(
        {"age_group": ["young", "old"], "cases": [50, 300], "population": [100_000, 60_000]}
    )
    study = pd.DataFrame(
        {
            "county": ["a", "a", "b", "b"],
            "age_group": ["young", "old", "young", "old"],
            "cases": [4, 30, 0, 2],
            "population": [2_000, 4_000, 1_000, 200],
        }
    )
    table = indirect_standardise(study, reference, ["county"]).set_index("county")
    # Expected by hand: a = 2000*0.0005 + 4000*0.005 = 21; b = 1000*0.0005 + 200*0.005 = 1.5.
    assert table.loc["a", "expected"] == pytest.approx(21.0)
    assert table.loc["b", "expected"] == pytest.approx(1.5)
    assert table.loc["a", "smr"] == pytest.approx(34 / 21)
    lo, hi = poisson_limits([34, 2])
    assert table.loc["a", "lower"] == pytest.approx(lo[0] / 21, rel=1e-12)
    assert table.loc["a", "upper"] == pytest.approx(hi[0] / 21, rel=1e-12)
    assert table.loc["b", "upper"] == pytest.approx(hi[1] / 1.5, rel=1e-12)


def test_smr_from_reference_rates_and_a_known_value() -> None:
    # O = 10, E = 10: SMR 1 with limits (0.4795, 1.8390), the tabulated exact limits for 10 events / 10.
    study = pd.DataFrame({"age_group": ["all"], "cases": [10], "population": [1_000]})
    table = indirect_standardise(study, pd.DataFrame({"age_group": ["all"], "rate": [0.01]}))
    assert table["smr"].iloc[0] == pytest.approx(1.0)
    assert table["lower"].iloc[0] == pytest.approx(0.4795, abs=5e-5)
    assert table["upper"].iloc[0] == pytest.approx(1.8390, abs=5e-5)


def test_smr_needs_a_reference_rate_for_every_age_group() -> None:
    study = pd.DataFrame({"age_group": ["x"], "cases": [1], "population": [10]})
    with pytest.raises(EpiInputError, match="no rate"):
        indirect_standardise(study, pd.DataFrame({"age_group": ["y"], "rate": [0.1]}))
