"""Marts: the aggregates dashboards read, defined as Ibis expressions (portable across engines) and
rebuilt by every build.

Definitions (DOMAIN.md, hospital statistics): occupied bed-days come from the midnight census (bed view);
patient bed-days from discharged patients' records (patient view), counted as midnights crossed between
the admission and discharge dates; the two are never mixed in one mart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
from ibis import _

if TYPE_CHECKING:
    from provista.engine import Engine


# ICD-10 chapters by code range (WHO 2019): the heat map's rows.
CHAPTERS = (
    ("I", "A00", "B99"), ("II", "C00", "D48"), ("III", "D50", "D89"), ("IV", "E00", "E90"),
    ("V", "F00", "F99"), ("VI", "G00", "G99"), ("VII", "H00", "H59"), ("VIII", "H60", "H95"),
    ("IX", "I00", "I99"), ("X", "J00", "J99"), ("XI", "K00", "K93"), ("XII", "L00", "L99"),
    ("XIII", "M00", "M99"), ("XIV", "N00", "N99"), ("XV", "O00", "O99"), ("XVI", "P00", "P96"),
    ("XVII", "Q00", "Q99"), ("XVIII", "R00", "R99"), ("XIX", "S00", "T98"), ("XX", "V01", "Y98"),
    ("XXI", "Z00", "Z99"), ("XXII", "U00", "U99"),
)  # fmt: skip


def icd10_chapter(code: Any) -> Any:
    """The ICD-10 chapter (I … XXII) of a code column, '?' where no chapter's range holds it."""
    three = code.substr(0, 3)
    return ibis.cases(*((three.between(a, b), c) for c, a, b in CHAPTERS), else_="?")


def mart_expressions(con: Any) -> dict[str, ibis.Table]:
    """Each mart's name and its expression over the warehouse tables of backend ``con``."""
    enc = con.table("encounter")
    census = con.table("bed_census")
    cases = con.table("case_report")
    dq = con.table("dq_result")
    visits = (
        enc.filter(_.admit_ts.notnull())
        .group_by([_.hospital_id, _.admit_ts.date().name("day"), _.type, _.department])
        .aggregate(visits=_.count(), cost_total=_.cost.sum())
    )
    occupancy = (
        census.group_by([_.hospital_id, _.department, _.date.truncate("M").name("month")])
        .aggregate(
            occupied_bed_days=_.occupied_beds.sum(),
            open_bed_days=_.open_beds.sum(),
            days=_.count(),
        )
        .mutate(occupancy_rate=_.occupied_bed_days / _.open_bed_days.nullif(0))  # no open beds: NULL
    )
    discharged = enc.filter((_.type == "inpatient") & _.discharge_ts.notnull() & _.admit_ts.notnull())
    discharges = (
        # a same-day stay counts one bed-day (住院天数)
        discharged.mutate(
            bed_days=ibis.greatest(_.discharge_ts.date().epoch_days() - _.admit_ts.date().epoch_days(), 1)
        )
        .group_by([_.hospital_id, _.discharge_ts.date().truncate("M").name("month")])
        .aggregate(
            discharges=_.count(),
            patient_bed_days=_.bed_days.sum(),
            deaths=(_.outcome == "died").sum(),
        )
        .mutate(average_length_of_stay=_.patient_bed_days / _.discharges)
    )
    weekly_cases = (
        cases.filter(_.onset_date.notnull())
        .group_by([_.county_code, _.disease, _.disease_class, _.onset_date.truncate("W").name("week")])
        .aggregate(cases=_.count())
    )
    admitted = enc.filter(_.admit_ts.notnull())
    diagnosis_weekly = (
        con.table("diagnosis")
        .join(admitted, ["hospital_id", "encounter_id"])
        .group_by(
            [_.hospital_id, icd10_chapter(_.icd10).name("chapter"), _.admit_ts.truncate("W").name("week")]
        )
        .aggregate(n=_.count())
    )
    visits_hourly = admitted.group_by(
        [_.hospital_id, _.department, _.admit_ts.hour().name("hour")]
    ).aggregate(n=_.count())
    quality = dq.group_by([_.hospital_id, _.kind]).aggregate(checked=_.checked.sum(), failed=_.failed.sum())
    return {
        "mart_visits_daily": visits,
        "mart_bed_occupancy_monthly": occupancy,
        "mart_discharges_monthly": discharges,
        "mart_cases_weekly": weekly_cases,
        "mart_quality_hospital": quality,
        "mart_diagnosis_weekly": diagnosis_weekly,  # the heat map ICD-10 chapter × week of admission
        "mart_visits_hourly": visits_hourly,  # the heat map department × hour of admission
    }


def build_marts(engine: Engine) -> dict[str, int]:
    """(Re)create every mart table from its expression, compiled for the engine; return row counts.

    Ibis 12's ``create_table(overwrite=True)`` emits SQL that DuckDB 2.0 refuses, so the expression is
    compiled by the engine's Ibis backend (DuckDB's or PySpark's SQL) and run by the engine.
    """
    counts = {}
    con = engine.ibis()
    for name, expr in mart_expressions(con).items():
        engine.execute(f"CREATE OR REPLACE TABLE {name} AS {con.compile(expr)}")
        counts[name] = int(engine.scalar(f"SELECT count(*) FROM {name}"))
    return counts
