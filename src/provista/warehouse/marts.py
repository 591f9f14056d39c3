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
    from provista.engine import DuckDBEngine


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
        .mutate(occupancy_rate=_.occupied_bed_days / _.open_bed_days)
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
    quality = dq.group_by([_.hospital_id, _.kind]).aggregate(checked=_.checked.sum(), failed=_.failed.sum())
    return {
        "mart_visits_daily": visits,
        "mart_bed_occupancy_monthly": occupancy,
        "mart_discharges_monthly": discharges,
        "mart_cases_weekly": weekly_cases,
        "mart_quality_hospital": quality,
    }


def build_marts(engine: DuckDBEngine) -> dict[str, int]:
    """(Re)create every mart table from its expression, compiled for the engine; return row counts.

    Ibis 12's ``create_table(overwrite=True)`` emits SQL that DuckDB 2.0 refuses, so the expression is
    compiled with ``ibis.to_sql`` and run by the engine.
    """
    counts = {}
    for name, expr in mart_expressions(engine.ibis()).items():
        engine.execute(f"CREATE OR REPLACE TABLE {name} AS {ibis.to_sql(expr, dialect='duckdb')}")
        counts[name] = int(engine.scalar(f"SELECT count(*) FROM {name}"))
    return counts
