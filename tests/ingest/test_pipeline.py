"""The ingestion pipeline on the tiny synthetic province: scored against its truth, nothing lost, no
identities in the warehouse, incremental and atomic loads, clear errors for bad files."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import stat
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from provista.engine import DuckDBEngine
from provista.errors import ProvistaError
from provista.ingest import tabular
from provista.ingest.fhir import read_fhir
from provista.ingest.loader import Spool, SpoolError
from provista.ingest.mapping import SourceFormatError
from provista.ingest.pipeline import build, ingest, quarantine_store
from provista.ingest.tabular import detect_encoding, read_tabular
from provista.linkage.encode import TOKEN_SCHEME
from provista.privacy.pseudonym import key_check
from provista.quality.score import score
from provista.warehouse.schema import FACTS
from tests.conftest import KEY


@pytest.fixture
def engine(warehouse: Path) -> Any:
    eng = DuckDBEngine(warehouse, read_only=True)
    yield eng
    eng.close()


def test_cleaning_meets_the_goal_on_every_error_kind(tiny: Path, engine: DuckDBEngine):
    table, overall = score(tiny / "truth", engine)
    assert len(table) >= 14
    low = table[table["rate"] < 0.99]
    assert low.empty, low.to_string()
    assert overall["precision"] >= 0.99
    assert overall["clean_records_quarantined"] == 0


def test_every_record_is_loaded_merged_or_quarantined(engine: DuckDBEngine, manifest: dict[str, Any]):
    log = engine.frame("SELECT * FROM ingest_log")
    assert (log["rows_in"] == log["loaded"] + log["duplicates"] + log["quarantined"]).all()
    rows = {f["path"]: f["rows"] for f in manifest["files"]}
    assert dict(zip(log["source_file"], log["rows_in"], strict=True)) == {
        p: rows[p] for p in log["source_file"]
    }
    # Files not in the log are exact copies (same bytes) of one that is, e.g. header-only exports.
    assert len(log) + len(set(rows) - set(log["source_file"])) == len(rows)
    quarantined = engine.scalar("SELECT count(*) FROM quarantine")
    assert quarantined == log["quarantined"].sum()


def test_quarantined_records_are_kept_verbatim_outside_the_warehouse(
    tiny: Path, warehouse: Path, engine: DuckDBEngine
):
    store = pq.read_table(quarantine_store(warehouse)).to_pandas()
    assert len(store) == engine.scalar("SELECT count(*) FROM quarantine")
    assert stat.S_IMODE(quarantine_store(warehouse).stat().st_mode) == 0o600  # identifiers: owner only
    sample = store[store["source_file"].str.endswith("patients.csv")].head(20)
    for r in sample.to_dict("records"):
        path = tiny / r["source_file"]
        text = path.read_text(encoding=detect_encoding(path))
        assert text.splitlines()[int(r["record_ref"])] == r["raw"]


def _identities(tiny: Path, manifest: dict[str, Any]) -> set[str]:
    values: set[str] = set()
    for entry in manifest["files"]:
        if entry["table"] == "patients" and entry["format"].startswith("fhir"):
            for line in (
                (tiny / entry["path"]).read_text(encoding="utf-8").replace("},{", "}\n{").splitlines()
            ):
                values |= set(re.findall(r'"value":"([^"]{2,})"', line)) | set(
                    re.findall(r'"text":"([^"]{2,})"', line)
                )
        if entry["table"] == "patients" and entry["format"] == "csv":
            _mapping, _, batches = read_tabular(tiny / entry["path"], entry["path"])
            for batch in batches:
                for col in ("name", "id_number", "phone", "address", "patient_id"):
                    values |= {v for v in batch[col] if len(v) >= 2}
    return values


def test_no_name_id_number_phone_or_address_reaches_the_warehouse(
    tiny: Path, engine: DuckDBEngine, manifest: dict[str, Any]
):
    secrets = _identities(tiny, manifest)
    assert len(secrets) > 1000
    probe = pd.DataFrame({"v": sorted(secrets)})
    engine.con.register("secrets", probe)
    columns = engine.frame(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE data_type = 'VARCHAR' AND table_name <> 'secrets'"
    )
    for t, c in zip(columns["table_name"], columns["column_name"], strict=True):
        hits = engine.scalar(f'SELECT count(*) FROM "{t}" WHERE "{c}" IN (SELECT v FROM secrets)')
        assert hits == 0, (t, c)


def test_the_same_person_gets_the_same_pseudonym_everywhere(engine: DuckDBEngine):
    linked = engine.scalar(
        "SELECT count(*) FROM (SELECT person_key FROM patient_record WHERE id_kind <> 'none' "
        "GROUP BY person_key HAVING count(DISTINCT hospital_id) > 1)"
    )
    assert linked > 50
    assert engine.scalar("SELECT count(*) FROM encounter WHERE person_key IS NULL") < 0.02 * engine.scalar(
        "SELECT count(*) FROM encounter"
    )


def test_loading_the_same_file_twice_changes_nothing(tiny: Path, warehouse: Path, tmp_path: Path):
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    before = {t: DuckDBEngine(copy, read_only=True).scalar(f"SELECT count(*) FROM {t}") for t in FACTS}
    digest = hashlib.sha256(copy.read_bytes()).hexdigest()
    summary = ingest([tiny / "cdc/case_reports_2024.csv"], copy, KEY, root=tiny)
    assert summary.skipped == ["cdc/case_reports_2024.csv"] and summary.files == 0
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest  # not even a new version written
    eng = DuckDBEngine(copy, read_only=True)
    assert {t: eng.scalar(f"SELECT count(*) FROM {t}") for t in FACTS} == before


def test_a_new_file_is_added_incrementally(tiny: Path, warehouse: Path, tmp_path: Path):
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    new = tmp_path / "hospitals/HNEW0001/patients.csv"
    new.parent.mkdir(parents=True)
    new.write_bytes(
        "患者编号,姓名,性别,出生日期,身份证号,联系电话,现住址,现住址区划代码\n"
        "A1,王伟,男,19800101,11010519491231002X,13800000000,浙江省杭州市上城区人民路1号,330102\n"
        "A2,李娜,女,1990年3月5日,,13900000000,浙江省杭州市上城区人民路2号,330185\n"
        "A3,张三,男,18500101,,13700000000,某地,330102\n".encode("gbk")
    )
    summary = ingest([new], copy, KEY, root=tmp_path)
    assert (summary.files, summary.loaded, summary.quarantined) == (1, 2, 1)
    eng = DuckDBEngine(copy, read_only=True)
    rows = eng.frame("SELECT * FROM patient_record WHERE hospital_id = 'HNEW0001' ORDER BY record_ref")
    assert list(rows["county_code"]) == ["330102", "330112"]  # 临安市's retired code, repaired
    assert list(rows["birth_year_month"]) == ["1980-01", "1990-03"]
    assert (
        eng.scalar("SELECT reason_code FROM quarantine WHERE source_file = 'hospitals/HNEW0001/patients.csv'")
        == "AGE_PLAUSIBLE"
    )
    from provista.quality.report import quality_report

    assert len(quality_report(eng).trend) == 2  # the build, then this ingest


def test_a_load_under_another_key_or_an_older_token_or_digest_scheme_is_refused(
    tiny: Path, warehouse: Path, tmp_path: Path
):
    """Pseudonyms and linkage tokens made under another key (or scheme) match nothing already loaded:
    the same people would silently split, so `ingest` refuses and says to rebuild; nothing is swapped in."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    new = tiny / "cdc/case_reports_2024.csv"
    stamp = copy.stat().st_mtime_ns
    with pytest.raises(ProvistaError, match="another pseudonym key") as refused:
        ingest([new], copy, bytes(32), root=tiny)
    assert "rotation" in (refused.value.hint or "")
    assert copy.stat().st_mtime_ns == stamp
    # A warehouse of an earlier version: person records but no record of how their tokens were made.
    with duckdb.connect(str(copy)) as con:
        con.execute("DELETE FROM build_info")
    with pytest.raises(ProvistaError, match="earlier Provista") as refused:
        ingest([new], copy, KEY, root=tiny)
    assert "provista build" in (refused.value.hint or "")
    with duckdb.connect(str(copy)) as con:  # older still: no build_info table at all
        con.execute("DROP TABLE build_info")
    with pytest.raises(ProvistaError, match="earlier Provista"):
        ingest([new], copy, KEY, root=tiny)
    with duckdb.connect(str(copy)) as con:
        con.execute("CREATE TABLE build_info (name VARCHAR, value VARCHAR)")
        con.execute(
            "INSERT INTO build_info VALUES ('linkage_tokens', 'blake2b'), ('key_check', ?)", [key_check(KEY)]
        )
    with pytest.raises(ProvistaError, match="scheme blake2b"):
        ingest([new], copy, KEY, root=tiny)
    # Today's tokens, but records keyed for duplicates in an earlier spelling: a re-sent record would
    # not be known.
    with duckdb.connect(str(copy)) as con:
        con.execute("UPDATE build_info SET value = ? WHERE name = 'linkage_tokens'", [TOKEN_SCHEME])
    stamp = copy.stat().st_mtime_ns
    with pytest.raises(ProvistaError, match="record digests of scheme None"):
        ingest([new], copy, KEY, root=tiny)
    assert copy.stat().st_mtime_ns == stamp


