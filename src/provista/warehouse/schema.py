"""The canonical warehouse (DESIGN.md): one table per grain, pseudonyms instead of identities.

Every fact keeps ``source_file`` and ``record_ref``, so that any value can be traced to the record it came
from (and scored against the synthetic truth). Names, ID numbers, phones and street addresses have no
column anywhere: quarantined records are kept verbatim beside the warehouse, in the quarantine store
(``<warehouse>.quarantine.parquet``), for the data centre's staff only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provista.linkage.encode import FIELDS

if TYPE_CHECKING:
    from provista.engine import Engine


def feature_columns() -> tuple[str, ...]:
    """The identity table's keyed linkage features (linkage/encode.py), typed."""
    cols: list[str] = []
    for f in FIELDS:
        cols.append(f"{f.name}_t BIGINT")
        if f.near:
            cols.append(f"{f.name}_near INTEGER[]")
        if f.pinyin:
            cols.append(f"{f.name}_py BIGINT[]")
    return (*cols, "id_valid BOOLEAN", "birth_ym_t BIGINT", "name_t BIGINT")


LINEAGE = ("source_file VARCHAR NOT NULL", "record_ref VARCHAR NOT NULL")

_TABLES: dict[str, tuple[str, ...]] = {
    "region": (
        "code VARCHAR PRIMARY KEY",
        "name_zh VARCHAR",
        "name_en VARCHAR",
        "level VARCHAR",
        "parent_code VARCHAR",
        "population BIGINT",
    ),
    "hospital": (
        "hospital_id VARCHAR PRIMARY KEY",
        "name_zh VARCHAR",
        "name_en VARCHAR",
        "level VARCHAR",
        "level_en VARCHAR",
        "county_code VARCHAR",
        "city_code VARCHAR",
        "vendor VARCHAR",
        "beds_open INTEGER",
        "operating_rooms INTEGER",
        "departments VARCHAR",
        "ct INTEGER",
        "dr INTEGER",
        "mri INTEGER",
        "us INTEGER",
    ),
    "patient_record": (
        "hospital_id VARCHAR",
        "patient_key VARCHAR",
        "person_key VARCHAR",
        "sex VARCHAR",
        "birth_year_month VARCHAR",
        "county_code VARCHAR",
        "outside_province BOOLEAN",
        "id_kind VARCHAR",
        *LINEAGE,
    ),
    "encounter": (
        "hospital_id VARCHAR",
        "encounter_id VARCHAR",
        "patient_key VARCHAR",
        "person_key VARCHAR",
        "type VARCHAR",
        "department VARCHAR",
        "admit_ts TIMESTAMP",
        "discharge_ts TIMESTAMP",
        "outcome VARCHAR",
        "cost DOUBLE",
        *LINEAGE,
    ),
    "diagnosis": (
        "hospital_id VARCHAR",
        "encounter_id VARCHAR",
        "diagnosis_id VARCHAR",
        "icd10 VARCHAR",
        "icd10_national VARCHAR",
        "code_system VARCHAR",
        "code VARCHAR",
        "is_primary BOOLEAN",
        *LINEAGE,
    ),
    "procedure": (
        "hospital_id VARCHAR",
        "encounter_id VARCHAR",
        "operation_id VARCHAR",
        "code VARCHAR",
        "or_room VARCHAR",
        "start_ts TIMESTAMP",
        "end_ts TIMESTAMP",
        "level INTEGER",
        *LINEAGE,
    ),
    "observation": (
        "hospital_id VARCHAR",
        "encounter_id VARCHAR",
        "lab_id VARCHAR",
        "code VARCHAR",
        "value DOUBLE",
        "unit VARCHAR",
        "value_text VARCHAR",
        "ts TIMESTAMP",
        *LINEAGE,
    ),
    "medication": (
        "hospital_id VARCHAR",
        "encounter_id VARCHAR",
        "prescription_id VARCHAR",
        "drug_code VARCHAR",
        "atc VARCHAR",
        "dose DOUBLE",
        "unit VARCHAR",
        "days INTEGER",
        "ts TIMESTAMP",
        *LINEAGE,
    ),
    "bed_census": (
        "hospital_id VARCHAR",
        "department VARCHAR",
        "date DATE",
        "occupied_beds INTEGER",
        "open_beds INTEGER",
        *LINEAGE,
    ),
    "equipment_use": (
        "hospital_id VARCHAR",
        "device_id VARCHAR",
        "device_type VARCHAR",
        "date DATE",
        "hours_used DOUBLE",
        "hours_available DOUBLE",
        "exams INTEGER",
        "positives INTEGER",
        *LINEAGE,
    ),
    "case_report": (
        "report_id VARCHAR",
        "person_key VARCHAR",
        "disease VARCHAR",
        "disease_class VARCHAR",
        "icd10 VARCHAR",
        "onset_date DATE",
        "diagnosis_ts TIMESTAMP",
        "report_ts TIMESTAMP",
        "county_code VARCHAR",
        "age INTEGER",
        "sex VARCHAR",
        "occupation VARCHAR",
        "case_class VARCHAR",
        "reporting_unit_id VARCHAR",
        *LINEAGE,
    ),
    "imaging_study": (
        "hospital_id VARCHAR",
        "patient_key VARCHAR",
        "sex VARCHAR",
        "birth_year_month VARCHAR",
        "study_uid VARCHAR",
        "series_uid VARCHAR",
        "sop_uid VARCHAR",
        "modality VARCHAR",
        "body_part VARCHAR",
        "study_date TIMESTAMP",
        "series_description VARCHAR",
        "institution VARCHAR",
        "manufacturer VARCHAR",
        "rows INTEGER",
        "columns INTEGER",
        *LINEAGE,
    ),
    "variant": (
        "sample_key VARCHAR",
        "chrom VARCHAR",
        "pos BIGINT",
        "variant_id VARCHAR",
        "ref VARCHAR",
        "alt VARCHAR",
        "qual DOUBLE",
        "filter VARCHAR",
        "genotype VARCHAR",
        "zygosity VARCHAR",
        "phased BOOLEAN",
        "depth DOUBLE",
        *LINEAGE,
    ),
    "organization": ("organization_id VARCHAR", "name VARCHAR", "city VARCHAR", "state VARCHAR", *LINEAGE),
    "record_digest": ("source_key VARCHAR", "source_table VARCHAR", "digest VARCHAR", "first_ref VARCHAR"),
    "quarantine": (
        "load_id INTEGER",
        "source_file VARCHAR",
        "record_ref VARCHAR",
        "source_table VARCHAR",
        "reason_code VARCHAR",
        "detail VARCHAR",
    ),
    "merged": ("load_id INTEGER", "source_file VARCHAR", "record_ref VARCHAR", "duplicate_of VARCHAR"),
    "ingest_log": (
        "load_id INTEGER",
        "source_file VARCHAR",
        "sha256 VARCHAR",
        "hospital_id VARCHAR",
        "source_tables VARCHAR",
        "format VARCHAR",
        "encoding VARCHAR",
        "rows_in BIGINT",
        "loaded BIGINT",
        "duplicates BIGINT",
        "quarantined BIGINT",
        "loaded_at TIMESTAMP",
        "run_started TIMESTAMP",
    ),
    "dq_result": (
        "load_id INTEGER",
        "source_file VARCHAR",
        "hospital_id VARCHAR",
        "source_table VARCHAR",
        "rule_id VARCHAR",
        "kind VARCHAR",
        "severity VARCHAR",
        "checked BIGINT",
        "failed BIGINT",
    ),
    "repair_log": ("load_id INTEGER", "source_file VARCHAR", "what VARCHAR", "count BIGINT"),
    # The master patient index (linkage/): one row per source person record, with keyed features only.
    "identity": (
        "record_key VARCHAR",  # patient_record.patient_key, or case_report.report_id
        "kind VARCHAR",  # patient or case_report
        "hospital_id VARCHAR",
        "id_person_key VARCHAR",  # the pseudonym of a valid ID number, when the record has one
        "person_key VARCHAR",  # the linked person
        *feature_columns(),
        *LINEAGE,
    ),
    # What later loads must share with the build: the linkage token scheme and a check of the key.
    "build_info": ("name VARCHAR", "value VARCHAR"),
    "link_pair": (  # candidate pairs the model scored (representative records), for review and audit
        "record_key_l VARCHAR",
        "record_key_r VARCHAR",
        "match_weight DOUBLE",
        "match_probability DOUBLE",
    ),
    "link_model": (
        "trained_at TIMESTAMP",
        "model_json VARCHAR",  # Splink's model: comparisons, m and u probabilities (no record data)
        "records BIGINT",
        "threshold DOUBLE",
        "note VARCHAR",  # why no model was trained, if none was
    ),
}
TABLES: dict[str, str] = {name: ", ".join(cols) for name, cols in _TABLES.items()}
# Source table -> warehouse table.
TARGET = {
    "patients": "patient_record",
    "encounters": "encounter",
    "diagnoses": "diagnosis",
    "operations": "procedure",
    "labs": "observation",
    "prescriptions": "medication",
    "bed_census": "bed_census",
    "equipment_use": "equipment_use",
    "case_reports": "case_report",
    "organizations": "organization",
}
FACTS = (*TARGET.values(), "imaging_study", "variant")


def columns(table: str) -> list[str]:
    """Column names of a warehouse table, in order."""
    return [c.split(" ")[0] for c in _TABLES[table]]


def create_all(engine: Engine) -> None:
    """Create every table that does not exist yet."""
    for name, columns in TABLES.items():
        engine.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
