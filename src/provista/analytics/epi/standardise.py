"""Age standardisation (年龄标化): direct rates (标化率) and indirect ratios (SMR / SIR).

Direct: DSR = Σ w_i d_i / n_i with standard weights w_i = N_i / ΣN and var(DSR) = Σ w_i² d_i / n_i².

- Gamma limits (Fay & Feuer 1997, exactly as R ``epitools::ageadjust.direct``): with w_M = max w_i / n_i,
  lower = Gamma⁻¹(α/2; shape DSR²/var, scale var/DSR),
  upper = Gamma⁻¹(1 − α/2; shape (DSR + w_M)²/(var + w_M²), scale (var + w_M²)/(DSR + w_M)).
  Where R returns NaN for the lower limit of a zero rate, this returns 0.
- Dobson et al. (1991) limits: with O = Σ d_i and Garwood's exact limits O_L, O_U for O,
  DSR ± sqrt(var / O) · (O_{L,U} − O). Undefined (NaN) for the upper limit when O = 0.

Indirect: SMR = O / E with E = Σ n_i R_i from reference age-specific rates R_i; the limits are Garwood's
for O divided by E (exact Poisson).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import gamma

from provista.analytics.epi.rates import (
    PER_100K,
    EpiInputError,
    check_confidence,
    poisson_limits,
    require_columns,
)
from provista.analytics.epi.standards import standard_population
from provista.errors import StatisticalWarning


def direct_rate(
    cases: Sequence[float] | np.ndarray,
    population: Sequence[float] | np.ndarray,
    standard: Sequence[float] | np.ndarray,
    conf: float = 0.95,
) -> dict[str, float]:
    """Crude and directly standardised rate (per person) of one population, with gamma and Dobson limits.

    Arrays are aligned by age group. Returns ``crude_rate, adj_rate, variance, lower_gamma, upper_gamma,
    lower_dobson, upper_dobson``.
    """
    alpha = 1 - check_confidence(conf)
    d = np.asarray(cases, dtype=float)
    n = np.asarray(population, dtype=float)
    big_n = np.asarray(standard, dtype=float)
    if not d.shape == n.shape == big_n.shape:
        raise EpiInputError("cases, population and standard differ in length", hint="align them by age group")
    if np.any(n <= 0):
        raise EpiInputError(
            "an age group has no population", hint="every age group of the standard needs a population"
        )
    w = big_n / big_n.sum()
    dsr = float(np.sum(w * d / n))
    var = float(np.sum(w**2 * d / n**2))
    wm = float(np.max(w / n))
    lower_gamma = float(gamma.ppf(alpha / 2, dsr**2 / var, scale=var / dsr)) if dsr > 0 else 0.0
    upper_gamma = float(
        gamma.ppf(1 - alpha / 2, (dsr + wm) ** 2 / (var + wm**2), scale=(var + wm**2) / (dsr + wm))
    )
    total = float(d.sum())
    o_lower, o_upper = (float(v[0]) for v in poisson_limits([total], conf))
    if total > 0:
        spread = np.sqrt(var / total)
        lower_dobson, upper_dobson = dsr + spread * (o_lower - total), dsr + spread * (o_upper - total)
    else:
        lower_dobson, upper_dobson = 0.0, float("nan")
    return {
        "crude_rate": total / float(n.sum()),
        "adj_rate": dsr,
        "variance": var,
        "lower_gamma": lower_gamma,
        "upper_gamma": upper_gamma,
        "lower_dobson": float(lower_dobson),
        "upper_dobson": float(upper_dobson),
    }


def direct_standardise(
    table: pd.DataFrame,
    standard: str | pd.Series,
    by: Sequence[str] = (),
    *,
    multiplier: float = PER_100K,
    years: float = 1.0,
    conf: float = 0.95,
) -> pd.DataFrame:
    """Directly age-standardised rates per ``multiplier`` person-years, one row per group.

    ``table`` has the ``by`` columns, ``age_group``, ``cases`` and ``population``; ``standard`` is a shipped
    standard's name (``china2010``, ``china2000``, ``who``, ``segi``) or a Series of standard population
    (or weights) indexed by age group. Age groups absent from a group count as 0 cases, but every age
    group of the standard needs a population.
    """
    keys = list(by)
    require_columns(table, [*keys, "age_group", "cases", "population"], "cases and population by age")
    std = standard_population(standard) if isinstance(standard, str) else standard.astype(float)
    unknown = sorted(set(table["age_group"].dropna().astype(str)) - set(map(str, std.index)))
    if unknown:
        raise EpiInputError(
            f"age group(s) {', '.join(unknown)} are not in the standard",
            hint=f"use the standard's groups: {', '.join(map(str, std.index))}",
        )
    summed = table.groupby([*keys, "age_group"], as_index=False, observed=True, dropna=False)[
        ["cases", "population"]
    ].sum()
    rows = []
    groups = summed.groupby(keys, observed=True, dropna=False, sort=True) if keys else [((), summed)]
    for key, part in groups:
        aligned = part.set_index("age_group")[["cases", "population"]].reindex(std.index)
        values: dict[str, object] = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        values["cases"] = int(aligned["cases"].fillna(0).sum())
        values["population"] = float(aligned["population"].fillna(0).sum())
        if aligned["population"].isna().any() or (aligned["population"] <= 0).any():
            warnings.warn(
                f"group {values or 'all'}: some age groups of the standard have no population; "
                "its standardised rate is NaN",
                StatisticalWarning,
                stacklevel=2,
            )
            result = dict.fromkeys(
                ("crude_rate", "adj_rate", "lower_gamma", "upper_gamma", "lower_dobson", "upper_dobson"),
                float("nan"),
            )
        else:
            result = direct_rate(
                aligned["cases"].fillna(0).to_numpy(), aligned["population"].to_numpy(), std.to_numpy(), conf
            )
            result.pop("variance")
        scale = multiplier / years
        values.update({k: v * scale for k, v in result.items()})
        rows.append(values)
    return pd.DataFrame(rows)


def indirect_standardise(
    table: pd.DataFrame,
    reference: pd.DataFrame,
    by: Sequence[str] = (),
    *,
    conf: float = 0.95,
) -> pd.DataFrame:
    """Standardised morbidity (or mortality) ratio SMR = O / E with exact Poisson limits, per group.

    ``table`` has the ``by`` columns, ``age_group``, ``cases`` (observed) and ``population``;
    ``reference`` has ``age_group`` and either ``rate`` (per person) or ``cases`` and ``population``.
    E = Σ n_i R_i; limits = Garwood limits of O divided by E.
    """
    keys = list(by)
    require_columns(table, [*keys, "age_group", "cases", "population"], "cases and population by age")
    rates = _reference_rates(reference)
    missing = sorted(set(table["age_group"].astype(str)) - set(rates.index))
    if missing:
        raise EpiInputError(
            f"the reference has no rate for age group(s) {', '.join(missing)}",
            hint="give the reference rates for every age group in the table",
        )
    work = table.assign(
        expected=table["population"].astype(float) * table["age_group"].astype(str).map(rates)
    )
    if keys:
        out = work.groupby(keys, as_index=False, observed=True, dropna=False)[["cases", "expected"]].sum()
    else:
        out = pd.DataFrame({"cases": [work["cases"].sum()], "expected": [work["expected"].sum()]})
    out = out.rename(columns={"cases": "observed"})
    expected = out["expected"].where(out["expected"] > 0)
    lower, upper = poisson_limits(out["observed"].to_numpy(), conf)
    out["smr"] = out["observed"] / expected
    out["lower"] = lower / expected
    out["upper"] = upper / expected
    return out


def _reference_rates(reference: pd.DataFrame) -> pd.Series:
    if "rate" in reference.columns:
        require_columns(reference, ["age_group", "rate"], "reference rates")
        rates = reference.set_index(reference["age_group"].astype(str))["rate"].astype(float)
    else:
        require_columns(reference, ["age_group", "cases", "population"], "reference")
        summed = reference.groupby(reference["age_group"].astype(str))[["cases", "population"]].sum()
        if (summed["population"] <= 0).any():
            raise EpiInputError("a reference age group has no population", hint="fix the reference table")
        rates = summed["cases"] / summed["population"]
    if rates.index.duplicated().any():
        raise EpiInputError("the reference rates repeat an age group", hint="give one rate per age group")
    return rates
