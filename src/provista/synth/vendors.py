"""How each hospital information system exports: file format, encoding, headers, dates, units, codes.

A vendor's conventions are systematic (every glucose of a ``csv_gbk_zh`` export is in mg/dL); they are
documented here and in the README and are not listed as errors. Injected deviations from them are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from provista.synth import catalogue


@dataclass(frozen=True)
class Vendor:
    key: str
    format: str  # csv / xlsx / fhir_bundle / fhir_ndjson
    encoding: str  # gbk / utf-8 / utf-8-sig (per hospital for utf8) / json is always utf-8
    language: str  # zh / en (headers and coded values)
    datetime_format: str  # strftime; "" for native Excel datetimes or FHIR
    date_format: str
    code_style: str  # dotted (J18.9) / compact (J189) / clinical (J18.900x001)
    alt_units: tuple[str, ...]  # labs sent in their alternative unit (see catalogue.LABS)


VENDOR_SPECS: dict[str, Vendor] = {
    v.key: v
    for v in (
        Vendor("csv_gbk_zh", "csv", "gbk", "zh", "%Y/%m/%d %H:%M", "%Y%m%d", "compact", ("GLU", "CRE")),
        Vendor("csv_utf8_en", "csv", "utf-8", "en", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "dotted", ()),
        Vendor("xlsx_zh", "xlsx", "", "zh", "", "", "clinical", ("HGB",)),
        Vendor("fhir_bundle", "fhir_bundle", "utf-8", "en", "", "", "dotted", ()),
        Vendor("fhir_ndjson", "fhir_ndjson", "utf-8", "en", "", "", "dotted", ()),
        Vendor("cdc_nndrs", "csv", "gbk", "zh", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "dotted", ()),
    )
}
# Bed census and equipment logs come from the statistics reporting system, not the EHR: FHIR hospitals
# send them as UTF-8 CSV.
REPORTING_VENDOR = {"fhir_bundle": "csv_utf8_en", "fhir_ndjson": "csv_utf8_en"}

# Canonical column -> (Chinese header, English header), per table, in file order.
HEADERS: dict[str, dict[str, tuple[str, str]]] = {
    "patients": {
        "patient_id": ("患者编号", "patient_id"),
        "name": ("姓名", "name"),
        "sex": ("性别", "sex"),
        "birth_date": ("出生日期", "birth_date"),
        "id_number": ("身份证号", "id_number"),
        "phone": ("联系电话", "phone"),
        "address": ("现住址", "address"),
        "county_code": ("现住址区划代码", "county_code"),
    },
    "encounters": {
        "encounter_id": ("就诊流水号", "encounter_id"),
        "patient_id": ("患者编号", "patient_id"),
        "type": ("就诊类型", "type"),
        "department": ("科室", "department"),
        "admit_ts": ("就诊/入院时间", "admit_ts"),
        "discharge_ts": ("出院时间", "discharge_ts"),
        "outcome": ("转归", "outcome"),
        "cost": ("总费用(元)", "cost_cny"),
    },
    "diagnoses": {
        "diagnosis_id": ("诊断编号", "diagnosis_id"),
        "encounter_id": ("就诊流水号", "encounter_id"),
        "icd10": ("诊断编码", "icd10"),
        "is_primary": ("主诊断标志", "is_primary"),
    },
    "operations": {
        "operation_id": ("手术编号", "operation_id"),
        "encounter_id": ("就诊流水号", "encounter_id"),
        "code": ("手术操作编码", "procedure_code"),
        "name": ("手术名称", "procedure_name"),
        "or_room": ("手术间", "or_room"),
        "start_ts": ("手术开始时间", "start_ts"),
        "end_ts": ("手术结束时间", "end_ts"),
        "level": ("手术级别", "surgery_level"),
    },
    "labs": {
        "lab_id": ("检验编号", "lab_id"),
        "encounter_id": ("就诊流水号", "encounter_id"),
        "code": ("检验项目编码", "loinc"),
        "name": ("检验项目名称", "test_name"),
        "value": ("结果", "value"),
        "unit": ("单位", "unit"),
        "ts": ("报告时间", "reported_ts"),
    },
    "prescriptions": {
        "prescription_id": ("处方编号", "prescription_id"),
        "encounter_id": ("就诊流水号", "encounter_id"),
        "drug_code": ("药品编码", "drug_code"),
        "atc": ("ATC编码", "atc"),
        "drug_name": ("药品名称", "drug_name"),
        "dose": ("单次剂量", "dose"),
        "unit": ("剂量单位", "dose_unit"),
        "days": ("用药天数", "days"),
        "ts": ("开方时间", "prescribed_ts"),
    },
    "bed_census": {
        "date": ("日期", "date"),
        "department": ("科室", "department"),
        "occupied_beds": ("实际占用床数", "occupied_beds"),
        "open_beds": ("实际开放床数", "open_beds"),
    },
    "equipment_use": {
        "device_id": ("设备编号", "device_id"),
        "device_type": ("设备类型", "device_type"),
        "date": ("日期", "date"),
        "hours_used": ("使用时长(小时)", "hours_used"),
        "hours_available": ("可用时长(小时)", "hours_available"),
        "exams": ("检查人次", "exams"),
        "positives": ("阳性人次", "positives"),
    },
    "case_reports": {
        "report_id": ("卡片编号", "report_id"),
        "name": ("患者姓名", "name"),
        "id_number": ("有效证件号", "id_number"),
        "sex": ("性别", "sex"),
        "birth_date": ("出生日期", "birth_date"),
        "age": ("年龄", "age"),
        "phone": ("联系电话", "phone"),
        "occupation": ("人群分类", "occupation"),
        "address_code": ("现住地址国标", "address_code"),
        "address": ("现住详细地址", "address"),
        "case_class": ("病例分类", "case_class"),
        "disease": ("疾病名称", "disease"),
        "onset_date": ("发病日期", "onset_date"),
        "diagnosis_ts": ("诊断时间", "diagnosis_ts"),
        "report_ts": ("报告卡录入时间", "report_ts"),
        "reporting_unit": ("报告单位", "reporting_unit"),
        "reporting_unit_id": ("报告单位编码", "reporting_unit_id"),
    },
}
# Columns that are dates (no time of day).
DATE_COLUMNS = {"birth_date", "date", "onset_date"}
# The key of each table: the FHIR resource id, and what a duplicate repeats.
KEYS = {
    "patients": "patient_id",
    "encounters": "encounter_id",
    "diagnoses": "diagnosis_id",
    "operations": "operation_id",
    "labs": "lab_id",
    "prescriptions": "prescription_id",
    "case_reports": "report_id",
}

SEX = {"zh": {"M": "男", "F": "女"}, "en": {"M": "M", "F": "F"}}
ENCOUNTER_TYPE = {"zh": {"outpatient": "门诊", "emergency": "急诊", "inpatient": "住院"}}
OUTCOME = {"zh": {"cured": "治愈", "improved": "好转", "not_cured": "未愈", "died": "死亡", "other": "其他"}}
SURGERY_LEVEL_ZH = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
YES_NO = {"zh": {True: "是", False: "否"}, "en": {True: "Y", False: "N"}}


def spell_icd10(code: str, style: str) -> str:
    """Write a dotted ICD-10 code the way a vendor does: J18.9, J189 or the clinical J18.900x001."""
    if style == "compact":
        return code.replace(".", "")
    if style == "clinical":
        return f"{code}.x00x001" if "." not in code else code + "0" * (7 - len(code)) + "x001"
    if style == "lower":
        return code.replace(".", "").lower()
    return code


def convert_unit(lab_key: str, values: np.ndarray) -> tuple[np.ndarray, str]:
    """Values of a lab in its alternative unit, and that unit."""
    lab = catalogue.LABS[lab_key]
    decimals = (
        1 if lab.alt_unit in ("g/dL", "[degF]") else 2 if lab.alt_unit == "mg/dL" and lab_key == "CRE" else 0
    )
    return np.round(values * lab.alt_factor + lab.alt_offset, decimals), lab.alt_unit


def style(table: str, frame: pd.DataFrame, vendor: Vendor) -> pd.DataFrame:
    """Canonical records → the values a vendor writes (codes, units, coded values); dates stay typed."""
    out = frame.copy()
    lang = vendor.language
    if "sex" in out:
        out["sex"] = out["sex"].map(SEX[lang])
    if table == "encounters":
        depts = catalogue.DEPARTMENTS
        out["department"] = out["department"].map({k: v[0 if lang == "zh" else 1] for k, v in depts.items()})
        if lang == "zh":
            out["type"] = out["type"].map(ENCOUNTER_TYPE["zh"])
            out["outcome"] = out["outcome"].map(OUTCOME["zh"])
    if table == "bed_census":
        depts = catalogue.DEPARTMENTS
        out["department"] = out["department"].map({k: v[0 if lang == "zh" else 1] for k, v in depts.items()})
    if table == "diagnoses":
        out["_icd10"] = out["icd10"]
        out["icd10"] = [spell_icd10(c, vendor.code_style) for c in out["icd10"]]
        out["is_primary"] = (
            out["is_primary"].map(YES_NO[lang]) if vendor.format in ("csv", "xlsx") else out["is_primary"]
        )
    if table == "operations" and lang == "zh":
        out["level"] = out["level"].map(SURGERY_LEVEL_ZH)
    if table == "operations" and lang == "en":
        out["name"] = [catalogue.OPERATIONS[c][1] for c in out["code"]]
    if table == "labs":
        if lang == "en":
            out["name"] = out["_lab"].map({k: v.name_en for k, v in catalogue.LABS.items()})
        for lab_key in vendor.alt_units:
            sel = (out["_lab"] == lab_key).to_numpy()
            if sel.any():
                values, unit = convert_unit(lab_key, out.loc[sel, "value"].to_numpy())
                out.loc[sel, "value"] = values
                out.loc[sel, "unit"] = unit
    if table == "prescriptions" and lang == "en":
        out["drug_name"] = out["drug_name"].map({d.name_zh: d.name_en for d in catalogue.DRUGS.values()})
    return out
