import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest

from provista.errors import ProvinceDataError
from provista.synth.generator import SynthOptions, synthesize
from provista.synth.province import PROVINCES_DIR, load_province


def test_zhejiang_carries_the_2020_census(shared: Path):
    province = load_province("zhejiang")
    assert len(province.cities) == 11
    assert len(province.counties) == 90
    with open(shared / "data/population/zhejiang_census2020_county.csv", encoding="utf-8-sig") as f:
        rows = [r for r in csv.DictReader(f) if r["区划代码"] and not r["区划代码"].endswith("00")]
    census = {r["区划代码"]: int(r["人口数_合计"]) for r in rows}
    ours = dict(zip([c.code for c in province.counties], province.county_population.tolist(), strict=True))
    assert ours == census
    hangzhou = sum(p for c, p in ours.items() if c.startswith("3301"))
    assert hangzhou == 11_936_010  # the census' figure for 杭州市


def _two_county_province(folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(PROVINCES_DIR / "zhejiang/province.json", folder / "province.json")
    keep = {"330000", "330100", "330102", "330106"}
    with open(PROVINCES_DIR / "zhejiang/divisions.csv", encoding="utf-8") as f:
        lines = f.read().splitlines()
    (folder / "divisions.csv").write_text(
        "\n".join([lines[0]] + [x for x in lines[1:] if x.split(",")[0] in keep]) + "\n", encoding="utf-8"
    )
    with open(PROVINCES_DIR / "zhejiang/population.csv", encoding="utf-8") as f:
        lines = f.read().splitlines()
    (folder / "population.csv").write_text(
        "\n".join([lines[0]] + [x for x in lines[1:] if x.split(",")[0] in keep]) + "\n", encoding="utf-8"
    )
    return folder


def test_another_province_can_be_dropped_in(tmp_path: Path):
    folder = _two_county_province(tmp_path / "mini")
    manifest = synthesize(
        SynthOptions(out=tmp_path / "out", province=str(folder), scale="tiny", seed=2, jobs=1)
    )
    assert manifest["counts"]["persons"] == 2000
    hospitals = pd.read_csv(tmp_path / "out/registry/hospitals.csv", dtype=str)
    assert set(hospitals["county_code"]) == {"330102", "330106"}
    persons = pd.read_csv(tmp_path / "out/truth/persons.csv", dtype=str)
    assert set(persons["county_code"]) == {"330102", "330106"}


def test_bad_population_file_names_file_row_and_field(tmp_path: Path):
    folder = _two_county_province(tmp_path / "bad")
    path = folder / "population.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ",many"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ProvinceDataError) as err:
        load_province(folder)
    assert err.value.file.endswith("population.csv")
    assert err.value.row == 2
    assert err.value.field == "population"
    assert "many" in str(err.value)


def test_unknown_province_says_what_exists():
    with pytest.raises(ProvinceDataError, match="zhejiang"):
        load_province("atlantis")
