"""Incidence and Garwood's exact Poisson limits, against scipy by hand and published values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from provista.analytics.epi import EpiInputError, incidence, poisson_limits
from provista.errors import StatisticalWarning

# 95 % exact Poisson limits for a count x as textbooks tabulate them (x = 0: upper 3.689, the value the
# task cites; x = 1: 0.0253-5.572; x = 2: 0.242-7.225; x = 10: 4.795-18.39). Tolerance: the printed
# precision (5e-4 absolute).
PUBLISHED = [(0, 0.0, 3.689), (1, 0.0253, 5.572), (2, 0.242, 7.225), (10, 4.795, 18.390)]


@pytest.mark.parametrize(("x", "lower", "upper"), PUBLISHED)
def test_garwood_limits_match_published_values(x: int, lower: float, upper: float) -> None:
    lo, hi = poisson_limits([x])
    assert lo[0] == pytest.approx(lower, abs=5e-4)
    assert hi[0] == pytest.approx(upper, abs=5e-4)


@pytest.mark.parametrize("conf", [0.90, 0.95, 0.99])
def test_garwood_limits_are_the_chi_square_quantiles(conf: float) -> None:
    x = np.array([0, 1, 3, 17, 250, 12_345])
    alpha = 1 - conf
    lo, hi = poisson_limits(x, conf)
    by_hand_lo = [0.0 if k == 0 else chi2.ppf(alpha / 2, 2 * k) / 2 for k in x]
    by_hand_hi = [chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2 for k in x]
    np.testing.assert_allclose(lo, by_hand_lo, rtol=1e-12)
    np.testing.assert_allclose(hi, by_hand_hi, rtol=1e-12)


def test_zero_events_upper_limit_is_minus_log_alpha_half() -> None:
    # For x = 0 the exact upper limit solves exp(-mu) = alpha/2: mu = -ln(0.025) = 3.6889.
    assert poisson_limits([0])[1][0] == pytest.approx(-np.log(0.025), rel=1e-12)


def test_incidence_per_100000_by_group_with_limits() -> None:
    cases = pd.DataFrame({"county": ["a", "a", "b"], "disease": ["x", "y", "x"], "cases": [3, 4, 0]})
    pop = pd.DataFrame({"county": ["a", "b", "c"], "population": [200_000, 50_000, 10_000]})
    table = incidence(cases, pop, ["county"])
    assert table["county"].tolist() == ["a", "b", "c"]
    assert table["cases"].tolist() == [7, 0, 0]
    assert table["rate"].tolist() == pytest.approx([3.5, 0.0, 0.0])
    lo, hi = poisson_limits([7, 0, 0])
    assert table["lower"].tolist() == pytest.approx(list(lo / [2, 0.5, 0.1]), rel=1e-12)
    assert table["upper"].tolist() == pytest.approx(list(hi / [2, 0.5, 0.1]), rel=1e-12)


def test_incidence_multiplier_and_person_years() -> None:
    cases = pd.DataFrame({"cases": [30]})
    pop = pd.DataFrame({"population": [1_000]})
    table = incidence(cases, pop, multiplier=1_000, years=2.0)
    assert table["rate"].iloc[0] == pytest.approx(15.0)
    assert table["upper"].iloc[0] == pytest.approx(poisson_limits([30])[1][0] / 2000 * 1000)


def test_cases_without_population_are_an_error() -> None:
    cases = pd.DataFrame({"sex": ["M", "U"], "cases": [1, 2]})
    pop = pd.DataFrame({"sex": ["M", "F"], "population": [10, 10]})
    with pytest.raises(EpiInputError, match="2 case"):
        incidence(cases, pop, ["sex"])


def test_missing_column_names_what_is_there() -> None:
    with pytest.raises(EpiInputError, match="lacks column"):
        incidence(pd.DataFrame({"n": [1]}), pd.DataFrame({"population": [1]}))


def test_zero_population_warns_and_gives_nan() -> None:
    cases = pd.DataFrame({"g": ["a"], "cases": [0]})
    pop = pd.DataFrame({"g": ["a"], "population": [0]})
    with pytest.warns(StatisticalWarning):
        table = incidence(cases, pop, ["g"])
    assert np.isnan(table["rate"].iloc[0])


def test_bad_confidence_level() -> None:
    with pytest.raises(EpiInputError):
        poisson_limits([1], conf=95)
