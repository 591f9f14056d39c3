"""The detectors' shared contract, hand computations, independent reference implementations, edge cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from provista.analytics.surveillance.detectors import (
    DETECTORS,
    CountSeries,
    DetectorParameterError,
    DetectorRangeError,
    detect_outbreaks,
    detector_from_strings,
)
from provista.analytics.surveillance.detectors.series import nearest_same_weekday, shift_months

HEAD = ["t", "date", "observed", "upperbound", "alarm"]


def index_only(series: CountSeries) -> CountSeries:
    return replace(series, dates=None)


@pytest.mark.parametrize("method", sorted(DETECTORS))
def test_every_detector_shares_the_output_contract(method: str, salm_newport: CountSeries):
    detection = detect_outbreaks(salm_newport, method)
    table = detection.table
    assert list(table.columns[:5]) == HEAD
    first, last = detection.control["range"]
    assert table["t"].tolist() == list(range(first, last + 1))
    assert last == salm_newport.n
    assert (table["observed"].to_numpy() == salm_newport.y(table["t"].to_numpy())).all()
    assert table["date"].iloc[0] == salm_newport.dates[first - 1].isoformat()
    assert 0 <= detection.alarms < len(table)
    with pytest.raises(DetectorParameterError, match="unknown parameter"):
        DETECTORS[method](nonsense=1)


@pytest.mark.parametrize("method", ["ears-c1", "ears-c3", "cusum", "glr-pois", "glr-nb"])
def test_methods_without_a_calendar_ignore_the_dates(method: str, salm_newport: CountSeries):
    dated = detect_outbreaks(salm_newport, method).table
    indexed = detect_outbreaks(index_only(salm_newport), method).table
    assert (indexed["date"] == "").all()
    pd.testing.assert_frame_equal(dated.drop(columns="date"), indexed.drop(columns="date"))


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("farrington-flexible", {"b": 3}),
        ("farrington-flexible", {"b": 3, "noPeriods": 4}),
        ("farrington", {"b": 3}),
    ],
)
def test_index_series_agree_with_dated_ones_where_the_reference_weeks_coincide(
    method: str, params: dict, salm_newport: CountSeries
):
    """Index-only series find reference weeks as t - 52·i ± w; where that gives the calendar's weeks,
    results must equal the dated series' (checked against R above)."""
    dated = detect_outbreaks(salm_newport, method, range=(270, 528), **params).table
    indexed = detect_outbreaks(index_only(salm_newport), method, range=(270, 528), **params).table
    same = dated["ref_idx"].map(lambda s: sorted(s.split(";"))) == indexed["ref_idx"].map(
        lambda s: sorted(s.split(";"))
    )
    assert 20 < same.sum() < len(same)  # both kinds of rows occur
    for column in dated.columns.drop(["date", "ref_idx"]):
        a, b = dated.loc[same, column], indexed.loc[same, column]
        if pd.api.types.is_float_dtype(a):
            np.testing.assert_allclose(b, a, rtol=1e-9, err_msg=column)
        else:
            assert (a.astype(str) == b.astype(str)).all(), column


def test_ears_c1_by_hand():
    series = CountSeries(observed=np.array([1, 2, 3, 4, 5, 6, 7, 20]))
    row = detect_outbreaks(series, "ears-c1").table.iloc[0]
    sd = np.sqrt(np.sum((np.arange(1, 8) - 4.0) ** 2) / 6)
    assert row["ref_mean"] == pytest.approx(4.0)
    assert row["upperbound"] == pytest.approx(4 + stats.norm.ppf(0.999) * sd)
    assert bool(row["alarm"])


def test_ears_with_a_constant_reference_window():
    """minSigma = 0, sd = 0: C1 bound is the mean (alarm when above); C3 is NA (as the package)."""
    c1 = detect_outbreaks(CountSeries(observed=np.array([3] * 7 + [4])), "ears-c1").table.iloc[0]
    assert c1["upperbound"] == 3 and bool(c1["alarm"]) and np.isinf(c1["stat_C1"])
    c3 = detect_outbreaks(CountSeries(observed=np.array([3] * 14)), "ears-c3").table
    assert c3["upperbound"].isna().all() and c3["alarm"].isna().all()
    c1_floor = detect_outbreaks(CountSeries(observed=np.array([3] * 7 + [4])), "ears-c1", minSigma=1)
    assert c1_floor.table["upperbound"].iloc[0] == pytest.approx(3 + stats.norm.ppf(0.999))


