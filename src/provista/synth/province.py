"""A province as the generator needs it: divisions (GB/T 2260) and census population by sex and age.

A province is a folder with three files, so that another province can be dropped in:

- ``divisions.csv``: ``code, name_zh, name_en, level (province|prefecture|county), parent_code``;
- ``population.csv``: ``county_code, sex (M|F), age_group (0-4 ... 80-84, 85+), population``;
- ``province.json``: ``code, name_zh, name_en, capital_code, outdated_codes {old: current}, sources``.

The Zhejiang folder ships with the package (2020 census; see its ``province.json`` for sources).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from provista.errors import ProvinceDataError

PROVINCES_DIR = Path(__file__).parent / "provinces"
AGE_GROUPS: tuple[str, ...] = (*(f"{lo}-{lo + 4}" for lo in range(0, 85, 5)), "85+")
SEXES: tuple[str, ...] = ("M", "F")


@dataclass(frozen=True)
class County:
    code: str
    name_zh: str
    name_en: str
    city_code: str


@dataclass(frozen=True)
class Province:
    """Divisions and census population of one province."""

    code: str
    name_zh: str
    name_en: str
    capital_code: str
    cities: dict[str, tuple[str, str]]  # city code -> (name_zh, name_en)
    counties: list[County]
    # population[county index, sex index (M, F), age group index]
    population: np.ndarray
    outdated_codes: dict[str, str] = field(default_factory=dict)
    folder: Path = PROVINCES_DIR

    @property
    def county_population(self) -> np.ndarray:
        return self.population.sum(axis=(1, 2))

    def county_index(self) -> dict[str, int]:
        return {c.code: i for i, c in enumerate(self.counties)}


def available_provinces() -> list[str]:
    return sorted(p.name for p in PROVINCES_DIR.iterdir() if (p / "province.json").exists())


def load_province(name_or_folder: str | Path) -> Province:
    """Load a shipped province by name (``zhejiang``) or any folder laid out as described above."""
    folder = Path(name_or_folder)
    if not (folder / "province.json").exists():
        folder = PROVINCES_DIR / str(name_or_folder)
    if not (folder / "province.json").exists():
        raise ProvinceDataError(
            "no province.json here",
            file=str(name_or_folder),
            hint=f"use one of {', '.join(available_provinces())}, or a folder with province.json, "
            "divisions.csv and population.csv (see the README, 'Another province')",
        )
    meta = json.loads((folder / "province.json").read_text(encoding="utf-8"))
    for key in ("code", "name_zh", "name_en", "capital_code"):
        if key not in meta:
            raise ProvinceDataError(
                "missing key",
                file=str(folder / "province.json"),
                field=key,
                hint="add it; see the Zhejiang folder for an example",
            )
    cities: dict[str, tuple[str, str]] = {}
    counties: list[County] = []
    div_file = folder / "divisions.csv"
    with open(div_file, encoding="utf-8-sig", newline="") as f:
        for row_no, row in enumerate(csv.DictReader(f), start=1):
            code, level = (row.get("code") or "").strip(), (row.get("level") or "").strip()
            if len(code) != 6 or not code.isdigit():
                raise ProvinceDataError(
                    f"'{code}' is not a 6-digit GB/T 2260 code",
                    file=str(div_file),
                    row=row_no,
                    field="code",
                    hint="fix the code or remove the row",
                )
            if level == "prefecture":
                cities[code] = (row["name_zh"], row["name_en"])
            elif level == "county":
                counties.append(County(code, row["name_zh"], row["name_en"], row["parent_code"]))
            elif level != "province":
                raise ProvinceDataError(
                    f"unknown level '{level}'",
                    file=str(div_file),
                    row=row_no,
                    field="level",
                    hint="use province, prefecture or county",
                )
    index = {c.code: i for i, c in enumerate(counties)}
    population = np.zeros((len(counties), len(SEXES), len(AGE_GROUPS)), dtype=np.int64)
    pop_file = folder / "population.csv"
    with open(pop_file, encoding="utf-8-sig", newline="") as f:
        for row_no, row in enumerate(csv.DictReader(f), start=1):
            if row["county_code"] not in index:
                raise ProvinceDataError(
                    f"county {row['county_code']} is not in divisions.csv",
                    file=str(pop_file),
                    row=row_no,
                    field="county_code",
                    hint="add the county to divisions.csv or drop the row",
                )
            if row["sex"] not in SEXES or row["age_group"] not in AGE_GROUPS:
                raise ProvinceDataError(
                    "sex must be M or F and age_group one of " + ", ".join(AGE_GROUPS),
                    file=str(pop_file),
                    row=row_no,
                    field="sex/age_group",
                )
            try:
                value = int(row["population"])
            except ValueError:
                raise ProvinceDataError(
                    f"population '{row['population']}' is not a whole number",
                    file=str(pop_file),
                    row=row_no,
                    field="population",
                ) from None
            population[
                index[row["county_code"]], SEXES.index(row["sex"]), AGE_GROUPS.index(row["age_group"])
            ] = value
    empty = [c.code for c, n in zip(counties, population.sum(axis=(1, 2)), strict=True) if n == 0]
    if empty:
        raise ProvinceDataError(
            f"counties without population: {', '.join(empty)}",
            file=str(pop_file),
            hint="every county in divisions.csv needs rows in population.csv",
        )
    return Province(
        code=meta["code"],
        name_zh=meta["name_zh"],
        name_en=meta["name_en"],
        capital_code=meta["capital_code"],
        cities=cities,
        counties=counties,
        population=population,
        outdated_codes=meta.get("outdated_codes", {}),
        folder=folder,
    )
