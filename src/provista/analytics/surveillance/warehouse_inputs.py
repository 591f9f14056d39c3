"""What the space-time scan and the transfer recommendations read from a warehouse: SQL here, the methods
in ``scan.py`` and ``transfers.py``. Queries go through ``engine.query`` (a cursor each), so the API's
threads can share the engine.

Cases are notifiable-disease reports counted in incidence (confirmed and clinically diagnosed, as in
``analytics.epi``), by onset date and the county of the report, in ISO weeks (Monday first). Capacity is
today's free capacity per city, from the midnight bed census of the last week on record.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from provista.analytics.epi.warehouse import INCIDENCE_CASE_CLASSES
from provista.engine import DuckDBEngine
from provista.errors import ProvistaError

if TYPE_CHECKING:
    from provista.analytics.surveillance.scan import Model, ScanResult
    from provista.analytics.surveillance.transfers import TransferPlan

WEEKS_SCANNED = 104  # default study period of the scan: the last two years of weekly counts


class SurveillanceInputError(ProvistaError, ValueError):
    """The warehouse lacks what the scan or the transfer model needs, or an option does not fit it."""


def monday(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def onset_span(engine: DuckDBEngine) -> tuple[date, date]:
    """First and last onset date of the case reports."""
    row = engine.query("SELECT min(onset_date) AS a, max(onset_date) AS b FROM case_report")
    if row.empty or pd.isna(row.loc[0, "a"]):
        raise SurveillanceInputError(
            "the warehouse has no case reports", hint="build a warehouse with CDC case reports first"
        )
    return pd.Timestamp(row.loc[0, "a"]).date(), pd.Timestamp(row.loc[0, "b"]).date()


def study_period(engine: DuckDBEngine, start: date | None, end: date | None) -> tuple[date, date]:
    """The whole ISO weeks (Monday to Sunday) inside [start, end] and inside the onsets on record; by
    default the last ``WEEKS_SCANNED`` whole weeks on record (a week cut by the first or last report would
    look low).

    A period is clipped to the onsets on record: weeks before the first report or after the last hold no
    data, not zero cases, and a period such as 0001-01-01 to 9999-12-31 would otherwise make tables of half
    a million weeks per county."""
    first, last = onset_span(engine)
    asked = (start, end)
    end = min(end or last, last)
    start = max(start or end - timedelta(weeks=WEEKS_SCANNED), first)
    week_one = monday(start + timedelta(days=6))  # the first Monday on or after start
    week_last = monday(end + timedelta(days=1)) - timedelta(days=1)  # the last Sunday on or before end
    if week_last < week_one:
        raise SurveillanceInputError(
            f"no whole week (Monday to Sunday) of case reports between {asked[0] or start} and "
            f"{asked[1] or end}: onsets on record run from {first} to {last}",
            hint="give a period of at least a week inside the onsets on record",
        )
    return week_one, week_last


def resolve_disease(engine: DuckDBEngine, disease: str | None) -> str | None:
    """The ``case_report.disease`` value meant by a name as reported (流行性感冒) or an ICD-10 code (J11)."""
    if disease is None:
        return None
    known = engine.query("SELECT disease, any_value(icd10) AS icd10 FROM case_report GROUP BY 1 ORDER BY 1")
    if disease in set(known["disease"]):
        return disease
    by_code = known[known["icd10"].fillna("").str.upper().str.startswith(disease.upper())]
    if len(by_code) == 1:
        return str(by_code["disease"].iloc[0])
    raise SurveillanceInputError(
        f"no disease '{disease}' in the case reports",
        hint="use a name as reported or its ICD-10 code: " + ", ".join(known["disease"].astype(str)),
    )


def county_populations(engine: DuckDBEngine, prefix: str | None = None) -> pd.Series:
    """Population of every county (optionally those whose code starts with ``prefix``), by code."""
    frame = engine.query(
        "SELECT code, population FROM region WHERE level = 'county' AND (? IS NULL OR starts_with(code, ?)) "
        "ORDER BY code",
        [prefix, prefix],
    )
    if frame.empty:
        raise SurveillanceInputError("the warehouse has no counties", hint="rebuild it with `provista build`")
    return frame.set_index("code")["population"].astype(float)


def weekly_county_cases(
    engine: DuckDBEngine,
    start: date,
    end: date,
    *,
    disease: str | None = None,
    prefix: str | None = None,
    case_classes: Sequence[str] = INCIDENCE_CASE_CLASSES,
) -> pd.DataFrame:
    """Cases by onset week: a county × week table (every county, every Monday from ``start`` to ``end``)."""
    weeks = pd.date_range(monday(start), monday(end), freq="7D")
    counties = county_populations(engine, prefix).index
    rows = engine.query(
        f"""SELECT county_code, date_trunc('week', onset_date)::DATE AS week, count(*) AS cases
            FROM case_report
            WHERE onset_date BETWEEN ? AND ? AND (? IS NULL OR disease = ?)
              AND (? IS NULL OR starts_with(county_code, ?))
              AND case_class IN ({", ".join("?" for _ in case_classes)})
            GROUP BY 1, 2""",
        [
            weeks[0].date(),
            weeks[-1].date() + timedelta(days=6),
            disease,
            disease,
            prefix,
            prefix,
            *case_classes,
        ],
    )
    table = pd.DataFrame(0, index=counties, columns=weeks, dtype=np.int64)
    if not rows.empty:
        rows["week"] = pd.to_datetime(rows["week"])
        rows = rows[rows["county_code"].isin(counties)]
        wide = rows.pivot_table(index="county_code", columns="week", values="cases", aggfunc="sum")
        table = table.add(
            wide.reindex(index=counties, columns=weeks).fillna(0).astype(np.int64), fill_value=0
        )
    return table.astype(np.int64)


def cities(engine: DuckDBEngine) -> pd.DataFrame:
    """The prefecture-level cities: ``code, name_zh, name_en``."""
    return engine.query("SELECT code, name_zh, name_en FROM region WHERE level = 'prefecture' ORDER BY code")


def free_capacity(
    engine: DuckDBEngine,
    *,
    icu_share: float = 0.04,
    ventilators_per_icu_bed: float = 1.0,
    nurses_per_bed: float = 0.4,
    nurses_per_icu_bed: float = 3.0,
) -> pd.DataFrame:
    """Free capacity per city today: ``city, beds, icu_beds, ventilators, staff`` (+ ``open``, ``occupied``).

    Free beds are open minus occupied beds of the midnight census, averaged over the last 7 days on
    record. The warehouse has no ICU census, ventilators or staff, so they are estimated from free beds
    by the ratios given (defaults: ICU beds 4 % of beds, within the 2–8 % of 《重症医学科建设与管理指南
    （试行）》 2009; one ventilator per ICU bed and 3 nurses per ICU bed, same guideline; 0.4 nurses per
    ward bed, 《医疗机构基本标准（试行）》) — give real figures with a capacity file where they are known.
    """
    last = engine.query("SELECT max(date) AS d FROM bed_census").loc[0, "d"]
    if pd.isna(last):
        raise SurveillanceInputError(
            "the warehouse has no bed census", hint="give capacity in a file (--capacity)"
        )
    census = engine.query(
        """SELECT h.city_code AS city, sum(b.open_beds)::DOUBLE / count(DISTINCT b.date) AS open,
                  sum(b.occupied_beds)::DOUBLE / count(DISTINCT b.date) AS occupied
           FROM bed_census b JOIN hospital h USING (hospital_id)
           WHERE b.date > ?::DATE - INTERVAL 7 DAY GROUP BY 1""",
        [last],
    )
    out = cities(engine)[["code"]].rename(columns={"code": "city"}).merge(census, on="city", how="left")
    out = out.fillna({"open": 0.0, "occupied": 0.0})
    free = np.floor(np.maximum(out["open"] - out["occupied"], 0.0))
    icu = np.floor(free * icu_share)
    out["beds"] = free - icu
    out["icu_beds"] = icu
    out["ventilators"] = np.floor(icu * ventilators_per_icu_bed)
    out["staff"] = np.floor(out["beds"] * nurses_per_bed + icu * nurses_per_icu_bed)
    return out[["city", "beds", "icu_beds", "ventilators", "staff", "open", "occupied"]]


def forecast_demand(
    engine: DuckDBEngine,
    *,
    disease: str | None = None,
    as_of: date | None = None,
    horizon_weeks: int = 2,
    admission_share: float = 0.1,
    icu_share: float = 0.1,
    ventilated_share: float = 0.5,
) -> pd.DataFrame:
    """Patients expected over the next ``horizon_weeks`` per city: ``city, cases, ward, icu, ventilated``.

    A deliberately simple forecast: the weekly growth factor g = √(cases of the last 2 weeks ÷ cases of
    the 2 weeks before), kept within [0.5, 2], carries the last week's cases forward (week h: last × g^h);
    shares of those cases are admitted, of them need intensive care, and of those ventilation (the
    defaults are placeholders: set them per disease). Counts are rounded to whole patients.
    """
    _, last = onset_span(engine)
    end = monday(as_of or last) - timedelta(days=1)  # the last whole week before as_of
    start = end - timedelta(weeks=4) + timedelta(days=1)
    weekly = engine.query(
        f"""SELECT r.parent_code AS city, (date_diff('day', ?::DATE, c.onset_date) // 7)::INTEGER AS w,
                   count(*) AS cases
            FROM case_report c JOIN region r ON r.code = c.county_code
            WHERE c.onset_date BETWEEN ? AND ? AND (? IS NULL OR c.disease = ?)
              AND c.case_class IN ({", ".join("?" for _ in INCIDENCE_CASE_CLASSES)})
            GROUP BY 1, 2""",
        [start, start, end, disease, disease, *INCIDENCE_CASE_CLASSES],
    )
    wide = weekly.pivot_table(index="city", columns="w", values="cases", aggfunc="sum")
    wide = wide.reindex(index=cities(engine)["code"], columns=range(4)).fillna(0.0)
    earlier, recent = wide[[0, 1]].sum(axis=1), wide[[2, 3]].sum(axis=1)
    growth = np.sqrt(np.clip(np.where(earlier > 0, recent / earlier.where(earlier > 0, 1), 1.0), 0.25, 4.0))
    cases = sum(wide[3] * growth**h for h in range(1, horizon_weeks + 1))
    admitted = cases * admission_share
    out = pd.DataFrame({"city": wide.index, "cases": np.asarray(cases, dtype=float)})
    out["ward"] = [_whole(v) for v in admitted * (1 - icu_share)]
    out["icu"] = [_whole(v) for v in admitted * icu_share * (1 - ventilated_share)]
    out["ventilated"] = [_whole(v) for v in admitted * icu_share * ventilated_share]
    return out.reset_index(drop=True)


def _whole(value: float) -> int:
    """Round half up (2.5 → 3), not to even."""
    return math.floor(value + 0.5)


def scan_warehouse(
    engine: DuckDBEngine,
    *,
    model: Model,
    disease: str | None = None,
    start: date | None = None,
    end: date | None = None,
    prefix: str | None = None,
    **settings: Any,
) -> tuple[ScanResult, dict[str, Any]]:
    """The space-time scan of one disease (or all) over the counties of the warehouse (or of ``prefix``).

    Returns the result and what it was run on: ``disease``, ``from``, ``to`` (whole ISO weeks).
    """
    from provista.analytics.surveillance.geography import centroids
    from provista.analytics.surveillance.scan import space_time_scan

    chosen = resolve_disease(engine, disease)
    first, last = study_period(engine, start, end)
    table = weekly_county_cases(engine, first, last, disease=chosen, prefix=prefix)
    population = county_populations(engine, prefix)
    result = space_time_scan(
        table,
        centroids(),
        model=model,
        population=population,
        **settings,
    )
    return result, {"disease": chosen, "from": first, "to": last}


def recommend_from_warehouse(
    engine: DuckDBEngine,
    *,
    demand: pd.DataFrame | None = None,
    capacity: pd.DataFrame | None = None,
    disease: str | None = None,
    horizon_weeks: int = 2,
    admission_share: float = 0.1,
    icu_share: float = 0.1,
    ventilated_share: float = 0.5,
    max_per_pair: int | None = 50,
    max_km: float | None = 300.0,
) -> tuple[TransferPlan, pd.DataFrame]:
    """Transfers between the warehouse's cities: demand given (city × kind) or forecast from the case
    reports, free capacity from the bed census with any given figures (city × resource) in its place.

    Returns the plan and the cities (``code, name_zh, name_en``).
    """
    from provista.analytics.surveillance.geography import distance_km, locate
    from provista.analytics.surveillance.transfers import recommend_transfers

    known = cities(engine)
    if demand is None:
        demand = forecast_demand(
            engine,
            disease=resolve_disease(engine, disease),
            horizon_weeks=horizon_weeks,
            admission_share=admission_share,
            icu_share=icu_share,
            ventilated_share=ventilated_share,
        ).set_index("city")[["ward", "icu", "ventilated"]]
    free = free_capacity(engine).set_index("city")[["beds", "icu_beds", "ventilators", "staff"]]
    if capacity is not None:
        free.update(capacity)
    place = locate(list(known["code"]), level="city")
    km = pd.DataFrame(
        distance_km(place["lon"].to_numpy(float), place["lat"].to_numpy(float)),
        index=known["code"],
        columns=known["code"],
    )
    plan = recommend_transfers(
        demand,
        free,
        km,
        max_per_pair=max_per_pair,
        max_km=max_km,
        names_zh=dict(zip(known["code"], known["name_zh"], strict=True)),
        names_en=dict(zip(known["code"], known["name_en"], strict=True)),
    )
    return plan, known
