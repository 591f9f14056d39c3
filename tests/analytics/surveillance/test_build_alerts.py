"""Outbreak detection in the build: the producer on a small warehouse with injected spikes, every fast path
against the detector run series by series, the configuration's checks, and the merging of alarm periods."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from provista.analytics.surveillance import panel_detection
from provista.analytics.surveillance.detection_config import (
    CONFIG_FILE,
    DetectionConfigError,
    MethodConfig,
    load_config,
)
from provista.analytics.surveillance.detectors import DETECTORS, CountSeries, detect_outbreaks
from provista.analytics.surveillance.outbreak_alerts import signal_series, surveillance_alerts
from provista.analytics.surveillance.panel import SeriesPanel, calendar, load_panels
from provista.analytics.surveillance.panel_detection import Alarms, scan, signals
from provista.engine import DuckDBEngine
from provista.warehouse.alerts import columns, derive_alerts, with_ids
from provista.warehouse.schema import create_all

FLU, MEASLES = "流行性感冒", "麻疹"
DAY_SPIKE = dt.date(2025, 6, 10)  # 18 extra influenza cases in 330102 on one day
WEEK_SPIKE = dt.date(2025, 3, 3)  # a Monday: 12 extra measles cases in 330203 over that week
FIRST, LAST = dt.date(2021, 1, 1), dt.date(2025, 12, 31)
CONFIG = """
case_classes: [确诊病例, 临床诊断病例, 疑似病例]
daily:
  - {method: ears-c2, params: {baseline: 7, alpha: 0.001, minSigma: 1}, min_count: 3}
  - {method: mpm, params: {window: 7, b: 3, w: 2, percentile: 90}, min_count: 5}
weekly:
  - method: farrington-flexible
    params: {b: 3, w: 3, noPeriods: 10, pastWeeksNotIncluded: 26, thresholdMethod: nbPlugin, alpha: 0.01}
    min_count: 5
