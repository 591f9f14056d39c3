"""The statistics of this package computed from a warehouse (read-only): SQL here, statistics elsewhere.

Cases come from ``case_report``; by default only cases counted in incidence (发病数): confirmed (确诊病例)
and clinically diagnosed (临床诊断病例), not suspected cases or carriers. Population comes from ``region``
(per county); where sex or age is needed, each county's population is split by the sex × five-year age
structure of the province's census (``provista.synth.province``), scaled to the county's ``region`` total.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from provista.analytics.epi.curves import epidemic_curve
from provista.analytics.epi.periods import period_label, period_start
from provista.analytics.epi.rates import PER_100K, EpiInputError, incidence
from provista.analytics.epi.standardise import direct_standardise
from provista.analytics.epi.standards import AGE_GROUPS
from provista.analytics.epi.timeliness import timeliness
from provista.engine import DuckDBEngine

INCIDENCE_CASE_CLASSES: tuple[str, ...] = ("确诊病例", "临床诊断病例")
DATE_BASES = {
    "onset": "c.onset_date",
    "diagnosis": "CAST(c.diagnosis_ts AS DATE)",
    "report": "CAST(c.report_ts AS DATE)",
}
# Grouping name -> SQL expression over case_report c joined to its county's region row r.
GROUPINGS: dict[str, str] = {
    "disease": "c.disease",
    "class": "c.disease_class",
    "county": "c.county_code",
    "city": "r.parent_code",
    "sex": "c.sex",
    "age_group": "CASE WHEN c.age >= 85 THEN '85+' WHEN c.age >= 0 THEN "
    "CAST(c.age // 5 * 5 AS VARCHAR) || '-' || CAST(c.age // 5 * 5 + 4 AS VARCHAR) END",
}
POPULATION_KEYS = ("county", "city", "sex", "age_group")


def year_fraction(start: date, end: date) -> float:
    """Length of [start, end] (both days included) in years, each calendar year counted by its own days.

    >>> year_fraction(date(2024, 1, 1), date(2024, 12, 31))
    1.0
    >>> year_fraction(date(2021, 1, 1), date(2025, 12, 31))
    5.0
    """
    if end < start:
        raise EpiInputError(
            f"the period ends ({end}) before it starts ({start})", hint="swap --from and --to"
        )
    total = 0.0
    for year in range(start.year, end.year + 1):
        first, last = max(start, date(year, 1, 1)), min(end, date(year, 12, 31))
        total += ((last - first).days + 1) / ((date(year + 1, 1, 1) - date(year, 1, 1)).days)
    return total


def case_counts(
    engine: DuckDBEngine,
    by: Sequence[str],
    start: date,
    end: date,
    *,
    date_basis: str = "onset",
    case_classes: Sequence[str] | None = INCIDENCE_CASE_CLASSES,
) -> pd.DataFrame:
    """Case counts per group for dates in [start, end]: the ``by`` columns and ``cases``."""
    keys = _check_by(by)
    if date_basis not in DATE_BASES:
        raise EpiInputError(f"unknown date basis '{date_basis}'", hint=f"use one of {', '.join(DATE_BASES)}")
    select = ", ".join(f"{GROUPINGS[k]} AS {k}" for k in keys)
    where = [f"{DATE_BASES[date_basis]} BETWEEN ? AND ?"]
    params: list[object] = [start, end]
    if case_classes is not None:
        where.append(f"c.case_class IN ({', '.join('?' for _ in case_classes)})")
        params += list(case_classes)
    sql = (
        f"SELECT {select + ', ' if select else ''}count(*) AS cases "
        "FROM case_report c LEFT JOIN region r ON r.code = c.county_code "
        f"WHERE {' AND '.join(where)}"
        + (f" GROUP BY {', '.join(GROUPINGS[k] for k in keys)}" if keys else "")
    )
    frame = engine.frame(sql, params)
    frame["cases"] = frame["cases"].astype("int64")
    return frame


def population(engine: DuckDBEngine, by: Sequence[str], province: str = "zhejiang") -> pd.DataFrame:
    """Population per group of ``by`` (of county, city, sex, age_group): ``by`` columns and ``population``."""
    keys = _check_by(by)
    if any(k not in POPULATION_KEYS for k in keys):
        raise EpiInputError(
            f"population is known by {', '.join(POPULATION_KEYS)}, not {', '.join(keys)}",
            hint="group cases by disease or class on top of a population grouping",
        )
    counties = engine.frame(
        "SELECT code AS county, parent_code AS city, population FROM region WHERE level = 'county'"
    )
    if counties.empty:
        raise EpiInputError(
            "the warehouse has no county populations", hint="rebuild it with `provista build`"
        )
    if "sex" in keys or "age_group" in keys:
        counties = _split_by_census(counties, province)
    if not keys:
        return pd.DataFrame({"population": [float(counties["population"].sum())]})
    return counties.groupby(keys, as_index=False)["population"].sum()


def region_names(engine: DuckDBEngine) -> dict[str, str]:
    """Region code -> Chinese name."""
    frame = engine.frame("SELECT code, name_zh FROM region")
    return dict(zip(frame["code"], frame["name_zh"], strict=True))


def incidence_from_warehouse(
    engine: DuckDBEngine,
    by: Sequence[str],
    start: date,
    end: date,
    *,
    standard: str | None = None,
    province: str = "zhejiang",
    multiplier: float = PER_100K,
    annualise: bool = True,
    conf: float = 0.95,
    date_basis: str = "onset",
    case_classes: Sequence[str] | None = INCIDENCE_CASE_CLASSES,
) -> pd.DataFrame:
    """Incidence per group (per person-year when ``annualise``); age-standardised rates with ``standard``."""
    keys = _check_by(by)
    if standard is not None and "age_group" in keys:
        raise EpiInputError(
            "rates by age group cannot be age-standardised", hint="drop --standard or --by age_group"
        )
    years = year_fraction(start, end) if annualise else 1.0
    pop_keys = [k for k in keys if k in POPULATION_KEYS]
    other = [k for k in keys if k not in POPULATION_KEYS]
    counts = case_counts(engine, keys, start, end, date_basis=date_basis, case_classes=case_classes)
    unplaced = counts[keys].isna().any(axis=1) if keys else pd.Series(False, index=counts.index)
    unplaced_cases = int(counts.loc[unplaced, "cases"].sum())
    counts = counts[~unplaced]
    pop = _expand(engine, population(engine, pop_keys, province), other)
    table = incidence(counts, pop, keys, multiplier=multiplier, years=years, conf=conf)
    if standard is not None:
        aged = case_counts(
            engine, [*keys, "age_group"], start, end, date_basis=date_basis, case_classes=case_classes
        )
        unknown_age = int(aged.loc[aged["age_group"].isna(), "cases"].sum())
        aged = aged[aged["age_group"].notna()]
        pop_aged = _expand(engine, population(engine, [*pop_keys, "age_group"], province), other)
        merged = pop_aged.merge(aged, on=[*keys, "age_group"], how="left").fillna({"cases": 0})
        adjusted = direct_standardise(merged, standard, keys, multiplier=multiplier, years=years, conf=conf)
        adjusted = adjusted.drop(columns=["cases", "population", "crude_rate"])
        table = table.merge(adjusted, on=keys, how="left") if keys else pd.concat([table, adjusted], axis=1)
        table.attrs["cases_without_age"] = unknown_age
    if "age_group" in keys:
        rank = {g: i for i, g in enumerate(AGE_GROUPS)}
        table = table.sort_values(
            keys, key=lambda col: col.map(rank) if col.name == "age_group" else col, kind="stable"
        ).reset_index(drop=True)
    table.attrs["years"] = years
    table.attrs["cases_without_group"] = unplaced_cases
    return table


def timeliness_from_warehouse(
    engine: DuckDBEngine,
    by: Sequence[str],
    start: date,
    end: date,
    *,
    interval: str | None = None,
    conf: float = 0.95,
) -> pd.DataFrame:
    """Reporting timeliness for cases diagnosed in [start, end], per group (and per period of diagnosis)."""
    keys = _check_by(by)
    select = "".join(f", {GROUPINGS[k]} AS {k}" for k in keys)
    cases = engine.frame(
        f"SELECT c.disease_class, c.diagnosis_ts, c.report_ts{select} FROM case_report c "
        "LEFT JOIN region r ON r.code = c.county_code WHERE CAST(c.diagnosis_ts AS DATE) BETWEEN ? AND ?",
        [start, end],
    )
    if interval is not None:
        cases["period"] = period_label(period_start(cases["diagnosis_ts"], interval), interval)
        keys = [*keys, "period"]
    return timeliness(cases, keys, conf=conf)


def epidemic_curve_from_warehouse(
    engine: DuckDBEngine,
    start: date,
    end: date,
    *,
    interval: str = "day",
    by: Sequence[str] = (),
    case_classes: Sequence[str] | None = INCIDENCE_CASE_CLASSES,
) -> pd.DataFrame:
    """Cases by onset day or ISO week in [start, end], zero-filled (optionally per group)."""
    keys = _check_by(by)
    select = "".join(f", {GROUPINGS[k]} AS {k}" for k in keys)
    where = "c.onset_date BETWEEN ? AND ?"
    params: list[object] = [start, end]
    if case_classes is not None:
        where += f" AND c.case_class IN ({', '.join('?' for _ in case_classes)})"
        params += list(case_classes)
    cases = engine.frame(
        f"SELECT c.onset_date{select} FROM case_report c LEFT JOIN region r ON r.code = c.county_code "
        f"WHERE {where}",
        params,
    )
    return epidemic_curve(cases, interval=interval, by=keys, start=start, end=end)


def _check_by(by: Sequence[str]) -> list[str]:
    keys = list(by)
    unknown = [k for k in keys if k not in GROUPINGS]
    if unknown:
        raise EpiInputError(f"cannot group by {', '.join(unknown)}", hint=f"group by {', '.join(GROUPINGS)}")
    if len(set(keys)) != len(keys):
        raise EpiInputError("a grouping is repeated", hint="name each grouping once")
    return keys


def _expand(engine: DuckDBEngine, pop: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Repeat the population for every value of non-population groupings (every disease, every class)."""
    for key in keys:
        values = engine.frame(
            f"SELECT DISTINCT {GROUPINGS[key]} AS {key} FROM case_report c WHERE {GROUPINGS[key]} IS NOT NULL"
        )
        pop = values.merge(pop, how="cross")
    return pop


