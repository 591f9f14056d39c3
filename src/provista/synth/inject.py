"""Injected data errors: what goes wrong in real exports, applied at a known rate and recorded as truth.

Each fault has a kind, the field it touches (canonical column name, empty for the whole record) and the
action a correct pipeline takes: ``quarantine`` (cannot be repaired), ``merge`` (a duplicate, or the same
person as another record) or ``normalise`` (repairable with certainty). Every injected record gets one
fault; the positions returned are those in the frame as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from provista.synth import catalogue
from provista.synth.people import ID_CHECK, to_old_id15
from provista.synth.vendors import KEYS, Vendor, convert_unit, spell_icd10

ACTIONS: dict[str, str] = {
    "duplicate_record": "merge",
    "identity_name_typo": "merge",
    "identity_phone_changed": "merge",
    "identity_old_id15": "normalise",
    "invalid_id_checksum": "quarantine",
    "missing_required": "quarantine",
    "impossible_value": "quarantine",
    "unknown_icd10": "quarantine",
    "code_spelling": "normalise",
    "unit_variant": "normalise",
    "unknown_region_code": "quarantine",
    "outdated_region_code": "normalise",
    "mojibake": "quarantine",
    "malformed_row": "quarantine",
}
# Codes that look like ICD-10 but are not in it (checked against the WHO 2019 release by the tests).
UNKNOWN_ICD10 = ("K99.9", "J19.9", "U99.9", "Z99.99", "E15.9", "B99.8")
CODE_STYLES = ("dotted", "compact", "clinical", "lower")


@dataclass
class Context:
    vendor: Vendor
    outdated_codes: dict[str, str]  # old code -> current code
    province_code: str
    rng: np.random.Generator
    old_by_current: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for old, current in sorted(self.outdated_codes.items()):
            self.old_by_current.setdefault(current, []).append(old)


Mask = Callable[[pd.DataFrame, Context], np.ndarray]
Apply = Callable[[pd.DataFrame, np.ndarray, Context], None]


@dataclass(frozen=True)
class Fault:
    kind: str
    field: str
    weight: float
    apply: Apply
    eligible: Mask | None = None
    formats: tuple[str, ...] = ("csv", "xlsx", "fhir_bundle", "fhir_ndjson")


def mojibake(text: str) -> str:
    """UTF-8 bytes read as GBK, as when an export's encoding is guessed wrong ('?' for lost bytes)."""
    garbled = text.encode("utf-8").decode("gbk", errors="replace").replace("\ufffd", "?")
    return garbled if garbled != text else "锟斤拷" + text


def _notnull(col: str) -> Mask:
    return lambda f, c: f[col].notna().to_numpy()


def _missing(col: str) -> Apply:
    def apply(f: pd.DataFrame, rows: np.ndarray, c: Context) -> None:
        f.loc[f.index[rows], col] = pd.NaT if str(f[col].dtype).startswith("datetime") else None

    return apply


def _map(col: str, fn: Callable[[object, Context], object]) -> Apply:
    def apply(f: pd.DataFrame, rows: np.ndarray, c: Context) -> None:
        idx = f.index[rows]
        f.loc[idx, col] = [fn(v, c) for v in f.loc[idx, col].tolist()]

    return apply


def _name_typo(name: object, c: Context) -> object:
    text = str(name)
    for pos in range(len(text) - 1, 0, -1):
        if text[pos] in catalogue.NAME_TYPOS:
            return text[:pos] + catalogue.NAME_TYPOS[text[pos]] + text[pos + 1 :]
    return text[0] + text[1:][::-1] + "之" if len(text) > 1 else text + "之"


def _bad_check(value: object, c: Context) -> object:
    text = str(value)
    wrong = [ch for ch in ID_CHECK if ch != text[-1].upper()]
    return text[:-1] + wrong[int(c.rng.integers(len(wrong)))]


def _new_phone(value: object, c: Context) -> object:
    prefixes = catalogue.PHONE_PREFIXES
    return str(prefixes[int(c.rng.integers(len(prefixes)))] * 100_000_000 + int(c.rng.integers(100_000_000)))


def _unknown_region(value: object, c: Context) -> object:
    options = (c.province_code[:2] + "9999", c.province_code[:2] + "0199", "000000")
    return options[int(c.rng.integers(len(options)))]


def _outdated_region(value: object, c: Context) -> object:
    olds = c.old_by_current[str(value)]
    return olds[int(c.rng.integers(len(olds)))]