severity: {critical_classes: [A], critical_ratio: 2.0}
"""


def _cases() -> pd.DataFrame:
    """Background onsets for 2 counties × 2 diseases, the two spikes, and carriers that must not count."""
    rng = np.random.default_rng(42)
    days = pd.date_range(FIRST, LAST, freq="D")
    season = 1 + 0.6 * np.cos(2 * np.pi * (days.day_of_year.to_numpy() - 15) / 365.25)
    rows = []
    for county, flu_mean in (("330102", 3.0), ("330203", 1.5)):
        for disease, mean in ((FLU, flu_mean * season), (MEASLES, np.full(len(days), 0.03))):
            n = rng.poisson(mean)
            rows.append(
                pd.DataFrame({"county_code": county, "disease": disease, "onset_date": np.repeat(days, n)})
            )
    rows.append(
        pd.DataFrame({"county_code": "330102", "disease": FLU, "onset_date": [pd.Timestamp(DAY_SPIKE)] * 18})
    )
    week = [pd.Timestamp(WEEK_SPIKE + dt.timedelta(days=i % 7)) for i in range(12)]
    rows.append(pd.DataFrame({"county_code": "330203", "disease": MEASLES, "onset_date": week}))
    frame = pd.concat(rows, ignore_index=True)
    frame["case_class"] = "确诊病例"
    carriers = frame.sample(40, random_state=1).assign(
        case_class="病原携带者", onset_date=pd.Timestamp(DAY_SPIKE)
    )
    frame = pd.concat([frame, carriers], ignore_index=True)
    frame["disease_class"] = np.where(frame["disease"] == FLU, "C", "B")
    frame["report_id"] = [f"R{i}" for i in range(len(frame))]
    frame["source_file"], frame["record_ref"] = "cdc/case_reports.csv", frame["report_id"]
    frame["onset_date"] = frame["onset_date"].dt.date
    return frame


@pytest.fixture(scope="module")
def spiked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    path = tmp_path_factory.mktemp("spiked") / "w.duckdb"
    cases = _cases()
    with DuckDBEngine(path) as engine:
        create_all(engine)
        engine.append(
            "region",
            pd.DataFrame(
                {
                    "code": ["330000", "330100", "330200", "330102", "330203"],
                    "name_zh": ["浙江省", "杭州市", "宁波市", "上城区", "海曙区"],
                    "name_en": ["Zhejiang", "Hangzhou", "Ningbo", "Shangcheng", "Haishu"],
                    "level": ["province", "prefecture", "prefecture", "county", "county"],
                    "parent_code": [None, "330000", "330000", "330100", "330200"],
                }
            ),
        )
        engine.append("case_report", cases)
    return path, cases


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "detection.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("PROVISTA_DETECTION_CONFIG", str(path))
    return path


def _series(cases: pd.DataFrame, county: str, disease: str, weekly: bool) -> CountSeries:
    """The series built here from the case rows (not by the code under test)."""
    counted = cases[
        (cases["county_code"] == county)
        & (cases["disease"] == disease)
        & (cases["case_class"] != "病原携带者")
    ]
    daily = counted.groupby("onset_date").size().reindex(pd.date_range(FIRST, LAST).date, fill_value=0)
    if not weekly:
        return CountSeries(observed=daily.to_numpy(), dates=tuple(daily.index), freq=365)
    monday = FIRST + dt.timedelta(days=(7 - FIRST.weekday()) % 7)
    weeks = ((LAST - monday).days + 1) // 7
    starts = [monday + dt.timedelta(weeks=i) for i in range(weeks)]
    counts = [int(daily.loc[s : s + dt.timedelta(days=6)].sum()) for s in starts]
    return CountSeries(observed=np.array(counts), dates=tuple(starts), freq=52)


def _direct(series: CountSeries, method: str, params: dict, day: dt.date) -> pd.Series:
    table = detect_outbreaks(series, method, **params).table
    return table[table["date"] == day.isoformat()].iloc[0]


def test_the_producer_raises_the_spikes_with_the_detectors_own_thresholds(spiked, config_file):
    path, cases = spiked
    stages: dict[str, tuple[int, int]] = {}
    with DuckDBEngine(path, read_only=True) as engine:
        alerts = surveillance_alerts(
            engine, lambda stage, done, total: stages.__setitem__(stage, (done, total))
        )
    assert set(columns()[1:]) - {"hospital_id"} <= set(alerts.columns)
    assert (alerts["source"] == "surveillance").all()
    assert stages and all(done == total for done, total in stages.values())
    config = load_config(config_file)

    def one(rule: str, county: str, disease: str, start: dt.date) -> pd.Series:
        same = (alerts["rule"] == rule) & (alerts["county_code"] == county) & (alerts["subject"] == disease)
        hit = alerts[same & (pd.to_datetime(alerts["period_start"]).dt.date == start)]
        assert len(hit) == 1, alerts[alerts["rule"] == rule].head()
        return hit.iloc[0]

    flu = _series(cases, "330102", FLU, weekly=False)
    alert = one("ears-c2", "330102", FLU, DAY_SPIKE)
    direct = _direct(flu, "ears-c2", config.method("daily", "ears-c2").kwargs, DAY_SPIKE)
    assert direct["alarm"]
    assert alert["observed"] == direct["observed"] == flu.y(flu.index_of(DAY_SPIKE))
    assert alert["threshold"] == pytest.approx(direct["upperbound"], rel=1e-12)
    assert alert["city_code"] == "330100" and alert["frequency"] == "daily"
    assert alert["severity"] == "critical"  # 18 + background against a bound near 8
    assert "上城区" in alert["detail_zh"] and "Influenza" in alert["detail_en"]

    measles = _series(cases, "330203", MEASLES, weekly=True)
    weekly = one("farrington-flexible", "330203", MEASLES, WEEK_SPIKE)
    direct = _direct(
        measles, "farrington-flexible", config.method("weekly", "farrington-flexible").kwargs, WEEK_SPIKE
    )
    assert direct["alarm"] and weekly["observed"] == direct["observed"] >= 12
    assert weekly["threshold"] == pytest.approx(direct["upperbound"], rel=1e-12)
    assert pd.Timestamp(weekly["period_end"]).date() >= WEEK_SPIKE + dt.timedelta(days=6)

    daily_measles = _series(cases, "330203", MEASLES, weekly=False)
    mpm = alerts[
        (alerts["rule"] == "mpm") & (alerts["subject"] == MEASLES) & (alerts["county_code"] == "330203")
    ]
    first = pd.to_datetime(mpm["period_start"]).dt.date
    inside = mpm[(first >= WEEK_SPIKE) & (first <= WEEK_SPIKE + dt.timedelta(days=13))]
    assert len(inside) == 1
    row = inside.iloc[0]
    direct = _direct(
        daily_measles, "mpm", config.method("daily", "mpm").kwargs, pd.Timestamp(row["period_start"]).date()
    )
    assert direct["alarm"] and row["observed"] == direct["window_count"] >= 5
    assert row["threshold"] == pytest.approx(direct["upperbound"], rel=1e-12)


def test_alerts_keep_their_ids_and_enter_the_alert_table(spiked, config_file, tmp_path):
    path, _ = spiked
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(path.read_bytes())
    producer = ["provista.analytics.surveillance.outbreak_alerts:surveillance_alerts"]
    with DuckDBEngine(copy) as engine:
        first = derive_alerts(engine, lambda *a: None, producer)
        ids = set(engine.frame("SELECT alert_id FROM alert")["alert_id"])
        second = derive_alerts(engine, lambda *a: None, producer)
        again = set(engine.frame("SELECT alert_id FROM alert")["alert_id"])
    assert first == second == len(ids) > 0
    assert ids == again


def test_a_warehouse_without_case_reports_gives_no_alerts(tmp_path, config_file):
    with DuckDBEngine(tmp_path / "empty.duckdb") as engine:
        create_all(engine)
        frame = surveillance_alerts(engine, lambda *a: None)
        assert frame.empty
        assert len(with_ids(frame)) == 0


def test_the_signal_series_is_the_detectors_around_the_signal(spiked, config_file):
    path, cases = spiked
    config = load_config(config_file)
    with DuckDBEngine(path, read_only=True) as engine:
        frame = signal_series(engine, config, method="ears-c2", frequency="daily", county="330102",
                              disease=FLU, start=DAY_SPIKE, end=DAY_SPIKE)  # fmt: skip
    assert frame is not None
    assert frame["date"].min() == DAY_SPIKE - dt.timedelta(days=56)
    assert frame["date"].max() == DAY_SPIKE + dt.timedelta(days=28)
    table = detect_outbreaks(_series(cases, "330102", FLU, weekly=False), "ears-c2",
                             **config.method("daily", "ears-c2").kwargs).table  # fmt: skip
    table = table.set_index("date").loc[[d.isoformat() for d in frame["date"]]]
    np.testing.assert_allclose(frame["threshold"], table["upperbound"], rtol=1e-12)
    assert (frame["alarm"].to_numpy() == table["alarm"].fillna(False).to_numpy(dtype=bool)).all()
    assert frame.loc[frame["date"] == DAY_SPIKE, "alarm"].item()


# --- every fast path against the detector, series by series -----------------------------------------------


def _panel(frequency: str, n_series: int = 6, years: int = 4, seed: int = 3) -> SeriesPanel:
    rng = np.random.default_rng(seed)
    dates = calendar(frequency, dt.date(2020, 1, 1), dt.date(2020 + years - 1, 12, 31))
    means = np.array([0.05, 0.4, 1.5, 4.0, 12.0, 30.0])[:n_series] * (7 if frequency == "weekly" else 1)
    counts = rng.negative_binomial(3, 3 / (3 + means[:, None]), (n_series, len(dates))).astype(float)
    counts[:, len(dates) - 20 : len(dates) - 17] *= 3  # a rise near the end in every series
    return SeriesPanel(frequency, dates, np.array([f"C{i}" for i in range(n_series)], dtype=object),
                       np.array(["D"] * n_series, dtype=object), counts)  # fmt: skip


CASES = [
    ("daily", "ears-c1", {}), ("daily", "ears-c2", {"minSigma": 0.5}), ("daily", "ears-c3", {}),
    ("daily", "mpm", {"percentile": 80}), ("weekly", "mpm", {"b": 2, "w": 1}),
    ("weekly", "farrington", {"b": 2}), ("weekly", "farrington-flexible", {"b": 2, "noPeriods": 4}),
    ("weekly", "cusum", {}), ("weekly", "glr-pois", {}), ("weekly", "glr-nb", {"alpha": 0.2}),
]  # fmt: skip


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # glr-nb overflows on a sparse series, as in R
@pytest.mark.parametrize(("frequency", "method", "params"), CASES)
@pytest.mark.parametrize("min_count", [1, 6])
def test_the_panel_scan_equals_the_detector_on_each_series(frequency, method, params, min_count):
    panel = _panel(frequency, n_series=6 if frequency == "weekly" else 4)
    config = MethodConfig(method, frequency, tuple(sorted(params.items())), min_count)
    ticks: list[tuple[int, int]] = []
    alarms = scan(panel, config, lambda done, total: ticks.append((done, total)))
    expected_rows, expected_t, expected_upper = [], [], []
    for row in range(len(panel)):
        table = detect_outbreaks(panel.series(row), method, **params).table
        value = table["window_count"] if method == "mpm" else table["observed"]
        hit = table[table["alarm"].fillna(False).to_numpy(dtype=bool) & (value >= min_count).to_numpy()]
        expected_rows += [row] * len(hit)
        expected_t += hit["t"].tolist()
        expected_upper += hit["upperbound"].tolist()
    assert alarms.row.tolist() == expected_rows
    assert alarms.t.tolist() == expected_t
    np.testing.assert_allclose(alarms.threshold, expected_upper, rtol=1e-12)
    assert len(expected_t) > 0, "the case should raise some alarms"
    assert ticks and ticks[-1][0] == ticks[-1][1]


def test_signals_merge_consecutive_alarm_periods():
    alarms = Alarms("ears-c1", "daily", row=np.array([0, 0, 0, 0, 1, 1]), t=np.array([5, 6, 7, 9, 7, 8]),
                    observed=np.array([4.0, 9, 5, 3, 2, 2]), threshold=np.array([3.0, 3, 4, 2, 0, np.nan]),
                    evaluated=(1, 10))  # fmt: skip
    s = signals(alarms, floor=1)
    assert s[["row", "t_first", "t_last", "periods"]].values.tolist() == [
        [0, 5, 7, 3],
        [0, 9, 9, 1],
        [1, 7, 8, 2],
    ]
    assert s["observed"].tolist() == [4, 3, 2] and s["threshold"].tolist()[:2] == [3, 2]
    assert s["peak"].tolist() == [9, 3, 2]
    assert s["excess"].tolist() == pytest.approx([3.0, 1.5, 2.0])  # 9/3, 3/2, 2/max(0, 1)


def test_panels_count_by_onset_day_and_whole_weeks(spiked):
    path, cases = spiked
    with DuckDBEngine(path, read_only=True) as engine:
        panels = load_panels(engine, ["确诊病例"])
    daily, weekly = panels["daily"], panels["weekly"]
    assert daily.dates[0] == FIRST and daily.dates[-1] == LAST
    assert weekly.dates[0] == dt.date(2021, 1, 4) and weekly.dates[0].weekday() == 0
    assert weekly.dates[-1] + dt.timedelta(days=6) <= LAST
    row = int(np.flatnonzero((daily.counties == "330102") & (daily.diseases == FLU))[0])
    assert daily.counts[row, daily.dates.index(DAY_SPIKE)] == _series(cases, "330102", FLU, False).y(
        (DAY_SPIKE - FIRST).days + 1
    )
    assert daily.counts.sum() == (cases["case_class"] == "确诊病例").sum()


# --- the configuration -------------------------------------------------------------------------------------


def test_the_shipped_configuration_loads():
    config = load_config(CONFIG_FILE)
    assert {m.frequency for m in config.methods} == {"daily", "weekly"}
    assert all(m.method in DETECTORS and m.min_count >= 1 for m in config.methods)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("daily:\n  - {method: holt-winters}\n", ["daily entry 1", "unknown method 'holt-winters'"]),
        ("daily:\n  - {method: ears-c1, params: {b: 3}}\n", ["daily entry 1", "unknown parameter(s) b"]),
        ("weekly:\n  - {method: cusum, params: {range: '1:10'}}\n", ["weekly entry 1", "sets range"]),
        ("daily:\n  - {method: mpm, min_count: 0}\n", ["min_count=0"]),
        ("monthly: []\n", ["unknown key(s) monthly"]),
        ("daily: [{method: mpm}, {method: mpm}]\n", ["appears twice"]),
        ("daily: [\n", ["not valid YAML"]),
    ],
)
def test_a_bad_configuration_says_where(tmp_path, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DetectionConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    for part in expected:
        assert part in message


def test_worker_processes_give_the_same_alarms(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(panel_detection, "PARALLEL_MIN_WORK", 0)  # workers even for this little work
    many = _panel("weekly", n_series=6, seed=5)
    reps = 2  # 12 series (the threshold for workers is set to 0 above)
    panel = SeriesPanel("weekly", many.dates, np.tile(many.counties, reps), np.tile(many.diseases, reps),
                        np.tile(many.counts, (reps, 1)) + np.repeat(np.arange(reps), 6)[:, None])  # fmt: skip
    for method, params in (("cusum", ()), ("farrington", (("b", 2),))):
        config = MethodConfig(method, "weekly", params, 1)
        alone, shared = scan(panel, config, jobs=1), scan(panel, config, jobs=2)
        assert alone.series_run == shared.series_run == len(panel)
        assert len(alone) > 0
        np.testing.assert_array_equal(alone.row, shared.row)
        np.testing.assert_array_equal(alone.t, shared.t)
        np.testing.assert_array_equal(alone.threshold, shared.threshold)
