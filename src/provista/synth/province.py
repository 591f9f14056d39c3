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
from collections.abc import Sequence
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

    def places(self) -> list[str]:
        """Each county's full place name, as addresses begin: 浙江省杭州市上城区."""
        return [self.name_zh + self.cities[c.city_code][0] + c.name_zh for c in self.counties]


def _require_columns(path: Path, found: Sequence[str] | None, wanted: tuple[str, ...]) -> None:
    missing = [c for c in wanted if c not in (found or [])]
    if missing:
        raise ProvinceDataError(
            f"missing column(s) {', '.join(missing)}",
            file=str(path),
            row=0,
            hint=f"the header must be: {','.join(wanted)}",
        )


def _gbk_safe(text: str) -> bool:
    try:
        text.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


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
        reader = csv.DictReader(f)
        _require_columns(div_file, reader.fieldnames, ("code", "name_zh", "name_en", "level", "parent_code"))
        for row_no, row in enumerate(reader, start=1):
            if not _gbk_safe(row["name_zh"]):
                raise ProvinceDataError(
                    "the name has characters that GBK exports cannot hold",
                    file=str(div_file),
                    row=row_no,
                    field="name_zh",
                    hint="use the GB 18030 common form",
                )
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
    orphans = [c.code for c in counties if c.city_code not in cities]
    if orphans:
        raise ProvinceDataError(
            f"counties whose parent_code is not a prefecture: {', '.join(orphans)}",
            file=str(div_file),
            field="parent_code",
            hint="give every county the code of its prefecture-level city",
        )
    pop_file = folder / "population.csv"
    with open(pop_file, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        _require_columns(pop_file, reader.fieldnames, ("county_code", "sex", "age_group", "population"))
        for row_no, row in enumerate(reader, start=1):
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
