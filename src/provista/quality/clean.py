"""Clean one batch of a source table: parse, check every rule, quarantine what cannot be trusted, and
normalise the rest with certainty.

``clean`` returns the typed canonical records that passed, the quarantined records (verbatim, with the
first failing rule as reason and every failure in the detail), failure counts per rule, and counts of the
values it repaired.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from provista.quality.checks import CHECKS, Context, Parsed
from provista.quality.normalise import (
    by_distinct,
    id_numbers,
    normalise_icd10,
    normalise_region,
    normalise_sex,
    parse_datetimes,
    to_halfwidth,
    unit_conversions,
)
from provista.quality.rules import load_rules
from provista.quality.tables import TABLES


@dataclass
class Cleaned:
    records: pd.DataFrame
    quarantine: pd.DataFrame  # record_ref, raw, reason_code, detail
    failures: Counter[str] = field(default_factory=Counter)  # rule id -> failing records
    checked: int = 0
    repaired: Counter[str] = field(default_factory=Counter)  # what -> values normalised


def _numbers(values: pd.Series) -> pd.Series:
    """Numbers from text; full-width digits (１２３) are read too, at the cost of a second pass."""
    out = pd.to_numeric(values.where(values != ""), errors="coerce")
    retry = out.isna() & (values != "")
    if retry.any():
        out[retry] = pd.to_numeric(values[retry].map(to_halfwidth), errors="coerce")
    return out


@lru_cache(maxsize=32)
def _declared_fields(table: str) -> tuple[str, ...]:
    """Every canonical field that some built-in source format declares for ``table``."""
    from provista.ingest.mapping import load_mappings

    return tuple(sorted({f for m in load_mappings() if m.table == table for f in m.columns.values()}))


def parse(table: str, text: pd.DataFrame, ctx: Context) -> Parsed:
    spec = TABLES[table]
    for col in (*spec.required, *spec.datetimes, *spec.numbers, *_declared_fields(table)):
        if col not in text:  # a format that does not send an optional field: checks see it empty
            text[col] = ""
    times = {c: parse_datetimes(text[c].where(text[c] != "")) for c in spec.datetimes if c in text}
    numbers = {c: _numbers(text[c]) for c in spec.numbers if c in text}
    return Parsed(table, spec, text, times, numbers, ctx)


def clean(table: str, text: pd.DataFrame, ctx: Context) -> Cleaned:
    """Check and normalise ``text`` (strings, with record_ref, raw, malformed) of canonical ``table``."""
    text = text.reset_index(drop=True)
    parsed = parse(table, text, ctx)
    reason = pd.Series("", index=text.index, dtype=object)
    details = pd.Series("", index=text.index, dtype=object)
    result = Cleaned(pd.DataFrame(), pd.DataFrame(), checked=len(text))
    malformed = text["malformed"].astype(bool)
    for rule in load_rules():
        if not rule.applies_to(table):
            continue
        fails, detail = CHECKS[rule.check](parsed)
        if rule.id != "STRUCTURE":
            fails &= ~malformed  # a cut-short record is reported once, as malformed
        result.failures[rule.id] += int(fails.sum())
        if rule.severity == "error":
            first = fails & (reason == "")
            reason[first] = rule.id
            details[fails] = np.where(
                details[fails] == "", detail[fails], details[fails] + "; " + detail[fails]
            )
    bad = reason != ""
    result.quarantine = pd.DataFrame(
        {
            "record_ref": text.loc[bad, "record_ref"],
            "raw": text.loc[bad, "raw"],
            "reason_code": reason[bad],
            "detail": details[bad],
        }
    )
    result.records = _normalise(table, parsed, ~bad, ctx, result.repaired)
    return result


def _normalise(table: str, p: Parsed, keep: pd.Series, ctx: Context, repaired: Counter[str]) -> pd.DataFrame:
    """The records that passed, with canonical types and values."""
    t = p.text[keep]
    out = pd.DataFrame({"record_ref": t["record_ref"]})
    key = p.spec.key
    if key and key in t:
        out[key] = t[key]
    for col, values in p.times.items():
        out[col] = values[keep].dt.date if col in ("birth_date", "date", "onset_date") else values[keep]
    for col, values in p.numbers.items():
        out[col] = values[keep]
    if table in ("patients", "case_reports"):
        numbers, converted = id_numbers(t["id_number"])
        out["id_number"] = numbers
        out["id_kind"] = np.where(converted, "15", np.where(pd.isna(numbers), "none", "18"))
        repaired["id_number 15→18"] += int(converted.sum())
        out["sex"] = by_distinct(t["sex"], normalise_sex)
        col = "county_code" if table == "patients" else "address_code"
        regions = by_distinct(
            t[col], lambda v: normalise_region(v, ctx.regions, ctx.outdated) if v else (None, False)
        )
        out["county_code"] = [r for r, _ in regions]
        repaired["region code vintage"] += sum(c for _, c in regions)
        for c in ("name", "phone", "address", "outside_province"):
            if c in t:
                out[c] = t[c]
        elsewhere = by_distinct(t[col], ctx.outside).astype(bool)
        if elsewhere.any():
            out["outside_province"] = np.where(elsewhere, "true", out.get("outside_province", "false"))
    if table == "patients":
        out["patient_id"] = t["patient_id"]
    if table == "encounters":
        for c in ("patient_id", "type", "department", "outcome"):
            out[c] = t[c].replace("", None)
    if table == "diagnoses":
        codes = by_distinct(t["icd10"], normalise_icd10)
        out["encounter_id"] = t["encounter_id"]
        out["icd10"] = [c.code if c else None for c in codes]
        out["icd10_national"] = [c.national if c else None for c in codes]
        for c in ("code_system", "code"):
            out[c] = t[c].replace("", None) if c in t else None
        repaired["icd10 spelling"] += int(
            sum(c is not None and c.code != s for c, s in zip(codes, t["icd10"], strict=True))
        )
        out["is_primary"] = t["is_primary"].map({"true": True, "false": False}) if "is_primary" in t else None
    if table == "labs":
        out["encounter_id"] = t["encounter_id"]
        out["code"] = t["code"]
        units = unit_conversions(t["code"], t["unit"])
        value = out["value"].to_numpy(dtype=float)
        given = ~np.isnan(value)  # an empty value keeps its unit as sent
        repaired["lab unit"] += int((given & units.known & (t["unit"].to_numpy() != units.canonical)).sum())
        out["value"] = np.where(given, units.apply(value), np.nan)
        out["unit"] = np.where(given, units.canonical, t["unit"].to_numpy(dtype=object))
        out["value_text"] = t["value_text"].replace("", None) if "value_text" in t else None
    if table in ("operations", "prescriptions"):
        for c in ("encounter_id", "code", "or_room", "drug_code", "atc", "unit"):
            if c in t:
                out[c] = t[c].replace("", None)
    if table in ("bed_census", "equipment_use"):
        for c in ("department", "device_id", "device_type"):
            if c in t:
                out[c] = t[c]
    if table == "organizations":
        for c in ("name", "city", "state"):
            out[c] = t.get(c)
    if table == "case_reports":
        for c in ("disease", "occupation", "case_class", "reporting_unit_id"):
            out[c] = t[c].replace("", None)
    return out.reset_index(drop=True)
