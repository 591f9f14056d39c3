"""Reporting timeliness (报告及时性) of notifiable-disease case reports.

Delay = report time − diagnosis time, per case. A report is on time when the delay is at most the
deadline of its class: 2 hours for class A (甲类), 24 hours for classes B and C (乙类, 丙类) — a report at
exactly 2 h or 24 h is on time. Reports without both times, or filed before the diagnosis, are counted
apart (``missing_times``, ``negative_delay``) and left out of the share.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import beta

from provista.analytics.epi.rates import EpiInputError, check_confidence, require_columns

# Deadline in hours from diagnosis, by class; the warehouse codes classes A/B/C, the CDC export 甲/乙/丙.
DEADLINE_HOURS: dict[str, float] = {"A": 2, "B": 24, "C": 24, "甲": 2, "乙": 24, "丙": 24}


def reporting_delay(cases: pd.DataFrame) -> pd.DataFrame:
    """Each case with ``delay_hours``, ``deadline_hours`` and ``on_time`` (NA where it cannot be judged).

    ``cases`` needs ``disease_class``, ``diagnosis_ts`` and ``report_ts``.
    """
    require_columns(cases, ["disease_class", "diagnosis_ts", "report_ts"], "case report")
    classes = cases["disease_class"].astype("string").str.strip()
    unknown = sorted(set(classes.dropna()) - set(DEADLINE_HOURS))
    if unknown:
        raise EpiInputError(
            f"unknown disease class(es) {', '.join(unknown)}",
            hint="classes are A/B/C (甲/乙/丙); fix or map the disease_class column",
        )
    delay = (
        pd.to_datetime(cases["report_ts"]) - pd.to_datetime(cases["diagnosis_ts"])
    ).dt.total_seconds() / 3600
    deadline = classes.map(DEADLINE_HOURS).astype(float)
    judged = delay.notna() & deadline.notna() & (delay >= 0)
    on_time = pd.Series(pd.NA, index=cases.index, dtype="boolean")
    on_time[judged] = (delay[judged] <= deadline[judged]).to_numpy()
    return cases.assign(delay_hours=delay, deadline_hours=deadline, on_time=on_time)


def timeliness(cases: pd.DataFrame, by: Sequence[str] = (), *, conf: float = 0.95) -> pd.DataFrame:
    """Share of reports within the deadline, per group, with a Clopper–Pearson interval.

    Columns: the ``by`` columns, ``reports``, ``missing_times``, ``negative_delay``, ``judged``, ``on_time``,
    ``share_on_time``, ``lower``, ``upper`` (exact binomial), ``median_delay_hours``, ``p90_delay_hours``.
    """
    alpha = 1 - check_confidence(conf)
    keys = list(by)
    require_columns(cases, keys, "case report")
    judged = reporting_delay(cases)
    judged["_missing"] = judged["delay_hours"].isna()
    judged["_negative"] = judged["delay_hours"] < 0
    judged["_judged"] = judged["on_time"].notna()
    judged["_on_time"] = judged["on_time"].fillna(False).astype(bool)
    judged["_delay"] = judged["delay_hours"].where(judged["_judged"])
    grouped = (
        judged.groupby(keys, observed=True, dropna=False, sort=True)
        if keys
        else judged.groupby(np.zeros(len(judged), dtype=int))
    )
    out = grouped.agg(
        reports=("_judged", "size"),
        missing_times=("_missing", "sum"),
        negative_delay=("_negative", "sum"),
        judged=("_judged", "sum"),
        on_time=("_on_time", "sum"),
        median_delay_hours=("_delay", "median"),
        p90_delay_hours=("_delay", lambda s: s.quantile(0.9)),
    )
    out = out.reset_index(drop=not keys)
    k, n = out["on_time"].to_numpy(dtype=float), out["judged"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_on_time"] = np.where(n > 0, k / n, np.nan)
        out["lower"] = np.where(
            (n > 0) & (k > 0), beta.ppf(alpha / 2, k, n - k + 1), np.where(n > 0, 0.0, np.nan)
        )
        out["upper"] = np.where(
            (n > 0) & (k < n), beta.ppf(1 - alpha / 2, k + 1, n - k), np.where(n > 0, 1.0, np.nan)
        )
    order = [
        *keys,
        "reports",
        "missing_times",
        "negative_delay",
        "judged",
        "on_time",
        "share_on_time",
        "lower",
        "upper",
        "median_delay_hours",
        "p90_delay_hours",
    ]
    return out[order]