def test_a_failed_build_leaves_the_current_warehouse_untouched(
    tiny: Path, warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    digest = hashlib.sha256(copy.read_bytes()).hexdigest()
    reader = DuckDBEngine(copy, read_only=True)
    from provista.ingest import pipeline

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "link_persons", boom)  # late in the build, after every file loaded
    sources = tmp_path / "sources"  # the registry and one hospital are enough to get that far
    shutil.copytree(tiny / "registry", sources / "registry")
    first = min(p for p in (tiny / "hospitals").iterdir() if p.is_dir())
    shutil.copytree(first, sources / "hospitals" / first.name)
    with pytest.raises(RuntimeError, match="disk full"):
        build(sources, copy, KEY)
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest
    assert not list(tmp_path.glob("*.building*"))
    assert reader.scalar("SELECT count(*) FROM encounter") > 0  # a reader still sees its version
    reader.close()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("binary.csv", bytes(range(256)) * 4, "binary"),
        (
            "missing.csv",
            "患者编号,姓名,性别,出生日期,身份证号,联系电话,现住址\nA,B,男,1,2,3,4\n".encode("gbk"),
            "lacks the column(s) '现住址区划代码'",
        ),
        ("latin.csv", "患者编号,姓名\n".encode("utf-16"), "binary"),
        (
            "cp1252.csv",
            "name,caf\xe9,\xae\n".encode("cp1252") + bytes([0x81, 0x8D, 0x8F, 0x90]) * 3,
            "neither UTF-8 nor GBK",
        ),
    ],
)
def test_bad_tabular_files_get_clear_errors(tmp_path: Path, name: str, content: bytes, message: str):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceFormatError) as err:
        _mapping, _, batches = read_tabular(path, name)
        list(batches)
    assert name in str(err.value) and message in str(err.value)


