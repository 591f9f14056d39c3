"""The checks that quality rules name: each takes a parsed table and returns a failure mask per record.

A check sees ``Parsed``: the source strings, the parsed dates and numbers, and the context (region codes,
today). It returns a boolean Series (True = the record fails) and a short detail per failing record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from provista.quality.normalise import (
    by_distinct,
    id_numbers,
    looks_like_mojibake,
    normalise_icd10,
    normalise_region,
    normalise_sex,
    unit_conversions,
)
from provista.quality.tables import TableSpec


@dataclass
class Context:
    regions: set[str]  # current county codes
    outdated: dict[str, str]  # retired code -> current code
    today: pd.Timestamp = field(default_factory=lambda: pd.Timestamp.now().normalize())
    ours: frozenset[str] = field(init=False)  # this province's two-digit prefix(es)

    def __post_init__(self) -> None:
        self.ours = frozenset(c[:2] for c in self.regions)

    def outside(self, code: str) -> bool:
        """A county code of another province (patients come from everywhere): valid, but not ours."""
        text = code.strip()
        return (
            len(text) == 6 and text.isdigit() and text[:2] in PROVINCE_PREFIXES and text[:2] not in self.ours
        )


# GB/T 2260 province-level prefixes.
PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
# Analytes that cannot be negative (a base excess, for one, can).
NON_NEGATIVE_LABS = frozenset({"2345-7", "718-7", "6690-2", "2160-0", "1742-6", "1988-5", "8310-5"})


@dataclass
class Parsed:
    table: str
    spec: TableSpec
    text: pd.DataFrame  # source strings, '' where empty
    times: dict[str, pd.Series]  # parsed datetimes (NaT when empty or unreadable)
    numbers: dict[str, pd.Series]  # parsed numbers (NaN when empty or unreadable)
    ctx: Context

    def filled(self, col: str) -> pd.Series:
        return self.text[col] != "" if col in self.text else pd.Series(False, index=self.text.index)


Result = tuple[pd.Series, pd.Series]  # (fails, detail)
Check = Callable[[Parsed], Result]


def _detail(fails: pd.Series, text: str, values: pd.Series | None = None) -> Result:
    """``text`` as the detail of each failing record, followed by its value from ``values`` if given."""
    detail = pd.Series("", index=fails.index, dtype=object)
    if fails.any():
        detail[fails] = text if values is None else text + values[fails]
    return fails, detail


def _none(p: Parsed) -> Result:
    return _detail(pd.Series(False, index=p.text.index), "")


def well_formed(p: Parsed) -> Result:
    return _detail(p.text["malformed"].astype(bool), "the record has fewer or more fields than the header")


def required(p: Parsed) -> Result:
    fails = pd.Series(False, index=p.text.index)
    detail = pd.Series("", index=p.text.index, dtype=object)
    for col in reversed(p.spec.required):
        empty = ~p.filled(col)
        if col in p.spec.alternatives:
            empty &= ~p.filled(p.spec.alternatives[col])
        fails |= empty
        detail[empty] = f"{col} is empty"
    return fails, detail


def _unreadable(p: Parsed, parsed: dict[str, pd.Series], what: str) -> Result:
    """Filled source values that did not parse."""
    fails = pd.Series(False, index=p.text.index)
    detail = pd.Series("", index=p.text.index, dtype=object)
    for col, values in parsed.items():
        bad = p.filled(col) & values.isna()
        fails |= bad
        detail[bad] = f"{col} is not {what}: " + p.text.loc[bad, col]
    return fails, detail


def dates_readable(p: Parsed) -> Result:
    return _unreadable(p, p.times, "a date")


def numbers_readable(p: Parsed) -> Result:
    return _unreadable(p, p.numbers, "a number")


def not_mojibake(p: Parsed) -> Result:
    fails = pd.Series(False, index=p.text.index)
    detail = pd.Series("", index=p.text.index, dtype=object)
    for col in ("name", "address"):
        if col in p.text:
            bad = p.text[col].map(looks_like_mojibake).astype(bool)
            fails |= bad
            detail[bad] = f"{col} looks like mojibake (UTF-8 read as GBK)"
    return fails, detail


def id_number_valid(p: Parsed) -> Result:
    ids = p.text["id_number"]
    numbers, _ = id_numbers(ids)
    fails = (ids != "") & pd.isna(numbers)
    return _detail(fails, "id_number fails the GB 11643 check (length, birth date or check character)")


def codes_known(p: Parsed) -> Result:
    fails = pd.Series(False, index=p.text.index)
    detail = pd.Series("", index=p.text.index, dtype=object)
    if "sex" in p.text:
        bad = p.filled("sex") & by_distinct(p.text["sex"], lambda v: normalise_sex(v) is None).astype(bool)
        fails |= bad
        detail[bad] = "unknown sex code: " + p.text.loc[bad, "sex"]
    for col, allowed in p.spec.codes.items():
        bad = p.filled(col) & ~p.text[col].isin(allowed)
        fails |= bad
        detail[bad] = f"unknown {col}: " + p.text.loc[bad, col]
    return fails, detail


def icd10_known(p: Parsed) -> Result:
    codes = p.text["icd10"]
    bad = (codes != "") & by_distinct(codes, lambda v: normalise_icd10(v) is None).astype(bool)
    return _detail(bad, "not an ICD-10 code: ", codes)


def region_known(p: Parsed) -> Result:
    col = "county_code" if "county_code" in p.text else "address_code"
    codes = p.text[col]
    outside = p.text["outside_province"] == "true" if "outside_province" in p.text else False
    outside = outside | by_distinct(codes, p.ctx.outside).astype(bool)
    bad = (
        (codes != "")
        & ~outside
        & by_distinct(codes, lambda v: normalise_region(v, p.ctx.regions, p.ctx.outdated)[0] is None).astype(
            bool
        )
    )
    return _detail(bad, f"unknown {col}: ", codes)


def unit_known(p: Parsed) -> Result:
    units = unit_conversions(p.text["code"], p.text["unit"])
    fails = p.numbers["value"].notna() & ~units.known
    return _detail(fails, "unit cannot be converted: ", p.text["unit"])


def age_plausible(p: Parsed) -> Result:
    fails = pd.Series(False, index=p.text.index)
    if "birth_date" in p.times:
        birth = p.times["birth_date"]
        fails |= (birth > p.ctx.today) | (birth < p.ctx.today - pd.DateOffset(years=120))
    if "age" in p.numbers:
        fails |= (p.numbers["age"] < 0) | (p.numbers["age"] > 120)
    return _detail(fails, "age outside 0-120 years")


TIME_PAIRS = {
    "encounters": ("admit_ts", "discharge_ts"),
    "operations": ("start_ts", "end_ts"),
    "case_reports": ("onset_date", "diagnosis_ts"),
}


def time_order(p: Parsed) -> Result:
    first, then = TIME_PAIRS[p.table]
    a, b = p.times[first], p.times[then]
    if p.table == "case_reports":
        b = b.dt.normalize()
    return _detail(a.notna() & b.notna() & (b < a), f"{then} is before {first}")


def non_negative(p: Parsed) -> Result:
    fails = pd.Series(False, index=p.text.index)
    detail = pd.Series("", index=p.text.index, dtype=object)
    for col, values in p.numbers.items():
        bad = values < 0
        if p.table == "labs":
            bad &= p.text["code"].isin(NON_NEGATIVE_LABS)
        fails |= bad
        detail[bad] = f"{col} is negative: " + p.text.loc[bad, col]
    return fails, detail


def vital_range(p: Parsed) -> Result:
    temperature = p.text["code"] == "8310-5"
    units = unit_conversions(p.text["code"].where(temperature), p.text["unit"])
    celsius = units.apply(p.numbers["value"].to_numpy(dtype=float))
    bad = temperature & units.known & p.numbers["value"].notna() & ~((celsius >= 30) & (celsius <= 45))
    return _detail(bad, "body temperature outside 30-45 °C: ", p.text["value"])


def device_day(p: Parsed) -> Result:
    n = p.numbers
    bad = (n["hours_used"] > 24) | (n["hours_used"] > n["hours_available"]) | (n["positives"] > n["exams"])
    return _detail(bad, "more than 24 hours, more than available, or more positives than exams")


CHECKS: dict[str, Check] = {
    f.__name__: f
    for f in (
        well_formed,
        required,
        dates_readable,
        numbers_readable,
        not_mojibake,
        id_number_valid,
        codes_known,
        icd10_known,
        region_known,
        unit_known,
        age_plausible,
        time_order,
        non_negative,
        vital_range,
        device_day,
    )
}
