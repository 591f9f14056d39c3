"""FHIR R4 sources: Bundles (transaction, batch, collection, searchset ...), single resources and NDJSON
bulk exports, flattened into the canonical tables.

Each record keeps ``record_ref`` (the resource id), ``raw`` (the resource as sent), ``fingerprint`` (the
resource without its id, for the loader's duplicate key) and ``malformed``. An NDJSON line that is not
JSON is a malformed record (quarantined); a Bundle or resource file that is not JSON is refused whole,
with the line and column where it breaks.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from provista.ingest.mapping import SourceFormatError
from provista.quality.tables import DEPARTMENT_BY_NAME

ICD10_SYSTEMS = ("http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm")
LOINC = "http://loinc.org"
RESIDENT_ID_SYSTEMS = ("urn:provista:resident-id", "urn:oid:2.16.156.10011.1.5")
DISPOSITION = {"exp": "died", "home": "other", "hosp": "other", "oth": "other", "aadvice": "other"}
ENCOUNTER_CLASS = {
    "AMB": "outpatient",
    "EMER": "emergency",
    "IMP": "inpatient",
    "ACUTE": "inpatient",
    "NONAC": "inpatient",
    "OBSENC": "outpatient",
    "PRENC": "outpatient",
    "SS": "outpatient",
    "VR": "outpatient",
    "HH": "outpatient",
    "FLD": "outpatient",
}
TABLE_OF = {
    "Patient": "patients",
    "Encounter": "encounters",
    "Condition": "diagnoses",
    "Observation": "labs",
    "Procedure": "operations",
    "MedicationRequest": "prescriptions",
    "Organization": "organizations",
}
Resource = dict[str, Any]


def _ref(value: Any) -> str:
    """'Patient/123', 'urn:uuid:abc' or a contained '#x' → the bare id."""
    if not isinstance(value, dict):
        return ""
    ref = str(value.get("reference", ""))
    return ref.rsplit("/", 1)[-1].removeprefix("urn:uuid:") if ref else ""


def _ext(resource: Resource, suffix: str) -> Any:
    for e in resource.get("extension", []) or []:
        if str(e.get("url", "")).endswith(suffix):
            return next((v for k, v in e.items() if k.startswith("value")), None)
    return None


def _coding(concept: Any, systems: tuple[str, ...] | None = None) -> dict[str, Any]:
    for c in (concept or {}).get("coding", []) or []:
        if systems is None or c.get("system") in systems:
            return dict(c)
    return {}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _datetime(value: Any) -> str:
    return _text(value)


def _patient(r: Resource) -> dict[str, str]:
    names = r.get("name") or [{}]
    family, given = _text(names[0].get("family")), [_text(g) for g in names[0].get("given") or []]
    name = names[0].get("text") or (
        " ".join([*given, family]) if family.isascii() else family + "".join(given)
    )
    ids = [i for i in r.get("identifier", []) or [] if i.get("system") in RESIDENT_ID_SYSTEMS]
    phone = next((t.get("value") for t in r.get("telecom", []) or [] if t.get("system") == "phone"), "")
    address = (r.get("address") or [{}])[0]
    district = _text(address.get("district"))
    in_province = district.isdigit() and len(district) == 6
    text = (
        address.get("text")
        or " ".join(
            [*(address.get("line") or []), _text(address.get("city")), _text(address.get("state"))]
        ).strip()
    )
    return {
        "patient_id": _text(r.get("id")),
        "name": _text(name),
        "sex": _text(r.get("gender")),
        "birth_date": _text(r.get("birthDate")),
        "id_number": _text(ids[0].get("value")) if ids else "",
        "phone": _text(phone),
        "address": text,
        "county_code": district if in_province else "",
        "outside_province": "true" if (address and not in_province) else "false",
    }


def _encounter(r: Resource) -> dict[str, str]:
    klass = r.get("class") or {}
    service = r.get("serviceType") or {}
    disposition = (r.get("hospitalization") or {}).get("dischargeDisposition") or {}
    cost = _ext(r, "encounter-cost")
    period = r.get("period") or {}
    return {
        "encounter_id": _text(r.get("id")),
        "patient_id": _ref(r.get("subject")),
        "type": ENCOUNTER_CLASS.get(_text(klass.get("code")).upper(), _text(klass.get("code"))),
        # Systems without a service type (Synthea) file visits under emergency or general practice.
        "department": _department(service.get("text") or _coding(service).get("display"))
        or (("EME" if _text(klass.get("code")).upper() == "EMER" else "GEN") if r.get("type") else ""),
        "admit_ts": _datetime(period.get("start")),
        "discharge_ts": _datetime(period.get("end")),
        "outcome": _text(disposition.get("text"))
        or DISPOSITION.get(_text(_coding(disposition).get("code")), _text(_coding(disposition).get("code"))),
        "cost": _text(cost.get("value")) if isinstance(cost, dict) else "",
    }


def _department(name: Any) -> str:
    text = _text(name).strip()
    return DEPARTMENT_BY_NAME.get(text, text)


def _condition(r: Resource) -> dict[str, str]:
    icd = _coding(r.get("code"), ICD10_SYSTEMS)
    other = _coding(r.get("code"))
    primary = _ext(r, "primary-diagnosis")
    return {
        "diagnosis_id": _text(r.get("id")),
        "encounter_id": _ref(r.get("encounter")),
        "patient_id": _ref(r.get("subject")),
        "icd10": _text(icd.get("code")),
        "code_system": _text(other.get("system")),
        "code": _text(other.get("code")),
        "is_primary": "" if primary is None else str(bool(primary)).lower(),
        "onset": _datetime(r.get("onsetDateTime") or r.get("recordedDate")),
    }


def _observation(r: Resource) -> dict[str, str]:
    code = _coding(r.get("code"), (LOINC,)) or _coding(r.get("code"))
    q = r.get("valueQuantity") or {}
    return {
        "lab_id": _text(r.get("id")),
        "encounter_id": _ref(r.get("encounter")),
        "patient_id": _ref(r.get("subject")),
        "code": _text(code.get("code")),
        "name": _text(code.get("display") or (r.get("code") or {}).get("text")),
        "value": _text(q.get("value")),
        "unit": _text(q.get("code") or q.get("unit")),
        "value_text": _value_text(r),
        "ts": _datetime(r.get("effectiveDateTime") or r.get("issued")),
    }


def _value_text(r: Resource) -> str:
    """A non-numeric result as text: a coded or string value, or the components of a panel."""
    if r.get("valueCodeableConcept"):
        concept = r["valueCodeableConcept"]
        return _text(concept.get("text") or _coding(concept).get("display") or _coding(concept).get("code"))
    if r.get("valueString") is not None:
        return _text(r["valueString"])
    parts = []
    for c in r.get("component", []) or []:
        q = c.get("valueQuantity") or {}
        parts.append(
            f"{_coding(c.get('code')).get('code', '')}={q.get('value', '')} {q.get('unit', '')}".strip()
        )
    return "; ".join(parts)


def _procedure(r: Resource) -> dict[str, str]:
    code = _coding(r.get("code"))
    period = r.get("performedPeriod") or {}
    level = _ext(r, "surgery-level")
    return {
        "operation_id": _text(r.get("id")),
        "encounter_id": _ref(r.get("encounter")),
        "patient_id": _ref(r.get("subject")),
        "code": _text(code.get("code")),
        "name": _text((r.get("code") or {}).get("text") or code.get("display")),
        "or_room": _text((r.get("location") or {}).get("display")),
        "start_ts": _datetime(period.get("start") or r.get("performedDateTime")),
        "end_ts": _datetime(period.get("end")),
        "level": _text(level),
    }


def _medication_request(r: Resource) -> dict[str, str]:
    concept = r.get("medicationCodeableConcept") or {}
    atc = _coding(concept, ("http://www.whocc.no/atc",))
    local: dict[str, Any] = next(
        (c for c in concept.get("coding", []) or [] if c.get("system") != "http://www.whocc.no/atc"), {}
    )
    dose = ((r.get("dosageInstruction") or [{}])[0].get("doseAndRate") or [{}])[0].get("doseQuantity") or {}
    supply = (r.get("dispenseRequest") or {}).get("expectedSupplyDuration") or {}
    return {
        "prescription_id": _text(r.get("id")),
        "encounter_id": _ref(r.get("encounter")),
        "patient_id": _ref(r.get("subject")),
        "drug_code": _text(local.get("code")) if local is not atc else "",
        "atc": _text(atc.get("code")),
        "drug_name": _text(concept.get("text") or local.get("display")),
        "dose": _text(dose.get("value")),
        "unit": _text(dose.get("unit")),
        "days": _text(supply.get("value")),
        "ts": _datetime(r.get("authoredOn")),
    }


def _organization(r: Resource) -> dict[str, str]:
    address = (r.get("address") or [{}])[0]
    return {
        "organization_id": _text(r.get("id")),
        "name": _text(r.get("name")),
        "city": _text(address.get("city")),
        "state": _text(address.get("state")),
    }


FLATTEN = {
    "patients": _patient,
    "encounters": _encounter,
    "diagnoses": _condition,
    "labs": _observation,
    "operations": _procedure,
    "prescriptions": _medication_request,
    "organizations": _organization,
}


def _resources_of(document: Any, source: str) -> list[Resource]:
    if not isinstance(document, dict) or "resourceType" not in document:
        raise SourceFormatError(f"{source}: not a FHIR resource (no resourceType)", hint="check the file")
    if document["resourceType"] != "Bundle":
        return [document]
    out = []
    for k, entry in enumerate(document.get("entry", []) or [], start=1):
        resource = entry.get("resource")
        if isinstance(resource, dict) and "resourceType" in resource:
            if "id" not in resource and str(entry.get("fullUrl", "")).startswith("urn:uuid:"):
                resource = {**resource, "id": entry["fullUrl"].removeprefix("urn:uuid:")}
            out.extend(_resources_of(resource, f"{source}, entry {k}"))
    return out


def read_fhir(path: Path, source: str) -> dict[str, pd.DataFrame]:
    """Canonical tables (strings) from one FHIR file; resource types Provista does not use are skipped."""
    text = path.read_text(encoding="utf-8-sig")
    if not text.strip():
        raise SourceFormatError(f"{source}: the file is empty", hint="ask for the export again")
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if path.suffix.lower() == ".ndjson":
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            resource = None
            try:
                resource = _loads(line)
                table = TABLE_OF.get(resource.get("resourceType", ""))
                if table:
                    records[table].append(
                        {
                            **FLATTEN[table](resource),
                            "record_ref": _text(resource.get("id")),
                            "raw": line,
                            "fingerprint": _without_id(resource),
                            "malformed": False,
                        }
                    )
            except (json.JSONDecodeError, AttributeError, TypeError, IndexError):
                kind = path.stem if path.stem in TABLE_OF else "Unknown"
                records[TABLE_OF.get(kind, "unparsed")].append(
                    {
                        "record_ref": f"line {line_no}",
                        "raw": line,
                        "fingerprint": _without_id(resource) if isinstance(resource, dict) else line,
                        "malformed": True,
                    }
                )
    else:
        try:
            document = _loads(text)
        except json.JSONDecodeError as exc:
            raise SourceFormatError(
                f"{source}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg}); "
                "the file may be truncated",
                hint="ask for the export again, complete",
            ) from None
        for resource in _resources_of(document, source):
            table = TABLE_OF.get(resource["resourceType"])
            if table:
                records[table].append(
                    {
                        **FLATTEN[table](resource),
                        "record_ref": _text(resource.get("id")),
                        "raw": _dumps(resource),
                        "fingerprint": _without_id(resource),
                        "malformed": False,
                    }
                )
    return {table: pd.DataFrame(rows, dtype=object).fillna("") for table, rows in records.items()}


def _loads(text: str) -> Any:
    """JSON by orjson (a third of the standard library's time on a Bundle); what orjson refuses is read
    again by the standard library, which accepts a little more (NaN) and says where a broken file breaks."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text, parse_constant=NonFinite)


class NonFinite(float):
    """NaN or ±Infinity as the standard library read them: a float, but one orjson refuses to write, so
    ``_dumps`` writes it as the standard library does (orjson would write null, and a record holding NaN
    would be taken for the same record holding null)."""


def _dumps(value: Any, option: int = 0) -> str:
    """JSON by orjson; what it cannot write (read by the standard library's fallback: an integer beyond 64
    bits, NaN or Infinity) is written by the standard library, with the same key order."""
    try:
        return orjson.dumps(value, option=option).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, sort_keys=bool(option & orjson.OPT_SORT_KEYS))


# How a FHIR record's duplicate key is spelt (recorded in the warehouse's build_info: records loaded
# under another spelling would not be recognised when sent again).
DIGEST_SCHEME = "blake2b128-orjson-sorted"


def _without_id(resource: dict[str, Any]) -> str:
    """The resource as canonical JSON (keys sorted at every level) without its id: a resource sent again
    under a new id is the same record (the loader's duplicate key)."""
    return _dumps({k: v for k, v in resource.items() if k != "id"}, orjson.OPT_SORT_KEYS)