def _has_old_code(col: str) -> Mask:
    return lambda f, c: f[col].isin(list(c.old_by_current)).to_numpy()


def _old_id15_ok(f: pd.DataFrame, c: Context) -> np.ndarray:
    return np.array(
        [isinstance(v, str) and len(v) == 18 and v[6:8] == "19" for v in f["id_number"].tolist()], dtype=bool
    )


def _very_old(f: pd.DataFrame, rows: np.ndarray, c: Context) -> None:
    idx = f.index[rows]
    f.loc[idx, "birth_date"] = np.datetime64("1875-06-01", "s") + c.rng.integers(0, 365, len(idx)).astype(
        "timedelta64[D]"
    )
    if "age" in f:
        f.loc[idx, "age"] = 150


def _discharge_before_admit(f: pd.DataFrame, rows: np.ndarray, c: Context) -> None:
    idx = f.index[rows]
    f.loc[idx, "discharge_ts"] = f.loc[idx, "admit_ts"] - pd.to_timedelta(
        c.rng.integers(3600, 3 * 86400, len(idx)), unit="s"
    )


def _end_before_start(f: pd.DataFrame, rows: np.ndarray, c: Context) -> None:
    idx = f.index[rows]
    f.loc[idx, "end_ts"] = f.loc[idx, "start_ts"] - pd.to_timedelta(
        c.rng.integers(600, 7200, len(idx)), unit="s"
    )


def _onset_after_diagnosis(f: pd.DataFrame, rows: np.ndarray, c: Context) -> None:
    idx = f.index[rows]
    f.loc[idx, "onset_date"] = f.loc[idx, "diagnosis_ts"].dt.floor("D") + pd.to_timedelta(
        c.rng.integers(3, 20, len(idx)), unit="D"
    )


def _negate(col: str) -> Apply:
    def apply(f: pd.DataFrame, rows: np.ndarray, c: Context) -> None:
        idx = f.index[rows]
        f.loc[idx, col] = -f.loc[idx, col].abs() - 1

    return apply


def _unknown_icd(f: pd.DataFrame, rows: np.ndarray, c: Context) -> None:
    idx = f.index[rows]
    f.loc[idx, "icd10"] = [
        spell_icd10(UNKNOWN_ICD10[int(k)], c.vendor.code_style)
        for k in c.rng.integers(0, len(UNKNOWN_ICD10), len(idx))
    ]


def _respell(f: pd.DataFrame, rows: np.ndarray, c: Context) -> None:
    """Spell the code in a style whose text differs from what the vendor wrote (I10 has no compact form)."""
    idx = f.index[rows]
    spelled = []
    for code, sent in zip(f.loc[idx, "_icd10"].tolist(), f.loc[idx, "icd10"].tolist(), strict=True):
        options = sorted({spell_icd10(code, s) for s in CODE_STYLES} - {sent})
        spelled.append(options[int(c.rng.integers(len(options)))])
    f.loc[idx, "icd10"] = spelled


UNIT_LABS = ("GLU", "CRE", "HGB", "TEMP")


def _unit_variant(f: pd.DataFrame, rows: np.ndarray, c: Context) -> None:
    """Send a value in the other unit than the vendor's habit (still labelled correctly)."""
    for lab_key in UNIT_LABS:
        sel = rows[(f["_lab"].to_numpy()[rows] == lab_key)]
        if not len(sel):
            continue
        idx = f.index[sel]
        lab = catalogue.LABS[lab_key]
        if lab_key in c.vendor.alt_units:  # back to the canonical unit
            values = (f.loc[idx, "value"].to_numpy(float) - lab.alt_offset) / lab.alt_factor
            f.loc[idx, "value"] = np.round(values, lab.decimals)
            f.loc[idx, "unit"] = lab.unit
        else:
            values, unit = convert_unit(lab_key, f.loc[idx, "value"].to_numpy(float))
            f.loc[idx, "value"] = values
            f.loc[idx, "unit"] = unit


def _fever_60(f: pd.DataFrame, rows: np.ndarray, c: Context) -> None:
    f.loc[f.index[rows], "value"] = 60.0
    f.loc[f.index[rows], "unit"] = catalogue.LABS["TEMP"].unit


def _is_lab(keys: tuple[str, ...], negate: bool = False) -> Mask:
    return lambda f, c: f["_lab"].isin(keys).to_numpy() != negate


def _over_24h(f: pd.DataFrame, rows: np.ndarray, c: Context) -> None:
    f.loc[f.index[rows], "hours_used"] = 24.5 + np.round(c.rng.uniform(0, 10, len(rows)), 1)


