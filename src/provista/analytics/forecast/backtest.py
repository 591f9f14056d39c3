"""Rolling-origin backtest (滚动起点回测) of the census models against the seasonal-naive baseline.

Origins are a week apart, the latest ``horizon`` days before the last census day, so every origin's
``horizon`` days ahead are in the data. At each origin every model is fitted on the census up to that
day only (the unknown days just before it are not filled from later ones) and forecasts ``1..horizon``
days ahead; a (series, origin) is used only when every model could forecast it, so all models are scored on
the same days. Only observed census days are scored (not gap-filled ones).

Per grain (hospital totals, departments), horizon bucket (1–7, 8–14, … days ahead) and model:

- MAE, the mean absolute error in beds, ``mean |y − ŷ|`` over every (series, origin, day) in the bucket;
- ratio, the model's MAE over the baseline's (below 1: the model is better);
- coverage, the share of those days whose census fell inside the 80 % (95 %) interval;
- series better (worse), the share of series whose own MAE in the bucket is below (above) the baseline's;
  the rest are ties (on a ward that stayed empty, both forecast zero).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from provista.analytics.forecast.models import BASELINE, DEFAULT_MODEL, LEVELS, MODELS, ForecastError, model
from provista.analytics.forecast.series import CensusSeries

BUCKET_DAYS = 7
COVERAGE_TOLERANCE = 0.05  # coverage further than this from nominal is called too narrow / too wide


def origin_dates(last: pd.Timestamp, count: int, horizon: int) -> list[pd.Timestamp]:
    """``count`` origins a week apart, the latest ``horizon`` days before ``last``; oldest first."""
    if count < 1 or horizon < 1:
        raise ForecastError(
            f"origins {count} and horizon {horizon} must both be 1 or more",
            hint="e.g. --origins 8 --horizon 28",
        )
    return [last - pd.Timedelta(days=horizon + 7 * k) for k in reversed(range(count))]


def _history(series: CensusSeries, upto: int) -> pd.Series:
    """The census to position ``upto`` (the origin, included), its trailing gap-filled days unknown again:
    they were filled from days after the origin."""
    history = series.occupied.iloc[: upto + 1]
    known = np.flatnonzero(series.observed.to_numpy()[: upto + 1])
    if len(known) and known[-1] < upto:
        history = history.copy()
        history.iloc[known[-1] + 1 :] = np.nan
    return history


def backtest(
    series: Sequence[CensusSeries],
    *,
    models: Sequence[str] = (DEFAULT_MODEL,),
    origins: int = 8,
    horizon: int = 28,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """One row per (series, origin, model, scored day): actual, point forecast and interval bounds.

    ``progress(done, total)`` is called after each series.
    """
    names = [*dict.fromkeys([*models, BASELINE])]
    for name in names:
        if name not in MODELS:
            raise ForecastError(f"unknown model '{name}'", hint=f"use one of {', '.join(MODELS)}")
    if not series:
        raise ForecastError("no census series to backtest", hint="check --hospital / --department")
    last = max(s.occupied.index[-1] for s in series)
    starts = origin_dates(last, origins, horizon)
    bounds = [f"{side}{lv * 100:.0f}" for lv in LEVELS for side in ("lo", "hi")]
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ("series", "model", "origin", "h", "actual",
                                                            "point", *bounds)}  # fmt: skip
    for number, s in enumerate(series):
        values, seen = s.occupied.to_numpy(), s.observed.to_numpy()
        for k, origin in enumerate(starts):
            upto = (origin - s.occupied.index[0]).days
            if upto < 0:
                continue
            actual = values[upto + 1 : upto + 1 + horizon]
            scored = np.flatnonzero(seen[upto + 1 : upto + 1 + horizon])
            if not len(scored):
                continue
            history = _history(s, upto)
            try:
                forecasts = [model(name).fit(history).forecast(horizon) for name in names]
            except ForecastError:
                continue
            for m, fc in enumerate(forecasts):
                columns["series"].append(np.full(len(scored), number))
                columns["model"].append(np.full(len(scored), m))
                columns["origin"].append(np.full(len(scored), k))
                columns["h"].append(scored + 1)
                columns["actual"].append(actual[scored])
                columns["point"].append(fc.point[scored])
                for lv in LEVELS:
                    columns[f"lo{lv * 100:.0f}"].append(fc.lower[lv][scored])
                    columns[f"hi{lv * 100:.0f}"].append(fc.upper[lv][scored])
        if progress is not None:
            progress(number + 1, len(series))
    if not columns["h"]:
        raise ForecastError(
            f"no series has {horizon + 7 * (origins - 1)} days of census after enough history to backtest",
            hint="use fewer --origins or a shorter --horizon",
        )
    flat = {k: np.concatenate(v) for k, v in columns.items()}
    which = flat.pop("series")
    return pd.DataFrame(
        {
            "grain": np.array([s.grain for s in series])[which],
            "hospital_id": np.array([s.hospital_id for s in series])[which],
            "department": np.array([s.department or "" for s in series])[which],
            "model": np.array(names)[flat.pop("model")],
            "origin": np.array([o.date() for o in starts])[flat.pop("origin")],
            **flat,
        }
    )


def bucket_of(h: pd.Series | np.ndarray, horizon: int) -> pd.Series:
    """'1–7', '8–14', … for days ahead ``h`` (the last bucket ends at ``horizon``)."""
    first = (np.asarray(h) - 1) // BUCKET_DAYS * BUCKET_DAYS + 1
    last = np.minimum(first + BUCKET_DAYS - 1, horizon)
    return pd.Series([f"{a}–{b}" for a, b in zip(first, last, strict=True)])


def summarise(errors: pd.DataFrame, horizon: int | None = None) -> pd.DataFrame:
    """MAE, ratio to the baseline, interval coverage and shares of series better and worse, per grain ×
    bucket × model."""
    horizon = horizon or int(errors["h"].max())
    e = errors.assign(
        bucket=bucket_of(errors["h"], horizon).to_numpy(),
        h_from=(errors["h"] - 1) // BUCKET_DAYS * BUCKET_DAYS + 1,
        abs_error=(errors["actual"] - errors["point"]).abs(),
    )
    for lv in LEVELS:
        tag = f"{lv * 100:.0f}"
        e[f"in{tag}"] = (e[f"lo{tag}"] <= e["actual"]) & (e["actual"] <= e[f"hi{tag}"])
    keys = ["grain", "h_from", "bucket", "model"]
    table = e.groupby(keys, sort=True).agg(
        n=("abs_error", "size"),
        mae=("abs_error", "mean"),
        **{f"coverage{lv * 100:.0f}": (f"in{lv * 100:.0f}", "mean") for lv in LEVELS},
    )
    per_series = e.groupby([*keys, "hospital_id", "department"], sort=False)["abs_error"].mean()
    table["series"] = per_series.groupby(keys).size()
    baseline = table.xs(BASELINE, level="model")["mae"]
    table["baseline_mae"] = baseline.reindex(table.index.droplevel("model")).to_numpy()
    table["ratio"] = table["mae"] / table["baseline_mae"]
    own = per_series.reset_index()
    base = own[own["model"] == BASELINE].drop(columns="model").rename(columns={"abs_error": "base"})
    own = own.merge(base, on=["grain", "h_from", "bucket", "hospital_id", "department"])
    own["better"] = own["abs_error"] < own["base"]
    own["worse"] = own["abs_error"] > own["base"]
    table["series_better"] = own.groupby(keys)["better"].mean()
    table["series_worse"] = own.groupby(keys)["worse"].mean()
    table.loc[table.index.get_level_values("model") == BASELINE, ["series_better", "series_worse"]] = np.nan
    order = {"hospital": 0, "department": 1}
    out = table.reset_index()
    out["rank"] = out["grain"].map(order).fillna(2) * 1000 + out["h_from"]
    out["is_base"] = out["model"] == BASELINE
    out = out.sort_values(["rank", "is_base", "model"]).drop(columns=["rank", "is_base", "h_from"])
    cols = ["grain", "bucket", "model", "n", "series", "mae", "baseline_mae", "ratio",
            *(f"coverage{lv * 100:.0f}" for lv in LEVELS), "series_better", "series_worse"]  # fmt: skip
    return out[cols].reset_index(drop=True)


@dataclass(frozen=True)
class Verdict:
    """Whether ``model`` beats the baseline for ``grain`` series ``bucket`` days ahead."""

    grain: str
    bucket: str
    model: str
    mae: float
    baseline_mae: float

    @property
    def beats(self) -> bool:
        return self.mae < self.baseline_mae


def verdicts(summary: pd.DataFrame) -> list[Verdict]:
    """One verdict per grain, bucket and model other than the baseline."""
    rows = summary[summary["model"] != BASELINE]
    return [
        Verdict(r.grain, r.bucket, r.model, float(r.mae), float(r.baseline_mae))
        for r in rows.itertuples(index=False)
    ]


def statements(summary: pd.DataFrame) -> list[str]:
    """Plain sentences: where each model does not beat the baseline, where it does, and where its
    intervals cover far from their nominal level."""
    out: list[str] = []
    found = verdicts(summary)
    for (grain, name), group in _grouped(found):
        losses = [v for v in group if not v.beats]
        wins = [v for v in group if v.beats]
        for v in losses:
            tie = " (a tie)" if v.mae == v.baseline_mae else ""
            out.append(
                f"{name} does NOT beat the seasonal-naive baseline for {grain} series {v.bucket} days ahead: "
                f"MAE {v.mae:.3g} vs {v.baseline_mae:.3g} beds{tie}."
            )
        if wins:
            where = "at every horizon" if not losses else "at " + ", ".join(v.bucket for v in wins) + " days"
            gains = [1 - v.mae / v.baseline_mae for v in wins]
            out.append(
                f"{name} beats the seasonal-naive baseline for {grain} series {where} "
                f"(MAE {min(gains):.0%} to {max(gains):.0%} lower)."
            )
    for (grain, name), rows in summary.groupby(["grain", "model"], sort=False):
        for lv in LEVELS:
            cover = rows[f"coverage{lv * 100:.0f}"]
            for kind, off in (("too narrow", cover < lv - COVERAGE_TOLERANCE),
                              ("too wide", cover > lv + COVERAGE_TOLERANCE)):  # fmt: skip
                if not off.any():
                    continue
                where = "at every horizon" if off.all() else ", ".join(rows["bucket"][off]) + " days ahead"
                held = f"{cover[off].min():.1%}" + (f" to {cover[off].max():.1%}" if off.sum() > 1 else "")
                out.append(
                    f"{name}'s {lv:.0%} intervals are {kind} for {grain} series {where}: "
                    f"they held {held} of the census days."
                )
    return out


def _grouped(found: list[Verdict]) -> list[tuple[tuple[str, str], list[Verdict]]]:
    groups: dict[tuple[str, str], list[Verdict]] = {}
    for v in found:
        groups.setdefault((v.grain, v.model), []).append(v)
    return list(groups.items())
