"""Hospital records as FHIR R4 resources, written as Bundles (type collection) or Bulk-Data NDJSON.

Conventions of these exports (documented in the README): identifiers use ``urn:provista:`` systems
for the resident ID number and each hospital's record number; diagnoses are ICD-10
(``http://hl7.org/fhir/sid/icd-10``), operations ICD-9-CM-3, labs LOINC with UCUM units, drugs ATC; the
cost of a visit, the primary-diagnosis flag and the surgery level are extensions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

RESIDENT_ID_SYSTEM = "urn:provista:resident-id"
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"
ICD9CM3_SYSTEM = "urn:oid:2.16.840.1.113883.6.104"
LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
ATC_SYSTEM = "http://www.whocc.no/atc"
EXT_COST = "urn:provista:fhir:encounter-cost"
EXT_PRIMARY = "urn:provista:fhir:primary-diagnosis"
EXT_SURGERY_LEVEL = "urn:provista:fhir:surgery-level"
RESOURCE_TYPES = {
    "patients": "Patient",
    "encounters": "Encounter",
    "diagnoses": "Condition",
    "operations": "Procedure",
    "labs": "Observation",
    "prescriptions": "MedicationRequest",
}
BUNDLE_SIZE = 10_000
ACT_CODE = {"outpatient": "AMB", "emergency": "EMER", "inpatient": "IMP"}
Record = dict[str, Any]


def _ts(value: Any) -> str | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%S+08:00")


def _date(value: Any) -> str | None:
    if value is None or value is pd.NaT:
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _present(value: Any) -> bool:
    return not (
        value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and np.isnan(value))
    )


def _drop_none(d: Record) -> Record:
    return {k: v for k, v in d.items() if v is not None and v != [] and v != {}}


def _resource_id(r: Record, key: str) -> str:
    """The resource id: the record's key, or the new id a re-sent duplicate got."""
    for column in ("_resource_id", "_rid"):  # a re-send's new id, or the record's logical id
        rid = r.get(column)
        if isinstance(rid, str):
            return rid
    return str(r[key])


def _ref(kind: str, ident: Any) -> Record | None:
    return {"reference": f"{kind}/{ident}"} if _present(ident) else None


def patient(r: Record, hospital_id: str) -> Record:
    identifiers = [{"system": f"urn:provista:mrn:{hospital_id}", "value": r["patient_id"]}]
    if _present(r["id_number"]):
        identifiers.insert(0, {"system": RESIDENT_ID_SYSTEM, "value": r["id_number"]})
    return _drop_none(
        {
            "resourceType": "Patient",
            "id": _resource_id(r, "patient_id"),
            "identifier": identifiers,
            "name": [{"text": r["name"]}] if _present(r["name"]) else None,
            "gender": {"M": "male", "F": "female"}.get(r["sex"]) if _present(r["sex"]) else None,
            "birthDate": _date(r["birth_date"]),
            "telecom": [{"system": "phone", "value": r["phone"]}] if _present(r["phone"]) else None,
            "address": [
                _drop_none(
                    {
                        "text": r["address"],
                        "district": r["county_code"] if _present(r["county_code"]) else None,
                    }
                )
            ],
        }
    )


def encounter(r: Record, hospital_id: str) -> Record:
    dept = r["department"]
    return _drop_none(
        {
            "resourceType": "Encounter",
            "id": _resource_id(r, "encounter_id"),
            "status": "finished"
            if _present(r["discharge_ts"]) or r["type"] != "inpatient"
            else "in-progress",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": ACT_CODE[r["type"]],
            },
            "subject": _ref("Patient", r.get("_patient_rid")) if _present(r["patient_id"]) else None,
            "serviceType": {"text": dept} if _present(dept) else None,
            "period": _drop_none({"start": _ts(r["admit_ts"]), "end": _ts(r["discharge_ts"])}),
            "hospitalization": (
                {"dischargeDisposition": {"text": r["outcome"]}} if _present(r["outcome"]) else None
            ),
            "serviceProvider": {"reference": f"Organization/{hospital_id}"},
            "extension": [{"url": EXT_COST, "valueMoney": {"value": r["cost"], "currency": "CNY"}}]
            if _present(r["cost"])
            else None,
        }
    )


def condition(r: Record, subject: str) -> Record:
    return _drop_none(
        {
            "resourceType": "Condition",
            "id": _resource_id(r, "diagnosis_id"),
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "encounter-diagnosis",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": ICD10_SYSTEM, "code": r["icd10"]}]}
            if _present(r["icd10"])
            else None,
            "subject": {"reference": f"Patient/{subject}"},
            "encounter": {"reference": f"Encounter/{r['encounter_id']}"},
            "extension": [{"url": EXT_PRIMARY, "valueBoolean": bool(r["is_primary"])}],
        }
    )