def test_truncated_fhir_bundle_names_file_line_and_column(
    tiny: Path, manifest: dict[str, Any], tmp_path: Path
):
    bundle = next(f for f in manifest["files"] if f["format"] == "fhir_bundle")
    text = (tiny / bundle["path"]).read_text(encoding="utf-8")
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(SourceFormatError, match=r"cut.json, line 1, column \d+: .*truncated"):
        read_fhir(cut, "cut.json")


def test_real_fhir_examples_and_synthea_bundles_are_read(shared: Path):
    folders = [shared / "data/fhir/synthea", shared / "data/fhir/hl7-r4-examples"]
    counts: dict[str, int] = {}
    for path in sorted(p for folder in folders for p in folder.glob("*.json")):
        for table, frame in read_fhir(path, path.name).items():
            counts[table] = counts.get(table, 0) + len(frame)
    assert counts["patients"] >= 20 and counts["encounters"] >= 150 and counts["labs"] >= 975
    synthea = read_fhir(next((shared / "data/fhir/synthea").glob("Alberto*")), "x")["patients"]
    assert synthea["outside_province"].tolist() == ["true"]  # a Massachusetts address: valid, outside
    assert json.loads(synthea["raw"].iloc[0])["resourceType"] == "Patient"


def test_dicom_vcf_and_real_fhir_sources_load_without_identities(shared: Path, tmp_path: Path):
    folder = tmp_path / "mixed"
    hospital = folder / "hospitals/HX"
    hospital.mkdir(parents=True)
    for path in (shared / "data/dicom").glob("*.dcm"):
        shutil.copy(path, hospital)
    for path in (shared / "data/vcf").glob("*.vcf"):
        shutil.copy(path, folder)
    synthea = sorted((shared / "data/fhir/synthea").glob("*.json"))[:3]
    for path in synthea:
        shutil.copy(path, hospital)
    (hospital / "broken.dcm").write_bytes(b"not dicom at all")
    summary = build(folder, tmp_path / "w.duckdb", KEY)
    assert len(summary.failed) == 1 and "broken.dcm" in summary.failed[0]
    assert summary.quarantined == 0  # out-of-province patients and SNOMED-coded conditions are valid
    eng = DuckDBEngine(tmp_path / "w.duckdb", read_only=True)
    assert sorted(eng.frame("SELECT modality FROM imaging_study")["modality"]) == ["CT", "MR", "OT"]
    assert eng.scalar("SELECT count(*) FROM variant") == 6 * 3 + 5 * 3 + 37 * 7
    assert eng.scalar("SELECT count(*) FROM patient_record WHERE outside_province") == 3
    names = " ".join(str(v) for v in eng.frame("SELECT * FROM imaging_study").to_numpy().ravel())
    assert "王" not in names and "Wang" not in names and "CompressedSamples" not in names
    eng.close()