def test_cusum_by_hand():
    series = CountSeries(observed=np.array([2, 2, 2, 2, 9, 4, 0]))
    table = detect_outbreaks(series, "cusum", range=(5, 7)).table
    m, k, h = 2.0, 1.04, 2.26
    c1 = max(0, (9 - m) / np.sqrt(m) - k)
    c2 = max(0, c1 + (4 - m) / np.sqrt(m) - k)
    np.testing.assert_allclose(table["cusum_stat"], [c1, c2, max(0, c2 + (0 - m) / np.sqrt(m) - k)])
    assert table["alarm"].tolist() == [True, True, False]  # no reset after an alarm
    assert table["upperbound"].tolist() == [np.ceil(np.sqrt(m) * (h + k - c) + m) for c in (0, c1, c2)]


def test_cusum_with_an_in_control_mean_of_zero_stays_undefined_as_in_r():
    """No case before the range: m = 0, the first zero count standardises to 0/0 = NaN, and R's pmax keeps
    the sum NaN from there on, so nothing is raised (a sum reset to 0 would alarm on the first case)."""
    series = CountSeries(observed=np.array([0, 0, 0, 0, 0, 3, 5]))
    with np.errstate(divide="ignore", invalid="ignore"):
        table = detect_outbreaks(series, "cusum", range=(5, 7)).table
    assert np.isnan(table["cusum_stat"]).all()
    assert not table["alarm"].any()


def _outbreak_series(seed: int = 3) -> CountSeries:
    rng = np.random.default_rng(seed)
    t = np.arange(1, 209)
    mean = np.exp(1.2 + 0.5 * np.sin(2 * np.pi * t / 52))
    y = rng.poisson(mean)
    y[170:176] += np.array([4, 8, 12, 9, 5, 3])
    y[190:193] += np.array([6, 9, 7])
    return CountSeries(observed=y)


def _brute_force_glr(x, mu0, threshold, loglik_ratio):
    """GLR_n = max over change points of the maximised log-likelihood ratio, restarting after alarms."""
    stat, alarm, start = np.zeros(len(x)), np.zeros(len(x), dtype=bool), 0
    for n in range(len(x)):
        best = -np.inf
        for k in range(start, n + 1):
            res = optimize.minimize_scalar(
                lambda kappa, k=k, n=n: -loglik_ratio(kappa, x[k : n + 1], mu0[k : n + 1]),
                bounds=(0, 8),
                method="bounded",
                options={"xatol": 1e-10},
            )
            best = max(best, -res.fun, loglik_ratio(0.0, x[k : n + 1], mu0[k : n + 1]))
        stat[n] = best
        if best >= threshold:
            alarm[n], start = True, n + 1
    return stat, alarm


def test_poisson_glr_equals_a_brute_force_maximisation_with_restarts():
    detection = detect_outbreaks(_outbreak_series(), "glr-pois", range=(157, 208))
    table = detection.table

    def ratio(kappa, x, mu):
        return np.sum(stats.poisson.logpmf(x, mu * np.exp(kappa)) - stats.poisson.logpmf(x, mu))

    stat, alarm = _brute_force_glr(table["observed"].to_numpy(), table["mu0"].to_numpy(), 5.0, ratio)
    assert alarm.sum() >= 2
    assert table["alarm"].tolist() == alarm.tolist()
    np.testing.assert_allclose(table["upperbound"], stat, rtol=1e-6, atol=1e-8)


def test_negative_binomial_glr_equals_a_brute_force_maximisation_with_restarts():
    alpha = 0.3
    detection = detect_outbreaks(_outbreak_series(), "glr-nb", range=(157, 208), alpha=alpha)
    assert detection.control["alpha"] == alpha
    table = detection.table

    def ratio(kappa, x, mu):
        def logpmf(m):
            return stats.nbinom.logpmf(x, 1 / alpha, 1 / (1 + alpha * m))

        return np.sum(logpmf(mu * np.exp(kappa)) - logpmf(mu))

    stat, alarm = _brute_force_glr(table["observed"].to_numpy(), table["mu0"].to_numpy(), 5.0, ratio)
    assert alarm.sum() >= 1
    assert table["alarm"].tolist() == alarm.tolist()
    np.testing.assert_allclose(table["upperbound"], stat, rtol=1e-6, atol=1e-8)


def test_moving_percentile_by_hand():
    """Index series, 10 periods a year, windows of 2, 3 years back, ±1 window: t = 40 by hand."""
    y = np.zeros(40, dtype=int)
    for end, total in {8: 1, 12: 2, 18: 3, 20: 1, 28: 4, 30: 2, 32: 5}.items():
        y[end - 1] = total  # window sums S(e) = y[e-1] + y[e]; S(10) = S(22) = 0
    y[38], y[39] = 2, 2
    params = {"window": 2, "b": 3, "w": 1, "percentile": 80}
    row = detect_outbreaks(CountSeries(observed=y, freq=10), "mpm", range=(40, 40), **params).table.iloc[0]
    # historical sums 0,0,1,1,2,2,3,4,5; P80 (type 7): position 0.8·8 = 6.4 → 3 + 0.4·(4 - 3)
    assert row["ref_idx"] == "28;30;32;18;20;22;8;10;12"
    assert row["n_windows"] == 9
    assert row["window_count"] == 4
    assert row["upperbound"] == pytest.approx(3.4)
    assert bool(row["alarm"])
    y[39] = 1
    row = detect_outbreaks(CountSeries(observed=y, freq=10), "mpm", range=(40, 40), **params).table.iloc[0]
    assert row["window_count"] == 3 and not bool(row["alarm"])