def procedure(r: Record, subject: str) -> Record:
    return _drop_none(
        {
            "resourceType": "Procedure",
            "id": _resource_id(r, "operation_id"),
            "status": "completed",
            "code": {"coding": [{"system": ICD9CM3_SYSTEM, "code": r["code"]}], "text": r["name"]}
            if _present(r["code"])
            else None,
            "subject": {"reference": f"Patient/{subject}"},
            "encounter": {"reference": f"Encounter/{r['encounter_id']}"},
            "performedPeriod": _drop_none({"start": _ts(r["start_ts"]), "end": _ts(r["end_ts"])}),
            "location": {"display": r["or_room"]},
            "extension": [{"url": EXT_SURGERY_LEVEL, "valueInteger": int(r["level"])}],
        }
    )


def observation(r: Record, subject: str) -> Record:
    value = r["value"]
    return _drop_none(
        {
            "resourceType": "Observation",
            "id": _resource_id(r, "lab_id"),
            "status": "final",
            "code": {"coding": [{"system": LOINC_SYSTEM, "code": r["code"], "display": r["name"]}]},
            "subject": {"reference": f"Patient/{subject}"},
            "encounter": {"reference": f"Encounter/{r['encounter_id']}"},
            "effectiveDateTime": _ts(r["ts"]),
            "valueQuantity": {
                "value": float(value),
                "unit": r["unit"],
                "system": UCUM_SYSTEM,
                "code": r["unit"],
            }
            if _present(value)
            else None,
        }
    )


def medication_request(r: Record, subject: str) -> Record:
    coding = [{"system": ATC_SYSTEM, "code": r["atc"]}]
    if _present(r["drug_code"]):
        coding.append({"system": "urn:provista:drug-code", "code": r["drug_code"]})
    return _drop_none(
        {
            "resourceType": "MedicationRequest",
            "id": _resource_id(r, "prescription_id"),
            "status": "completed",
            "intent": "order",
            "medicationCodeableConcept": {"coding": coding, "text": r["drug_name"]},
            "subject": {"reference": f"Patient/{subject}"},
            "encounter": {"reference": f"Encounter/{r['encounter_id']}"},
            "authoredOn": _ts(r["ts"]),
            "dosageInstruction": [
                {"doseAndRate": [{"doseQuantity": {"value": float(r["dose"]), "unit": r["unit"]}}]}
            ],
            "dispenseRequest": {
                "expectedSupplyDuration": {
                    "value": int(r["days"]),
                    "unit": "d",
                    "system": UCUM_SYSTEM,
                    "code": "d",
                }
            },
        }
    )


def resources(
    table: str, frame: pd.DataFrame, hospital_id: str, subject_of: dict[str, str]
) -> Iterator[Record]:
    """The FHIR resources of one table, in row order."""
    builders: dict[str, Callable[[Record, str], Record]] = {
        "diagnoses": condition,
        "operations": procedure,
        "labs": observation,
        "prescriptions": medication_request,
    }
    for r in frame.to_dict("records"):
        if table == "patients":
            yield patient(r, hospital_id)
        elif table == "encounters":
            yield encounter(r, hospital_id)
        else:
            yield builders[table](r, subject_of.get(r["encounter_id"], "unknown"))


def write_fhir(
    folder: Path,
    table: str,
    frame: pd.DataFrame,
    hospital_id: str,
    subject_of: dict[str, str],
    as_bundles: bool,
    first_bundle: int = 1,
    append: bool = False,
) -> list[tuple[str, int]]:
    """Write one table as NDJSON (``Patient.ndjson``) or as Bundles of BUNDLE_SIZE (``Patient-0001.json``).

    ``first_bundle`` and ``append`` continue what an earlier chunk of the same hospital wrote.
    """
    rtype = RESOURCE_TYPES[table]
    folder.mkdir(parents=True, exist_ok=True)
    items = [orjson.dumps(res) for res in resources(table, frame, hospital_id, subject_of)]
    if not items:
        return []
    if not as_bundles:
        with open(folder / f"{rtype}.ndjson", "ab" if append else "wb") as f:
            f.write(b"".join(i + b"\n" for i in items))
        return [(f"{rtype}.ndjson", len(items))]
    parts = []
    for k in range(-(-len(items) // BUNDLE_SIZE)):
        chunk = items[k * BUNDLE_SIZE : (k + 1) * BUNDLE_SIZE]
        number = first_bundle + k
        name = f"{rtype}-{number:04d}.json"
        head = orjson.dumps(
            {"resourceType": "Bundle", "id": f"{hospital_id}-{rtype}-{number}", "type": "collection"}
        )
        entries = b",".join(b'{"resource":' + i + b"}" for i in chunk)
        (folder / name).write_bytes(head[:-1] + b',"entry":[' + entries + b"]}")
        parts.append((name, len(chunk)))
    return parts