def test_quality_report_per_hospital_rule_and_load(engine: DuckDBEngine, tmp_path: Path):
    from provista.quality.report import quality_report, write_html

    report = quality_report(engine)
    dq = engine.frame("SELECT * FROM dq_result")
    one = report.by_hospital.iloc[0]
    rows = dq[(dq["hospital_id"] == one["hospital_id"]) & (dq["kind"] == "plausibility")]
    if len(rows):  # the worst hospital's plausibility rate, by hand
        expected = 1 - rows["failed"].sum() / rows["checked"].sum()
        assert one["plausibility"] == pytest.approx(expected) or pd.isna(one["plausibility"])
    worst = report.worst_rules.iloc[0]
    assert worst["rate"] == pytest.approx(
        dq[dq["rule_id"] == worst["rule_id"]]["failed"].sum()
        / dq[dq["rule_id"] == worst["rule_id"]]["checked"].sum()
    )
    assert set(report.worst_rules["status"]) <= {"pass", "fail"}
    # Thresholds hold per hospital: a rule fails exactly when some hospital's failure rate exceeds it.
    per = dq.groupby(["rule_id", "hospital_id"], dropna=False)[["failed", "checked"]].sum()
    rates = (per["failed"] / per["checked"]).groupby(level=0).max()
    for r in report.worst_rules.to_dict("records"):
        assert (r["status"] == "fail") == (rates[r["rule_id"]] > r["threshold"])
    assert report.trend["checks"].sum() == dq["checked"].sum()
    page = tmp_path / "q.html"
    write_html(report, page)
    text = page.read_text(encoding="utf-8")
    assert "数据质量报告" in text and "http" not in text.replace(
        "http-equiv", ""
    )  # nothing loads from outside


