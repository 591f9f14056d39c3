"""Patient-level exports (`provista export`): one row per record, made k-anonymous before it is written.

What an export holds is declared per table (``EXPORTS``): the query, which columns are
quasi-identifiers and of what kind, and nothing that links back — no pseudonym (a person key would
let two exports be joined), no record reference, no source file. The export is refused, and nothing
written, when no allowed generalisation reaches k.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from provista.engine import DuckDBEngine
from provista.errors import ProvistaError
from provista.privacy.kanon import COARSEST, Generalisation, KAnonymity, QuasiIdentifiers, anonymise


@dataclass(frozen=True)
class ExportSpec:
    query: str
    qi: QuasiIdentifiers
    description: str


# Age in whole years at the visit from the birth year and month (the warehouse keeps no birth day).
_AGE = """CASE WHEN p.birth_year_month IS NOT NULL THEN
    ((year(e.admit_ts) * 12 + month(e.admit_ts)) - (CAST(substr(p.birth_year_month, 1, 4) AS INT) * 12
      + CAST(substr(p.birth_year_month, 6, 2) AS INT))) // 12 END"""

EXPORTS: dict[str, ExportSpec] = {
    "encounter": ExportSpec(
        query=f"""SELECT {_AGE} AS age, p.sex, p.county_code AS residence, h.county_code AS hospital_region,
                         h.level_en AS hospital_level, e.type, e.department,
                         e.admit_ts::DATE AS admit_date, e.discharge_ts::DATE AS discharge_date,
                         e.outcome, round(e.cost, -2) AS cost_rounded
                  FROM encounter e LEFT JOIN person p USING (person_key) JOIN hospital h USING (hospital_id)
                  ORDER BY e.admit_ts, e.hospital_id, e.encounter_id""",
        qi=QuasiIdentifiers(
            age=("age",),
            dates=("admit_date", "discharge_date"),
            regions=("residence", "hospital_region"),
            kept=("sex",),
        ),
        description="visits: age, sex, residence, hospital region and level, type, department, dates, "
        "outcome, cost to the nearest 100 yuan",
    ),
    "case_report": ExportSpec(
        query="""SELECT age, sex, occupation, county_code AS residence, disease, disease_class, case_class,
                        onset_date, diagnosis_ts::DATE AS diagnosis_date, report_ts::DATE AS report_date
                 FROM case_report ORDER BY report_ts, report_id""",
        qi=QuasiIdentifiers(
            age=("age",),
            dates=("onset_date", "diagnosis_date", "report_date"),
            regions=("residence",),
            kept=("sex", "occupation"),
        ),
        description="notifiable-disease reports: age, sex, occupation, residence, disease, dates",
    ),
}


def export_table(
    warehouse: Path,
    table: str,
    output: Path,
    k: int = 5,
    max_suppressed: float = 0.01,
    coarsest: Generalisation = COARSEST,
) -> KAnonymity:
    """Write ``table``'s k-anonymous export to ``output`` (CSV or Parquet) and a report beside it."""
    spec = EXPORTS.get(table)
    if spec is None:
        raise ProvistaError(
            f"no patient-level export is defined for {table!r}", hint=f"choose one of {', '.join(EXPORTS)}"
        )
    if output.suffix.lower() not in (".csv", ".parquet"):
        raise ProvistaError(f"{output}: the export is written as .csv or .parquet", hint="rename --output")
    if not warehouse.exists():
        raise ProvistaError(f"no warehouse at {warehouse}", hint="build one with `provista build` first")
    with DuckDBEngine(warehouse, read_only=True) as engine:
        frame = engine.query(spec.query)
    result = anonymise(frame, spec.qi, k=k, max_suppressed=max_suppressed, coarsest=coarsest)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() == ".csv":
        result.frame.to_csv(output, index=False, encoding="utf-8")
    else:
        result.frame.to_parquet(output, index=False)
    report_path(output).write_text(json.dumps(report(table, result), indent=2), encoding="utf-8")
    return result


def report_path(output: Path) -> Path:
    return output.with_name(output.name + ".k-anonymity.json")


def report(table: str, result: KAnonymity) -> dict[str, object]:
    """What the data protection officer reads: the generalisation applied, and what it cost."""
    g = result.generalisation
    return {
        "table": table,
        "k": result.k,
        "generalisation": {
            "age": ["year", "5-year", "10-year"][g.age],
            "dates": ["day", "month", "quarter", "year"][g.date],
            "region": ["county", "city", "province"][g.region],
        },
        "records_in": result.records,
        "records_out": len(result.frame),
        "suppressed": result.suppressed,
        "smallest_group": result.smallest_group,
        "groups": result.groups,
        "lattice_tried": [{"node": g.describe(), "would_suppress": n} for g, n in result.tried],
    }


def read_export(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
