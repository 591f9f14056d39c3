"""k-anonymity (k-匿名) for patient-level exports: the least generalisation that hides everyone in a crowd.

A record is k-anonymous when at least k records of the export share its quasi-identifiers (the
attributes someone could know from elsewhere: age, sex, where the patient lives, dates of visits). The
quasi-identifiers are coarsened along fixed hierarchies —

- age: years → 5-year bands → 10-year bands (90 and over is always one group, "90+");
- dates: day → month → quarter → year (all date columns of a record move together);
- region: county → city (prefecture) → province (GB/T 2260 codes: 330106 → 330100 → 330000);

— and the lattice of their combinations (3 × 4 × 3 = 36 nodes) is searched whole (Samarati's
formulation, exhaustive because it is small). Records still in a group smaller than k are suppressed.
The answer is the node with the fewest generalisation steps whose suppressed share stays within the
allowed maximum; ties go to fewer suppressed records. When no allowed node gets there the export is
refused, naming what would be needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import product

import pandas as pd

from provista.errors import ProvistaError

AGE_LEVELS = ("year", "5-year", "10-year")
DATE_LEVELS = ("day", "month", "quarter", "year")
REGION_LEVELS = ("county", "city", "province")
TOP_AGE = 90  # ages from here on are one group, whatever the level


class KAnonymityError(ProvistaError, ValueError):
    """No allowed generalisation makes the export k-anonymous."""


@dataclass(frozen=True, order=True)
class Generalisation:
    """How far each kind of quasi-identifier is coarsened (an index into its levels)."""

    age: int = 0
    date: int = 0
    region: int = 0

    @property
    def steps(self) -> int:
        return self.age + self.date + self.region

    def describe(self) -> str:
        return (
            f"age by {AGE_LEVELS[self.age]}, dates by {DATE_LEVELS[self.date]}, "
            f"region by {REGION_LEVELS[self.region]}"
        )


COARSEST = Generalisation(len(AGE_LEVELS) - 1, len(DATE_LEVELS) - 1, len(REGION_LEVELS) - 1)


@dataclass(frozen=True)
class QuasiIdentifiers:
    """The columns of an export that identify in combination, by kind of hierarchy."""

    age: tuple[str, ...] = ()  # whole years
    dates: tuple[str, ...] = ()  # dates or timestamps
    regions: tuple[str, ...] = ()  # 6-digit region codes
    kept: tuple[str, ...] = ()  # used as they are (sex, occupation)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.age, *self.dates, *self.regions, *self.kept)


@dataclass
class KAnonymity:
    """The generalised export and what it cost."""

    k: int
    generalisation: Generalisation
    frame: pd.DataFrame  # generalised, suppressed records removed
    records: int  # before suppression
    suppressed: int
    smallest_group: int  # after suppression
    groups: int
    tried: list[tuple[Generalisation, int]] = field(default_factory=list)  # node, suppressed records

    @property
    def suppressed_share(self) -> float:
        return self.suppressed / self.records if self.records else 0.0


def generalise(frame: pd.DataFrame, qi: QuasiIdentifiers, g: Generalisation) -> pd.DataFrame:
    """The frame with its quasi-identifiers coarsened to ``g`` (as text; missing values stay missing)."""
    out = frame.copy()
    for column in qi.age:
        out[column] = _age(frame[column], g.age)
    for column in qi.dates:
        out[column] = _date(frame[column], g.date)
    for column in qi.regions:
        out[column] = _region(frame[column], g.region)
    return out


def _age(values: pd.Series, level: int) -> pd.Series:
    years = pd.to_numeric(values, errors="coerce")
    width = (1, 5, 10)[level]
    low = (years // width * width).astype("Int64")
    text = low.astype(str) if width == 1 else low.astype(str) + "-" + (low + width - 1).astype(str)
    text = text.where(years < TOP_AGE, f"{TOP_AGE}+")
    return text.where(years.notna(), None)


def _date(values: pd.Series, level: int) -> pd.Series:
    when = pd.to_datetime(values, errors="coerce")
    if level == 0:
        text = when.dt.strftime("%Y-%m-%d")
    elif level == 1:
        text = when.dt.strftime("%Y-%m")
    elif level == 2:
        text = when.dt.year.astype("Int64").astype(str) + "Q" + when.dt.quarter.astype("Int64").astype(str)
    else:
        text = when.dt.year.astype("Int64").astype(str)
    return text.where(when.notna(), None)


def _region(values: pd.Series, level: int) -> pd.Series:
    code = values.astype("string")
    keep = (6, 4, 2)[level]
    return (code.str[:keep] + "0" * (6 - keep)).astype(object).where(code.notna(), None)


def group_sizes(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """For each record, how many records share its values in ``columns`` (missing counts as a value)."""
    cols = list(columns)
    keys = frame[cols].astype("string").fillna("\x00")
    return keys.groupby(cols, sort=False)[cols[0]].transform("size")


def anonymise(
    frame: pd.DataFrame,
    qi: QuasiIdentifiers,
    k: int = 5,
    max_suppressed: float = 0.01,
    coarsest: Generalisation = COARSEST,
) -> KAnonymity:
    """The least generalisation (no coarser than ``coarsest``) that reaches ``k`` with at most
    ``max_suppressed`` of the records suppressed; raises KAnonymityError when there is none."""
    if k < 1:
        raise KAnonymityError(f"k must be at least 1, not {k}", hint="k = 5 is the usual minimum")
    if frame.empty:
        return KAnonymity(k, Generalisation(), frame.copy(), 0, 0, 0, 0)
    nodes = sorted(
        (Generalisation(a, d, r) for a, d, r in product(range(3), range(4), range(3))),
        key=lambda g: (g.steps, g),
    )
    allowed = [
        g for g in nodes if g.age <= coarsest.age and g.date <= coarsest.date and g.region <= coarsest.region
    ]
    tried: list[tuple[Generalisation, int]] = []
    best: tuple[int, Generalisation, pd.DataFrame, pd.Series] | None = None
    for g in allowed:
        if best is not None and g.steps > best[1].steps:
            break  # every node of the least height that works has been seen
        coarse = generalise(frame, qi, g)
        sizes = group_sizes(coarse, qi.columns)
        small = int((sizes < k).sum())
        tried.append((g, small))
        if small <= max_suppressed * len(frame) and (best is None or small < best[0]):
            best = (small, g, coarse, sizes)
    if best is None:
        fewest = min(tried, key=lambda t: t[1])
        raise KAnonymityError(
            f"no allowed generalisation makes these {len(frame):,} records {k}-anonymous with at most "
            f"{max_suppressed:.2%} suppressed: the best ({fewest[0].describe()}) would suppress "
            f"{fewest[1]:,} records ({fewest[1] / len(frame):.3%})",
            hint="allow coarser age bands, dates or regions, allow more suppression, export fewer "
            "quasi-identifiers, or export aggregates instead",
        )
    small, g, coarse, sizes = best
    kept = coarse[sizes >= k].reset_index(drop=True)
    after = group_sizes(kept, qi.columns) if len(kept) else pd.Series(dtype=int)
    return KAnonymity(
        k=k,
        generalisation=g,
        frame=kept,
        records=len(frame),
        suppressed=small,
        smallest_group=int(after.min()) if len(after) else 0,
        groups=int(kept[list(qi.columns)].astype("string").fillna("\x00").drop_duplicates().shape[0]),
        tried=tried,
    )