def _more_positives(f: pd.DataFrame, rows: np.ndarray, c: Context) -> None:
    idx = f.index[rows]
    f.loc[idx, "positives"] = f.loc[idx, "exams"] + c.rng.integers(1, 20, len(idx))


def _noop(f: pd.DataFrame, rows: np.ndarray, c: Context) -> None:
    """Duplicates and malformed rows are made by ``inject`` itself."""


DUPLICATE = Fault("duplicate_record", "", 3.0, _noop)
MALFORMED = Fault("malformed_row", "", 0.6, _noop, formats=("csv", "xlsx"))

TABLE_FAULTS: dict[str, tuple[Fault, ...]] = {
    "patients": (
        DUPLICATE,
        MALFORMED,
        Fault("identity_name_typo", "name", 2.0, _map("name", _name_typo), _notnull("name")),
        Fault("identity_phone_changed", "phone", 2.0, _map("phone", _new_phone), _notnull("phone")),
        Fault(
            "identity_old_id15",
            "id_number",
            1.5,
            _map("id_number", lambda v, c: to_old_id15(str(v))),
            _old_id15_ok,
        ),
        Fault("invalid_id_checksum", "id_number", 1.0, _map("id_number", _bad_check), _notnull("id_number")),
        Fault("missing_required", "name", 0.5, _missing("name")),
        Fault("missing_required", "sex", 0.5, _missing("sex")),
        Fault("missing_required", "birth_date", 0.5, _missing("birth_date")),
        Fault("impossible_value", "birth_date", 1.0, _very_old),
        Fault("unknown_region_code", "county_code", 0.7, _map("county_code", _unknown_region)),
        Fault(
            "outdated_region_code",
            "county_code",
            0.7,
            _map("county_code", _outdated_region),
            _has_old_code("county_code"),
        ),
        Fault("mojibake", "name", 0.7, _map("name", lambda v, c: mojibake(str(v))), _notnull("name")),
        Fault("mojibake", "address", 0.5, _map("address", lambda v, c: mojibake(str(v)))),
    ),
    "encounters": (
        DUPLICATE,
        MALFORMED,
        Fault("missing_required", "admit_ts", 1.0, _missing("admit_ts")),
        Fault("missing_required", "department", 0.7, _missing("department")),
        Fault("missing_required", "patient_id", 0.5, _missing("patient_id")),
        Fault("impossible_value", "discharge_ts", 1.0, _discharge_before_admit, _notnull("discharge_ts")),
        Fault("impossible_value", "cost", 1.0, _negate("cost")),
    ),
    "diagnoses": (
        DUPLICATE,
        MALFORMED,
        Fault("unknown_icd10", "icd10", 2.0, _unknown_icd),
        Fault("code_spelling", "icd10", 2.0, _respell),
        Fault("missing_required", "icd10", 1.0, _missing("icd10")),
    ),
    "operations": (
        DUPLICATE,
        MALFORMED,
        Fault("impossible_value", "end_ts", 1.0, _end_before_start),
        Fault("missing_required", "code", 1.0, _missing("code")),
        Fault("missing_required", "start_ts", 0.5, _missing("start_ts")),
    ),
    "labs": (
        DUPLICATE,
        MALFORMED,
        Fault("unit_variant", "value", 2.0, _unit_variant, _is_lab(UNIT_LABS)),
        Fault("impossible_value", "value", 1.5, _fever_60, _is_lab(("TEMP",))),
        Fault("impossible_value", "value", 0.5, _negate("value"), _is_lab(("TEMP",), negate=True)),
        Fault("missing_required", "value", 1.0, _missing("value")),
    ),
    "prescriptions": (
        DUPLICATE,
        MALFORMED,
        Fault("missing_required", "drug_code", 1.0, _missing("drug_code")),
        Fault("impossible_value", "dose", 1.0, _negate("dose")),
    ),
    "bed_census": (
        DUPLICATE,
        MALFORMED,
        Fault("impossible_value", "occupied_beds", 1.0, _negate("occupied_beds")),
        Fault("missing_required", "occupied_beds", 1.0, _missing("occupied_beds")),
    ),
    "equipment_use": (
        DUPLICATE,
        MALFORMED,
        Fault("impossible_value", "hours_used", 1.0, _over_24h),
        Fault("impossible_value", "positives", 1.0, _more_positives),
        Fault("missing_required", "exams", 0.5, _missing("exams")),
    ),
    "case_reports": (
        DUPLICATE,
        MALFORMED,
        Fault("invalid_id_checksum", "id_number", 1.0, _map("id_number", _bad_check), _notnull("id_number")),
        Fault(
            "identity_old_id15",
            "id_number",
            0.5,
            _map("id_number", lambda v, c: to_old_id15(str(v))),
            _old_id15_ok,
        ),
        Fault("missing_required", "onset_date", 1.0, _missing("onset_date")),
        Fault("missing_required", "disease", 0.5, _missing("disease")),
        Fault("missing_required", "address_code", 0.5, _missing("address_code")),
        Fault("impossible_value", "onset_date", 1.0, _onset_after_diagnosis),
        Fault("impossible_value", "age", 0.5, _very_old),
        Fault("unknown_region_code", "address_code", 0.7, _map("address_code", _unknown_region)),
        Fault(
            "outdated_region_code",
            "address_code",
            0.7,
            _map("address_code", _outdated_region),
            _has_old_code("address_code"),
        ),
        Fault("mojibake", "name", 0.5, _map("name", lambda v, c: mojibake(str(v))), _notnull("name")),
        Fault("mojibake", "address", 0.5, _map("address", lambda v, c: mojibake(str(v)))),
    ),
}