def _split_by_census(counties: pd.DataFrame, province: str) -> pd.DataFrame:
    """County populations split by sex × age group in proportion to the province's census structure."""
    from provista.synth.province import AGE_GROUPS as CENSUS_AGE_GROUPS
    from provista.synth.province import SEXES, load_province

    if tuple(CENSUS_AGE_GROUPS) != AGE_GROUPS:
        raise EpiInputError("the census age groups differ from the standard's", hint="align AGE_GROUPS")
    prov = load_province(province)
    index = {c.code: i for i, c in enumerate(prov.counties)}
    for old, new in prov.outdated_codes.items():
        if new in index:
            index.setdefault(old, index[new])
    missing = sorted(set(counties["county"]) - set(index))
    if missing:
        raise EpiInputError(
            f"no census structure by sex and age for county code(s) {', '.join(missing[:5])}",
            hint=f"these counties are not in the '{province}' province's population.csv; pass --province",
        )
    rows = []
    for county, city, total in counties.itertuples(index=False):
        structure = prov.population[index[county]].astype(float)
        share = structure / structure.sum()
        for s, sex in enumerate(SEXES):
            for a, group in enumerate(AGE_GROUPS):
                rows.append((county, city, sex, group, float(total) * share[s, a]))
    out = pd.DataFrame(rows, columns=["county", "city", "sex", "age_group", "population"])
    out["population"] = out["population"].astype(np.float64)
    return out
