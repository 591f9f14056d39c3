"""Standard populations for age standardisation (标准人口), in 18 five-year groups 0-4 … 80-84, 85+.

Shipped in ``standards/standard_populations.csv`` (one row per standard and age group, each naming its
source):

- ``china2010``: China's 6th national census (2010), the national population by age (全国分年龄、性别的人口);
  85+ folds 85-89, 90-94, 95-99 and 100+. Groups add up to the census total 1,332,810,869.
- ``china2000``: China's 5th national census (2000), same table; 0-4 folds 0 and 1-4. Groups add up to
  the census total 1,242,612,226.
- ``who``: WHO World Standard Population 2000–2025 (Ahmad et al. 2001), 85+ folded; adds up to 100,035.
- ``segi``: Segi (1960) world standard as modified by Doll, Payne & Waterhouse (1966).

Weights are w_i = N_i / ΣN, as R ``epitools::ageadjust.direct`` normalises ``stdpop``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from provista.analytics.epi.rates import EpiInputError

AGE_GROUPS: tuple[str, ...] = (*(f"{lo}-{lo + 4}" for lo in range(0, 85, 5)), "85+")
STANDARDS: tuple[str, ...] = ("china2010", "china2000", "who", "segi")
STANDARD_NAMES = {
    "china2010": "China 2010 census (2010年第六次全国人口普查)",
    "china2000": "China 2000 census (2000年第五次全国人口普查)",
    "who": "WHO world standard 2000-2025",
    "segi": "Segi world standard (1960)",
}


def age_group(age: object) -> pd.Series:
    """Five-year age group labels (0-4 … 80-84, 85+) for ages in completed years; NaN stays NaN.

    >>> age_group(pd.Series([0, 4, 5, 84, 85, 101])).tolist()
    ['0-4', '0-4', '5-9', '80-84', '85+', '85+']
    """
    years = pd.to_numeric(pd.Series(age), errors="coerce")
    if (years < 0).any():
        raise EpiInputError("an age is negative", hint="ages are completed years, 0 or more")
    index = (years // 5).clip(upper=len(AGE_GROUPS) - 1)
    labels = np.array(AGE_GROUPS, dtype=object)
    out = pd.Series([labels[int(i)] if pd.notna(i) else None for i in index], index=years.index, dtype=object)
    return out


@cache
def _table() -> pd.DataFrame:
    path = resources.files("provista.analytics.epi").joinpath("standards/standard_populations.csv")
    with path.open("r", encoding="utf-8") as f:
        return pd.read_csv(f, dtype={"standard": str, "age_group": str, "population": "int64"})


def standard_population(name: str) -> pd.Series:
    """The standard's population by age group (index ``AGE_GROUPS``), as published."""
    table = _table()
    rows = table[table["standard"] == name]
    if rows.empty:
        raise EpiInputError(
            f"no standard population called '{name}'", hint=f"use one of {', '.join(STANDARDS)}"
        )
    return pd.Series(
        rows["population"].to_numpy(), index=pd.Index(rows["age_group"], name="age_group"), name=name
    )


def standard_weights(name: str) -> pd.Series:
    """Weights w_i = N_i / ΣN of a shipped standard, summing to 1 (index ``AGE_GROUPS``)."""
    pop = standard_population(name).astype(float)
    return pop / pop.sum()


def standard_source(name: str) -> str:
    """Where a shipped standard's figures come from."""
    table = _table()
    rows = table[table["standard"] == name]
    if rows.empty:
        raise EpiInputError(
            f"no standard population called '{name}'", hint=f"use one of {', '.join(STANDARDS)}"
        )
    return str(rows["source"].iloc[0])