def test_marts_agree_with_hand_computation(engine: DuckDBEngine):
    census = engine.frame("SELECT * FROM bed_census")
    row = engine.frame(
        "SELECT * FROM mart_bed_occupancy_monthly ORDER BY occupied_bed_days DESC LIMIT 1"
    ).iloc[0]
    month = census[
        (census["hospital_id"] == row["hospital_id"])
        & (census["department"] == row["department"])
        & (pd.to_datetime(census["date"]).dt.to_period("M") == pd.Timestamp(row["month"]).to_period("M"))
    ]
    assert row["occupied_bed_days"] == month["occupied_beds"].sum()
    assert row["occupancy_rate"] == pytest.approx(month["occupied_beds"].sum() / month["open_beds"].sum())
    enc = engine.frame(
        "SELECT * FROM encounter WHERE type = 'inpatient' AND discharge_ts IS NOT NULL "
        "AND admit_ts IS NOT NULL"
    )
    enc["month"] = enc["discharge_ts"].dt.to_period("M")
    enc["bed_days"] = (enc["discharge_ts"].dt.normalize() - enc["admit_ts"].dt.normalize()).dt.days.clip(
        lower=1
    )
    mart = engine.frame("SELECT * FROM mart_discharges_monthly")
    for r in mart.head(20).to_dict("records"):
        same = enc[
            (enc["hospital_id"] == r["hospital_id"])
            & (enc["month"] == pd.Timestamp(r["month"]).to_period("M"))
        ]
        assert r["discharges"] == len(same)
        assert r["average_length_of_stay"] == pytest.approx(same["bed_days"].mean())
        assert r["deaths"] == (same["outcome"] == "died").sum()
    weekly = engine.scalar("SELECT sum(cases) FROM mart_cases_weekly")
    assert weekly == engine.scalar("SELECT count(*) FROM case_report WHERE onset_date IS NOT NULL")


def test_excel_cover_sheets_are_passed_over_and_several_data_sheets_refused(tmp_path: Path):
    import xlsxwriter

    def workbook(name: str, sheets: dict[str, list[list[str]]]) -> Path:
        path = tmp_path / name
        book = xlsxwriter.Workbook(str(path))
        for title, rows in sheets.items():
            sheet = book.add_worksheet(title)
            for r, row in enumerate(rows):
                sheet.write_row(r, 0, row)
        book.close()
        return path

    header = ["日期", "科室", "实际占用床数", "实际开放床数"]
    good = workbook(
        "cover.xlsx", {"说明": [["导出说明"]], "床位": [header, ["2025-01-01", "内科", "5", "6"]]}
    )
    mapping, _, batches = read_tabular(good, "cover.xlsx")
    assert mapping.table == "bed_census" and len(next(batches)) == 1
    two = workbook(
        "two.xlsx",
        {"a": [header, ["2025-01-01", "内科", "5", "6"]], "b": [header, ["2025-01-02", "内科", "5", "6"]]},
    )
    with pytest.raises(SourceFormatError, match=r"two\.xlsx: sheets a, b all hold data"):
        read_tabular(two, "two.xlsx")


def test_excel_cells_become_text_and_each_record_keeps_its_cells_as_json(tmp_path: Path):
    """Dates, numbers and booleans as the sheet shows them; a record pasted into one cell is malformed;
    ``raw`` is the record's cells as a JSON list (quotes and backslashes escaped)."""
    import datetime as dt

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["患者编号", "姓名", "性别", "出生日期", "身份证号", "联系电话", "现住址", "现住址区划代码"])
    sheet.append(
        ["A1", '王"伟\\', "男", dt.date(1980, 1, 1), "11010519491231002X", 13800000000, " 人民路1号 ", 330102]
    )
    sheet.append(["A2,李娜,女,1990-01-01", None, None, None, None, None, None, None])
    sheet.append(["A3", "张三", 1, dt.datetime(1985, 5, 6, 7, 8, 9), None, 1.5, "x", True])
    book.save(tmp_path / "p.xlsx")
    _, _, batches = read_tabular(tmp_path / "p.xlsx", "p.xlsx")
    frame = next(batches)
    assert frame["birth_date"].tolist() == ["1980-01-01", "", "1985-05-06 07:08:09"]
    assert frame["phone"].tolist() == ["13800000000", "", "1.5"]
    assert frame["county_code"].tolist() == ["330102", "", "True"]
    assert frame["address"].tolist() == ["人民路1号", "", "x"]  # stripped; raw keeps the spaces
    assert frame["patient_id"].tolist() == ["A1", "A2,李娜,女,1990-01-01", "A3"]
    assert frame["malformed"].tolist() == [False, True, False]
    assert frame["record_ref"].tolist() == ["1", "2", "3"]
    assert json.loads(frame.loc[0, "raw"])[1:3] == ['王"伟\\', "男"]
    assert json.loads(frame.loc[0, "raw"])[6] == " 人民路1号 "
    assert json.loads(frame.loc[1, "raw"]) == ["A2,李娜,女,1990-01-01"]


