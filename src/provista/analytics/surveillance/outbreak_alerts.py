"""Outbreak signals in every build: the configured detectors over every county × disease series.

``surveillance_alerts`` is the build's alert producer (``provista.warehouse.alerts.PRODUCERS``): it runs
each method of the detection configuration (``detection.yaml``) over the daily and weekly series of
``case_report`` by onset date and returns one alert per signal, a run of consecutive alarm periods of one
method on one series. Every signal over the whole span of the data is kept, so that the detectors can be
scored against a known truth (``provista detect score``); the inbox shows the newest first. An alert's
``observed`` and ``threshold`` are the detector's own count and upper bound at the signal's first period.

``signal_series`` recomputes the series and threshold around one alert for its chart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from provista.analytics.surveillance.detection_config import DetectionConfig, MethodConfig, load_config
from provista.analytics.surveillance.detectors import DETECTORS
from provista.analytics.surveillance.panel import SeriesPanel, load_panels
from provista.analytics.surveillance.panel_detection import (
    PERIODWISE,
    Alarms,
    evaluated_range,
    make_detector,
    scan,
    signals,
)
from provista.config import get_settings
from provista.engine import DuckDBEngine
from provista.warehouse.alerts import columns as alert_columns

Report = Callable[[str, int, int], None]
FREQUENCY_ZH = {"daily": "日", "weekly": "周"}
UNIT = {"daily": ("天", "day"), "weekly": ("周", "week")}
TITLE_ZH = {
    "ears-c1": "EARS C1",
    "ears-c2": "EARS C2",
    "ears-c3": "EARS C3",
    "farrington": "Farrington法",
    "farrington-flexible": "改进Farrington法",
    "cusum": "CUSUM累积和",
    "glr-pois": "GLR（泊松）",
    "glr-nb": "GLR（负二项）",
    "mpm": "移动百分位数法",
}
# Periods shown either side of a signal in its chart.
CONTEXT = {"daily": (56, 28), "weekly": (26, 8)}


@dataclass
class Scanned:
    """One method's run over one panel: its alarm periods and the signals they make."""

    config: MethodConfig
    panel: SeriesPanel
    alarms: Alarms
    signals: pd.DataFrame


def detection_config() -> DetectionConfig:
    """The configuration in force: ``PROVISTA_DETECTION_CONFIG`` or the shipped ``detection.yaml``."""
    return load_config(get_settings().detection_config)


def run_detection(
    engine: DuckDBEngine, config: DetectionConfig, report: Report | None = None, jobs: int | None = None
) -> list[Scanned]:
    """Every configured method over every series of its frequency (``jobs``: PROVISTA_JOBS by default)."""
    progress = report or (lambda stage, done, total: None)
    jobs = get_settings().jobs if jobs is None else jobs
    frequencies = sorted({m.frequency for m in config.methods})
    panels = load_panels(engine, config.case_classes, frequencies)
    out = []
    for method in config.methods:
        stage = f"detect {method.method}/{method.frequency}"

        def tick(done: int, total: int, stage: str = stage) -> None:
            progress(stage, done, total)

        alarms = scan(panels[method.frequency], method, tick, jobs)
        out.append(Scanned(method, panels[method.frequency], alarms, signals(alarms, method.min_count)))
    return out


def surveillance_alerts(engine: DuckDBEngine, report: Report) -> pd.DataFrame:
    """The alert producer: one row per signal, with the columns of ``provista.warehouse.alerts``."""
    config = detection_config()
    return alert_frame(engine, config, run_detection(engine, config, report))


@cache
def disease_names_en() -> dict[str, str]:
    from provista.synth.diseases import DISEASES

    return {d.name_zh: d.name_en for d in DISEASES}


def alert_frame(engine: DuckDBEngine, config: DetectionConfig, scanned: list[Scanned]) -> pd.DataFrame:
    regions = engine.frame("SELECT code, name_zh, name_en, parent_code FROM region").set_index("code")
    classes = engine.frame(
        "SELECT disease, mode(disease_class) AS class FROM case_report GROUP BY disease"
    ).set_index("disease")["class"]
    frames = []
    for run in scanned:
        s = run.signals
        if s.empty:
            continue
        panel, method = run.panel, run.config
        rows = s["row"].to_numpy(dtype=np.int64)
        county = panel.counties[rows]
        disease = panel.diseases[rows]
        start = np.array(panel.dates, dtype="datetime64[D]")[s["t_first"].to_numpy(dtype=np.int64) - 1]
        critical = np.isin(classes.reindex(disease).to_numpy(), config.critical_classes) | (
            s["excess"].to_numpy() >= config.critical_ratio
        )
        frame = pd.DataFrame(
            {
                "source": "surveillance",
                "rule": method.method,
                "city_code": regions["parent_code"].reindex(county).to_numpy(),
                "county_code": county,
                "hospital_id": None,
                "subject": disease,
                "frequency": method.frequency,
                "period_start": start,
                "period_end": panel.period_end(s["t_last"].to_numpy(dtype=np.int64)),
                "observed": s["observed"].to_numpy(dtype=float),
                "threshold": s["threshold"].to_numpy(dtype=float),
                "severity": np.where(critical, "critical", "warning"),
            }
        )
        names = regions.reindex(county)
        frame["detail_zh"] = [
            _detail_zh(method, _name(c, k), d, day, r) for c, k, d, day, r in
            zip(names["name_zh"], county, disease, start, s.itertuples(), strict=True)
        ]  # fmt: skip
        frame["detail_en"] = [
            _detail_en(method, _name(c, k), disease_names_en().get(d, d), day, r) for c, k, d, day, r in
            zip(names["name_en"], county, disease, start, s.itertuples(), strict=True)
        ]  # fmt: skip
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=alert_columns()[1:])
    return pd.concat(frames, ignore_index=True)


