"""How the build's detectors do on a province with known outbreaks (``truth/outbreaks.csv`` of ``synth``).

Per method and frequency, over the periods the method judges:

- alarm burden: signals per county per week (signals ÷ (counties of the province × weeks judged)), the
  figure CIDARS reports (about 1.65 signals per county per week, all diseases together);
- sensitivity: the share of the outbreaks in the judged span that had at least one alarm period on their
  county × disease series overlapping [start, end + 7 days] (an alarm may come after the last onset:
  a 7-day window or a week still holds outbreak cases);
- false alarms: signals that overlap no outbreak window of their series; with them the share of signals
  that were true (positive predictive value);
- days to detection: for each detected outbreak, the last day of the first overlapping alarm period minus
  the outbreak's first onset day (0 when the alarm is on that day); the median over detected outbreaks.

An "any method" row pools every method's signals over the span all of them judge (the inbox's whole
burden; an outbreak counts as found if any method found it). A signal is a run of consecutive alarm
periods (see ``outbreak_alerts``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from provista.analytics.surveillance.outbreak_alerts import Scanned
from provista.errors import ProvistaError

GRACE_DAYS = 7
TRUTH_COLUMNS = ("county_code", "disease", "start_date", "end_date")


class TruthFileError(ProvistaError, ValueError):
    """The truth folder has no usable outbreaks.csv."""


@dataclass(frozen=True)
class MethodScore:
    method: str
    frequency: str
    judged_from: str
    judged_to: str
    signals: int
    signals_per_county_week: float
    outbreaks: int  # outbreaks in the judged span
    detected: int
    sensitivity: float | None
    false_alarms: int
    ppv: float | None
    median_days_to_detection: float | None


def read_outbreaks(truth: Path) -> pd.DataFrame:
    """``truth/outbreaks.csv``: county_code, disease, start_date, end_date (and anything else)."""
    path = truth / "outbreaks.csv" if truth.is_dir() else truth
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise TruthFileError(
            f"{path}: not found",
            hint="give --truth the truth/ folder that `provista synth` wrote beside the sources",
        ) from None
    missing = [c for c in TRUTH_COLUMNS if c not in frame.columns]
    if missing:
        raise TruthFileError(
            f"{path}: missing column(s) {', '.join(missing)}",
            hint=f"outbreaks.csv needs {', '.join(TRUTH_COLUMNS)}",
        )
    for column in ("start_date", "end_date"):
        dates = pd.to_datetime(frame[column], format="%Y-%m-%d", errors="coerce")
        bad = np.flatnonzero(dates.isna())
        if len(bad):
            raise TruthFileError(
                f"{path}, row {bad[0] + 2}, field '{column}': {frame[column].iloc[bad[0]]!r} is not a date",
                hint="dates are YYYY-MM-DD",
            )
        frame[column] = dates.to_numpy(dtype="datetime64[D]")
    return frame


def score(scanned: list[Scanned], outbreaks: pd.DataFrame, counties: int) -> list[MethodScore]:
    """One score per method run, then the pooled "any method" row (when there are several)."""
    rows = [_score([run], outbreaks, counties) for run in scanned]
    if len(scanned) > 1:
        rows.append(_score(scanned, outbreaks, counties))
    return [r for r in rows if r is not None]


def _score(runs: list[Scanned], outbreaks: pd.DataFrame, counties: int) -> MethodScore | None:
    spans = []
    periods, sigs = [], []
    for run in runs:
        span = run.alarms.evaluated
        if span is None:
            continue
        starts = np.array(run.panel.dates, dtype="datetime64[D]")
        spans.append((starts[span[0] - 1], run.panel.period_end(np.array([span[1]]))[0]))
        key = run.panel.counties.astype(str) + "|" + run.panel.diseases.astype(str)
        a = run.alarms
        periods.append(
            pd.DataFrame({"key": key[a.row], "start": starts[a.t - 1], "end": run.panel.period_end(a.t)})
        )
        s = run.signals
        t_first = s["t_first"].to_numpy(dtype=np.int64)
        t_last = s["t_last"].to_numpy(dtype=np.int64)
        sigs.append(
            pd.DataFrame(
                {
                    "key": key[s["row"].to_numpy(dtype=np.int64)],
                    "start": starts[t_first - 1],
                    "end": run.panel.period_end(t_last),
                }
            )
        )
    if not spans:
        return None
    first = max(a for a, _ in spans)  # the span every pooled method judges
    last = min(b for _, b in spans)
    alarm = pd.concat(periods, ignore_index=True)
    alarm = alarm[(alarm["start"] >= first) & (alarm["start"] <= last)]
    signal = pd.concat(sigs, ignore_index=True)
    signal = signal[(signal["start"] >= first) & (signal["start"] <= last)].reset_index(drop=True)
    window_end = outbreaks["end_date"].to_numpy(dtype="datetime64[D]") + np.timedelta64(GRACE_DAYS, "D")
    truth = outbreaks.assign(
        key=outbreaks["county_code"] + "|" + outbreaks["disease"],
        window_end=window_end,
    )
    truth = truth[(truth["start_date"] <= last) & (truth["window_end"] >= first)].reset_index(drop=True)
    delays = []
    for o in truth.itertuples():
        hit = alarm[
            (alarm["key"] == o.key) & (alarm["start"] <= o.window_end) & (alarm["end"] >= o.start_date)
        ]
        if len(hit):
            delays.append(max(0, int((hit["end"].min() - o.start_date) / np.timedelta64(1, "D"))))
    true = np.zeros(len(signal), dtype=bool)
    for o in truth.itertuples():
        true |= (
            (signal["key"] == o.key) & (signal["start"] <= o.window_end) & (signal["end"] >= o.start_date)
        ).to_numpy()
    weeks = ((last - first) / np.timedelta64(1, "D") + 1) / 7
    method = runs[0].config.method if len(runs) == 1 else "any method"
    frequency = runs[0].config.frequency if len(runs) == 1 else "all"
    return MethodScore(
        method=method,
        frequency=frequency,
        judged_from=str(first),
        judged_to=str(last),
        signals=len(signal),
        signals_per_county_week=len(signal) / (counties * weeks),
        outbreaks=len(truth),
        detected=len(delays),
        sensitivity=len(delays) / len(truth) if len(truth) else None,
        false_alarms=int((~true).sum()),
        ppv=float(true.mean()) if len(signal) else None,
        median_days_to_detection=float(np.median(delays)) if delays else None,
    )


def score_table(scores: list[MethodScore]) -> pd.DataFrame:
    return pd.DataFrame([asdict(s) for s in scores])