def test_a_re_sent_export_only_adds_its_new_records(
    tiny: Path, warehouse: Path, manifest: dict[str, Any], tmp_path: Path
):
    entry = next(
        f
        for f in manifest["files"]
        if f["table"] == "encounters" and f["encoding"] == "utf-8" and f["rows"] > 20
    )
    original = (tiny / entry["path"]).read_text(encoding="utf-8")
    lines = original.splitlines()
    fields = next(iter(__import__("csv").reader([lines[1]])))
    fields[0] = "E9999NEW0001"
    resent = tmp_path / entry["path"].replace("encounters.csv", "encounters_resent.csv")
    resent.parent.mkdir(parents=True)
    resent.write_text(original + ",".join(f'"{v}"' if v else "" for v in fields) + "\n", encoding="utf-8")
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    summary = ingest([resent], copy, KEY, root=tmp_path)
    assert summary.loaded == 1 and summary.quarantined == 0
    assert summary.duplicates == entry["rows"]


def test_fhir_duplicate_keys_tell_nan_and_infinity_from_null_but_not_key_order(tmp_path: Path):
    """NaN and ±Infinity (read by the standard library's fallback) are not null: a resource holding one is
    not a re-send of the same resource holding null; the order of keys does not matter."""
    base = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "T", "coding": [{"code": "8310-5"}]},
    }
    values = [float("nan"), None, float("inf"), float("-inf")]
    lines = [
        json.dumps({**base, "id": f"o{i}", "valueQuantity": {"value": v, "unit": "Cel"}})
        for i, v in enumerate(values)
    ]
    lines.append(
        json.dumps(
            {"valueQuantity": {"unit": "Cel", "value": None}, "id": "o9", **dict(reversed(base.items()))}
        )
    )
    path = tmp_path / "Observation.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    keys = read_fhir(path, path.name)["labs"]["fingerprint"].tolist()
    assert len(set(keys[:4])) == 4
    assert keys[4] == keys[1]


