"""What each canonical source table holds: required fields, dates, numbers and code lists.

The quality checks read these; the warehouse schema (``warehouse/schema.py``) is built from the cleaned
tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from provista.synth.catalogue import DEPARTMENTS
from provista.synth.diseases import DISEASES


@dataclass(frozen=True)
class TableSpec:
    key: str  # the record's id within its source
    required: tuple[str, ...]
    datetimes: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    codes: dict[str, frozenset[str]] = field(default_factory=dict)
    # A required field may be stood in for by another (a SNOMED-coded condition has no ICD-10 code).
    alternatives: dict[str, str] = field(default_factory=dict)


ENCOUNTER_TYPES = frozenset({"outpatient", "emergency", "inpatient"})
DEPARTMENT_CODES = frozenset(DEPARTMENTS)
# Department names as systems write them (Chinese or English) -> code.
DEPARTMENT_BY_NAME = {name: code for code, names in DEPARTMENTS.items() for name in (*names, code)}
DISEASE_NAMES = frozenset(d.name_zh for d in DISEASES)

TABLES: dict[str, TableSpec] = {
    "patients": TableSpec("patient_id", ("patient_id", "name", "sex", "birth_date"), ("birth_date",)),
    "encounters": TableSpec(
        "encounter_id",
        ("encounter_id", "patient_id", "type", "department", "admit_ts"),
        ("admit_ts", "discharge_ts"),
        ("cost",),
        {"type": ENCOUNTER_TYPES, "department": DEPARTMENT_CODES},
    ),
    "diagnoses": TableSpec(
        "diagnosis_id", ("diagnosis_id", "encounter_id", "icd10"), alternatives={"icd10": "code"}
    ),
    "operations": TableSpec(
        "operation_id",
        ("operation_id", "encounter_id", "code", "start_ts"),
        ("start_ts", "end_ts"),
        ("level",),
    ),
    "labs": TableSpec(
        "lab_id",
        ("lab_id", "encounter_id", "code", "value"),
        ("ts",),
        ("value",),
        alternatives={"value": "value_text"},
    ),
    "prescriptions": TableSpec(
        "prescription_id", ("prescription_id", "encounter_id", "drug_code"), ("ts",), ("dose", "days")
    ),
    "bed_census": TableSpec(
        "",
        ("date", "department", "occupied_beds"),
        ("date",),
        ("occupied_beds", "open_beds"),
        {"department": DEPARTMENT_CODES},
    ),
    "equipment_use": TableSpec(
        "", ("device_id", "date", "exams"), ("date",), ("hours_used", "hours_available", "exams", "positives")
    ),
    "case_reports": TableSpec(
        "report_id",
        ("report_id", "disease", "onset_date", "address_code"),
        ("birth_date", "onset_date", "diagnosis_ts", "report_ts"),
        ("age",),
        {"disease": DISEASE_NAMES},
    ),
    "organizations": TableSpec("organization_id", ("organization_id",)),
}