def inject(table: str, frame: pd.DataFrame, rate: float, ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Corrupt about ``rate`` of the records of ``frame``; return the frame as written and the errors.

    The errors frame has ``row`` (0-based position in the returned frame), ``field``, ``error_kind`` and
    ``expected_action``.
    """
    empty = pd.DataFrame(
        {
            "row": pd.Series(dtype=np.int64),
            "field": pd.Series(dtype=object),
            "error_kind": pd.Series(dtype=object),
            "expected_action": pd.Series(dtype=object),
        }
    )
    n = len(frame)
    faults = [f for f in TABLE_FAULTS[table] if ctx.vendor.format in f.formats]
    frame = frame.reset_index(drop=True).copy()
    frame["_malformed"] = False
    m = int(ctx.rng.binomial(n, rate)) if n else 0
    if m == 0:
        return frame, empty
    rows = np.sort(ctx.rng.choice(n, size=m, replace=False))
    picked = frame.iloc[rows]
    weights = np.array([f.weight for f in faults])[None, :] * np.column_stack(
        [np.ones(m, bool) if f.eligible is None else f.eligible(picked, ctx) for f in faults]
    )
    total = weights.sum(axis=1)
    rows, weights = rows[total > 0], weights[total > 0]
    cum = np.cumsum(weights, axis=1) / weights.sum(axis=1, keepdims=True)
    choice = (ctx.rng.random(len(rows))[:, None] > cum).sum(axis=1)
    for k, fault in enumerate(faults):
        fault.apply(frame, rows[choice == k], ctx)
    malformed = rows[[faults[k] is MALFORMED for k in choice]]
    frame.loc[malformed, "_malformed"] = True

    dup_src = rows[[faults[k] is DUPLICATE for k in choice]]
    if not len(dup_src):
        return frame, pd.DataFrame(
            {
                "row": rows,
                "field": [faults[k].field for k in choice],
                "error_kind": [faults[k].kind for k in choice],
                "expected_action": [ACTIONS[faults[k].kind] for k in choice],
            }
        )
    copies = frame.iloc[dup_src].copy()
    if ctx.vendor.format.startswith("fhir") and table in KEYS:
        base = copies["_rid"] if "_rid" in copies else copies[KEYS[table]]
        copies["_resource_id"] = base.astype(str) + "-2"  # a resent resource gets a new id
    # Each copy lands a little after its original, as a re-sent batch would.
    sort_key = np.concatenate(
        [
            np.arange(n, dtype=float),
            np.minimum(n - 0.5, dup_src + ctx.rng.integers(1, 200, len(dup_src)) + 0.5),
        ]
    )
    order = np.argsort(sort_key, kind="stable")
    written = pd.concat([frame, copies], ignore_index=True).iloc[order].reset_index(drop=True)
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    is_dup = np.array([faults[k] is DUPLICATE for k in choice])
    err_rows = np.where(is_dup, 0, position[rows])
    err_rows[is_dup] = position[n + np.arange(is_dup.sum())]
    errors = pd.DataFrame(
        {
            "row": err_rows,
            "field": [faults[k].field for k in choice],
            "error_kind": [faults[k].kind for k in choice],
            "expected_action": [ACTIONS[faults[k].kind] for k in choice],
        }
    )
    return written, errors.sort_values("row", kind="stable").reset_index(drop=True)