# Folders named like Hive partitions or glob patterns must not change what the spool files hold.
@pytest.mark.parametrize("folder_name", ["year=2025", "exports [a]"])
def test_ndjson_lines_that_are_not_resources_are_quarantined_and_re_sent_resources_merged(
    tmp_path: Path, folder_name: str
):
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "name": [{"family": "Li", "given": ["Na"]}],
        "gender": "female",
        "birthDate": "1980-02-03",
        "address": [{"district": "330102"}],
    }
    lines = [
        json.dumps(patient),
        json.dumps([1, 2]),  # JSON, but not a resource
        "{not json",
        json.dumps({**patient, "id": "p1-again"}),  # the same record sent again under a new id
        json.dumps({"resourceType": "Patient", "id": "bad", "name": 5}),  # a resource that cannot be read
        json.dumps({"resourceType": "Patient", "id": "bad-again", "name": 5}),  # ... sent again
        # ... and again, its keys (at every level) in another order
        json.dumps(
            dict(
                reversed(
                    {**patient, "id": "p1-reordered", "name": [{"given": ["Na"], "family": "Li"}]}.items()
                )
            )
        ),
    ]
    root = tmp_path / folder_name
    folder = root / "sources/hospitals/H1"
    folder.mkdir(parents=True)
    (folder / "Patient.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = build(root / "sources", root / "w.duckdb", KEY)
    assert summary.failed == []
    assert (summary.rows_in, summary.loaded, summary.duplicates, summary.quarantined) == (7, 1, 3, 3)
    eng = DuckDBEngine(root / "w.duckdb", read_only=True)
    held = eng.frame("SELECT record_ref, reason_code FROM quarantine ORDER BY record_ref")
    assert held.to_dict("records") == [
        {"record_ref": "line 2", "reason_code": "STRUCTURE"},
        {"record_ref": "line 3", "reason_code": "STRUCTURE"},
        {"record_ref": "line 5", "reason_code": "STRUCTURE"},
    ]
    assert eng.frame("SELECT record_ref, duplicate_of FROM merged ORDER BY 1").to_dict("records") == [
        {"record_ref": "line 6", "duplicate_of": "hospitals/H1/Patient.ndjson#line 5"},
        {"record_ref": "p1-again", "duplicate_of": "hospitals/H1/Patient.ndjson#p1"},
        {"record_ref": "p1-reordered", "duplicate_of": "hospitals/H1/Patient.ndjson#p1"},
    ]
    assert "year" not in eng.frame("SELECT * FROM patient_record LIMIT 0").columns
    eng.close()
    assert not list(root.glob(".provista-spool-*"))  # the spool is removed


def test_arrow_csv_reader_reads_every_line_as_the_csv_module_does(tmp_path: Path):
    header = "患者编号,姓名,性别,出生日期,身份证号,联系电话,现住址,现住址区划代码"
    lines = [
        "P1,张三,男,1980-01-02,110101198001020016,13800000000,某路1号,330102",
        '  P2 , 李四 ,女,1990-03-04,,,"杭州, 西湖",330106',  # padded fields, a quoted comma
        "P3,王五,男",  # cut short: malformed, its fields kept in place
        "P4,赵六,女,2000-01-01,,,,330102,extra",  # one field too many: malformed
        '"P5","","1","","","","",""',  # quoted empty fields
        'P6,a""b,男,1999-09-09,,,,330102',  # quotes inside an unquoted field are characters
        "P7,\u3000周七\u3000,2,1970-07-07,,,,330102",  # ideographic spaces around the name
    ]
    path = tmp_path / "patients.csv"
    path.write_bytes((header + "\n" + "\n".join(lines) + "\n").encode("gbk", errors="strict"))
    mapping, _, batches = read_tabular(path, "patients.csv")
    frame = pd.concat(list(batches), ignore_index=True)
    assert frame["record_ref"].tolist() == ["1", "2", "3", "4", "5", "6", "7"]
    assert frame["malformed"].tolist() == [False, False, True, True, False, False, False]
    assert frame["raw"].tolist() == lines
    refs = list(range(1, len(lines) + 1))
    arrow = tabular._arrow_frame(mapping, header.split(","), lines, refs)
    assert arrow is not None  # no line left to the csv module
    pd.testing.assert_frame_equal(frame, arrow)
    by_csv_module = tabular._rows_frame(mapping, header.split(","), list(csv.reader(lines)), lines, refs)
    pd.testing.assert_frame_equal(arrow, by_csv_module)  # field by field, as the csv module parses
    odd = tabular._arrow_frame(mapping, header.split(","), [*lines, 'P8,"open'], [*refs, 8])
    assert odd is None  # an odd number of quotes: the csv module judges the batch
    assert frame["name"].tolist()[:2] == ["张三", "李四"] and frame["name"].iloc[6] == "周七"


def test_a_spool_that_cannot_write_stops_the_build_and_keeps_its_rows(tmp_path: Path):
    spool = Spool(tmp_path, rows=2)
    spool.append("merged", pd.DataFrame({"record_ref": ["1"]}))
    with pytest.raises(SpoolError, match="could not write merged rows"):
        spool.append("merged", pd.DataFrame({"record_ref": [2]}))  # a column of text and numbers
    assert len(spool.frames["merged"]) == 2 and spool.files == []  # nothing dropped on the way
    assert issubclass(SpoolError, RuntimeError) and not issubclass(SpoolError, ValueError | TypeError)