def test_moving_percentile_on_a_daily_series_uses_15_seven_day_windows():
    start = dt.date(2020, 1, 1)
    days = (dt.date(2025, 1, 1) - start).days
    rng = np.random.default_rng(1)
    series = CountSeries(
        observed=rng.poisson(3, days),
        dates=tuple(start + dt.timedelta(days=i) for i in range(days)),
        freq=365,
    )
    detection = detect_outbreaks(series, "mpm")
    assert detection.control["window"] == 7
    assert (detection.table["n_windows"] == 15).all()
    first = detection.table.iloc[0]
    # the earliest window (3 years back, 2 windows earlier) must start on the first day: 2020-01-21 - 20 days
    assert first["date"] == "2023-01-21"
    leap = detection.table.set_index("date").loc["2024-02-29", "ref_idx"].split(";")
    assert series.dates[int(leap[2]) - 1] == dt.date(2023, 3, 1)  # R's rollover of 29 February


def test_r_calendar_arithmetic():
    assert shift_months(dt.date(2008, 2, 29), -12) == dt.date(2007, 3, 1)
    assert shift_months(dt.date(2009, 1, 19), -60) == dt.date(2004, 1, 19)
    assert shift_months(dt.date(2011, 3, 31), -1) == dt.date(2011, 3, 3)
    monday = dt.date(2009, 1, 19)
    assert nearest_same_weekday(dt.date(2004, 1, 22), monday) == dt.date(2004, 1, 19)  # Thursday → back
    assert nearest_same_weekday(dt.date(2004, 1, 23), monday) == dt.date(2004, 1, 26)  # Friday → on


def test_parameters_are_checked_with_r_names(salm_newport: CountSeries):
    flexible = detector_from_strings("farrington-flexible", ["thresholdMethod=muan", "limit54=5,4", "b=4"])
    assert flexible.control["b"] == 4 and flexible.control["limit54"] == (5, 4)
    with pytest.raises(DetectorParameterError, match="thresholdMethod"):
        detector_from_strings("farrington-flexible", ["thresholdMethod=fancy"])
    with pytest.raises(DetectorParameterError, match="alpha"):
        detector_from_strings("ears-c2", ["alpha=2"])
    with pytest.raises(DetectorParameterError, match="unknown method"):
        detector_from_strings("holt-winters", [])
    with pytest.raises(DetectorRangeError, match="past the last period"):
        detect_outbreaks(salm_newport, "cusum", range="500:600")
    with pytest.raises(DetectorRangeError, match="start the range at 8"):
        detect_outbreaks(salm_newport, "ears-c1", range="3:20")


def test_muan_threshold_is_at_least_the_plug_in_one(salm_newport: CountSeries):
    params = {"noPeriods": 10, "pastWeeksNotIncluded": 26, "range": (480, 528)}
    plug_in = detect_outbreaks(
        salm_newport, "farrington-flexible", thresholdMethod="nbPlugin", **params
    ).table
    muan = detect_outbreaks(salm_newport, "farrington-flexible", thresholdMethod="muan", **params).table
    assert (muan["mu0"] > plug_in["mu0"]).all()
    ok = plug_in["upperbound"].notna()
    assert (muan.loc[ok, "upperbound"] >= plug_in.loc[ok, "upperbound"]).all()


def test_population_offset_of_a_constant_population_changes_nothing(salm_newport: CountSeries):
    params = {"range": (500, 528)}
    plain = detect_outbreaks(salm_newport, "farrington-flexible", **params).table
    constant = replace(salm_newport, population=np.full(salm_newport.n, 80e6))
    offset = detect_outbreaks(constant, "farrington-flexible", populationOffset=True, **params).table
    np.testing.assert_allclose(offset["upperbound"], plain["upperbound"], rtol=1e-9)
    assert offset["alarm"].tolist() == plain["alarm"].tolist()


def test_classic_farrington_goes_on_with_missing_reference_weeks_and_warns(salm_newport: CountSeries):
    from provista.errors import StatisticalWarning

    with pytest.warns(StatisticalWarning, match="lack some of the 21 reference values"):
        table = detect_outbreaks(salm_newport, "farrington", b=3, range=(158, 170)).table
    assert table["ref_idx"].iloc[0].count(";") + 1 < 21
    assert table["ref_idx"].iloc[-1].count(";") + 1 == 21