def _detail_zh(method: MethodConfig, county: str, disease: str, day: np.datetime64, s: object) -> str:
    title = TITLE_ZH.get(method.method, DETECTORS[method.method].title)
    unit = UNIT[method.frequency][0]
    what = "近7天" if method.method == "mpm" else ("当日" if method.frequency == "daily" else "当周")
    text = (
        f"{title}（{FREQUENCY_ZH[method.frequency]}）：{county}{disease}，{day}{what}"
        f"{_n(s.observed)}例，超过阈值{_n(s.threshold, 2)}"  # type: ignore[attr-defined]
    )
    periods = int(s.periods)  # type: ignore[attr-defined]
    if periods > 1:
        text += f"；信号持续{periods}{unit}，最多{_n(s.peak)}例"  # type: ignore[attr-defined]
    return text + "。"


def _detail_en(method: MethodConfig, county: str, disease: str, day: np.datetime64, s: object) -> str:
    title = DETECTORS[method.method].title
    unit = UNIT[method.frequency][1]
    if method.method == "mpm":
        when = f"in the 7 days to {day}"
    else:
        when = f"on {day}" if method.frequency == "daily" else f"in the week of {day}"
    cases = _n(s.observed)  # type: ignore[attr-defined]
    text = (
        f"{title} ({method.frequency}): {cases} case{'s' if cases != '1' else ''} of {disease} in "
        f"{county} {when}, above the threshold {_n(s.threshold, 2)}"  # type: ignore[attr-defined]
    )
    periods = int(s.periods)  # type: ignore[attr-defined]
    if periods > 1:
        text += f"; the signal lasted {periods} {unit}s, at most {_n(s.peak)} cases"  # type: ignore[attr-defined]
    return text + "."


def _name(name: object, code: str) -> str:
    """A region's name, or its code where the region table lacks it."""
    return name if isinstance(name, str) and name else code


def _n(value: float, digits: int = 0) -> str:
    if value is None or not np.isfinite(value):
        return "NA"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"


def signal_series(
    engine: DuckDBEngine,
    config: DetectionConfig,
    *,
    method: str,
    frequency: str,
    county: str,
    disease: str,
    start: dt.date,
    end: dt.date,
) -> pd.DataFrame | None:
    """The series around a signal with the detector's threshold: date, count, value, threshold, alarm, raised.

    ``value`` is what the threshold is compared with (the 7-day count for the moving percentile method,
    else the period's count); ``raised``: an alarm with at least ``min_count``, one the build turned into
    an alert. None when the method is no longer configured for that frequency or the series is gone.
    """
    chosen = config.method(frequency, method)
    if chosen is None:
        return None
    panel = load_panels(engine, config.case_classes, (frequency,), county=county, disease=disease)[frequency]
    span = evaluated_range(panel, chosen)
    if len(panel) == 0 or span is None:
        return None
    starts = np.array(panel.dates, dtype="datetime64[D]")
    t0 = int(np.searchsorted(starts, np.datetime64(start, "D"), side="right"))
    t1 = int(np.searchsorted(starts, np.datetime64(end, "D"), side="right"))
    before, after = CONTEXT[frequency]
    first, last = max(span[0], t0 - before), min(span[1], t1 + after)
    if first > last:
        return None
    if chosen.method in PERIODWISE:
        table = make_detector(chosen, first, last).detect(panel.series(0)).table
    else:  # a statistic carried from period to period: run as the build did, then cut
        table = make_detector(chosen).detect(panel.series(0)).table
        table = table[(table["t"] >= first) & (table["t"] <= last)]
    value = table["window_count" if chosen.method == "mpm" else "observed"].to_numpy(dtype=float)
    alarm = table["alarm"].fillna(False).to_numpy(dtype=bool)
    return pd.DataFrame(
        {
            "date": starts[table["t"].to_numpy(dtype=np.int64) - 1].astype(object),
            "count": table["observed"].to_numpy(dtype=float),
            "value": value,
            "threshold": table["upperbound"].to_numpy(dtype=float),
            "alarm": alarm,
            "raised": alarm & (value >= chosen.min_count),
        }
    )
