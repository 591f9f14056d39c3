"""Incidence rates (发病率) with exact Poisson confidence limits.

The limits are Garwood's (1936) exact intervals for a Poisson count ``x``, through the chi-square
distribution: lower = χ²(α/2; 2x) / 2 (0 when x = 0), upper = χ²(1 − α/2; 2x + 2) / 2; a rate's limits are
the count's limits divided by the person-time.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.stats import chi2

from provista.errors import ProvistaError, StatisticalWarning

PER_100K = 100_000


class EpiInputError(ProvistaError, ValueError):
    """A table handed to an epidemiological statistic lacks a column, a group or a valid value."""


def check_confidence(conf: float) -> float:
    """The confidence level as a probability strictly between 0 and 1."""
    if not 0 < conf < 1:
        raise EpiInputError(f"confidence level {conf} is not between 0 and 1", hint="use e.g. 0.95")
    return conf


def poisson_limits(count: ArrayLike, conf: float = 0.95) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Garwood's exact Poisson limits for the expected count given ``count`` events.

    lower = χ²_{α/2}(2x) / 2 (0 for x = 0), upper = χ²_{1−α/2}(2x + 2) / 2. For x = 0 at 95 %: (0, 3.689).

    >>> lo, hi = poisson_limits([0, 10])
    >>> [round(float(v), 3) for v in (*lo, *hi)]
    [0.0, 4.795, 3.689, 18.39]
    """
    alpha = 1 - check_confidence(conf)
    x = np.asarray(count, dtype=float)
    if np.any(x < 0) or np.any(np.isnan(x)):
        raise EpiInputError("counts must be zero or more", hint="check the case counts")
    lower = np.where(x > 0, chi2.ppf(alpha / 2, 2 * np.maximum(x, 1e-300)) / 2, 0.0)
    upper = chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2
    return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise an ``EpiInputError`` naming the missing columns of ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise EpiInputError(
            f"the {what} table lacks column(s) {', '.join(missing)}",
            hint=f"it has {', '.join(map(str, frame.columns)) or 'no columns'}",
        )


def incidence(
    cases: pd.DataFrame,
    population: pd.DataFrame,
    by: Sequence[str] = (),
    *,
    multiplier: float = PER_100K,
    years: float = 1.0,
    conf: float = 0.95,
) -> pd.DataFrame:
    """Incidence per ``multiplier`` person-years, one row per group, with Garwood limits.

    ``cases`` has the ``by`` columns and ``cases`` (counts); ``population`` has the ``by`` columns and
    ``population``. Both are summed within each group first. rate = cases / (population × years) ×
    multiplier. Groups without cases get 0 cases; cases in a group without population are an error.

    >>> c = pd.DataFrame({"sex": ["M", "F"], "cases": [12, 0]})
    >>> p = pd.DataFrame({"sex": ["M", "F"], "population": [100_000, 95_000]})
    >>> incidence(c, p, ["sex"])[["sex", "cases", "rate"]].to_dict("records")
    [{'sex': 'F', 'cases': 0, 'rate': 0.0}, {'sex': 'M', 'cases': 12, 'rate': 12.0}]
    """
    keys = list(by)
    require_columns(cases, [*keys, "cases"], "cases")
    require_columns(population, [*keys, "population"], "population")
    if years <= 0:
        raise EpiInputError(f"the period is {years} years long", hint="give a positive length in years")
    counts = _sum_by(cases, keys, "cases")
    pop = _sum_by(population, keys, "population")
    if keys:
        table = pop.merge(counts, on=keys, how="outer", indicator=True)
        orphans = table[table["_merge"] == "right_only"]
        if not orphans.empty:
            shown = ", ".join("/".join(map(str, r)) for r in orphans[keys].head(5).itertuples(index=False))
            raise EpiInputError(
                f"{int(orphans['cases'].sum())} case(s) fall in group(s) without population: {shown}",
                hint="add their population, or drop or recode those cases",
            )
        table = table.drop(columns="_merge").sort_values(keys, kind="stable").reset_index(drop=True)
    else:
        table = pd.DataFrame({"population": pop["population"], "cases": counts["cases"]})
    table["cases"] = table["cases"].fillna(0).astype("int64")
    return add_rate_columns(table, multiplier=multiplier, years=years, conf=conf)


def add_rate_columns(
    table: pd.DataFrame, *, multiplier: float = PER_100K, years: float = 1.0, conf: float = 0.95
) -> pd.DataFrame:
    """Add ``rate``, ``lower``, ``upper`` to a table of ``cases`` and ``population`` (Garwood limits)."""
    out = table.copy()
    person_time = out["population"].astype(float) * years
    if (person_time <= 0).any():
        warnings.warn(
            f"{int((person_time <= 0).sum())} group(s) have no population; their rate is NaN",
            StatisticalWarning,
            stacklevel=2,
        )
    person_time = person_time.where(person_time > 0)
    lower, upper = poisson_limits(out["cases"].to_numpy(), conf)
    out["rate"] = out["cases"] / person_time * multiplier
    out["lower"] = lower / person_time * multiplier
    out["upper"] = upper / person_time * multiplier
    return out


def _sum_by(frame: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    if frame[value].isna().any() or (frame[value] < 0).any():
        raise EpiInputError(f"the {value} column has missing or negative values", hint="fix the table")
    if not keys:
        return pd.DataFrame({value: [frame[value].sum()]})
    return frame.groupby(keys, as_index=False, dropna=False, observed=True)[value].sum()
