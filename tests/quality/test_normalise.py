import numpy as np
import pandas as pd
import pytest

from provista.quality.normalise import (
    looks_like_mojibake,
    normalise_icd10,
    normalise_id_number,
    normalise_region,
    normalise_sex,
    normalise_unit,
    parse_datetimes,
    to_halfwidth,
)
from provista.synth.inject import UNKNOWN_ICD10, mojibake
from provista.synth.people import generate_persons, render_addresses, render_names
from provista.synth.province import load_province
from provista.synth.vendors import spell_icd10


@pytest.mark.parametrize(
    ("sent", "code", "national"),
    [
        ("J18.9", "J18.9", None),
        ("J189", "J18.9", None),
        ("j189", "J18.9", None),
        (" J18.9 ", "J18.9", None),
        ("J18.900x001", "J18.9", "J18.900x001"),
        ("I10.x00x001", "I10", "I10.x00x001"),
        ("I10", "I10", None),
        ("Ｊ１８．９", "J18.9", None),
        ("A01.0", "A01.0", None),
        ("A01.000x001", "A01.0", "A01.000x001"),
        ("N40", "N40", None),
        ("A17.0†", "A17.0", None),
    ],
)
def test_icd10_spellings_are_repaired(sent: str, code: str, national: str | None):
    result = normalise_icd10(sent)
    assert result is not None and (result.code, result.national) == (code, national)


@pytest.mark.parametrize("sent", [*UNKNOWN_ICD10, "", "J1", "123", "Z99.99", "hello"])
def test_codes_outside_icd10_are_refused(sent: str):
    assert normalise_icd10(sent) is None


def test_every_vendor_spelling_of_every_catalogue_code_round_trips():
    from provista.synth.catalogue import DIAGNOSES

    for d in DIAGNOSES:
        for style in ("dotted", "compact", "clinical", "lower"):
            result = normalise_icd10(spell_icd10(d.icd10, style))
            assert result is not None and result.code == d.icd10, (d.icd10, style)


def test_id_numbers():
    assert normalise_id_number("11010519491231002X") == ("11010519491231002X", False)
    assert normalise_id_number(" 11010519491231002x ") == ("11010519491231002X", False)
    assert normalise_id_number("110105491231002") == ("11010519491231002X", True)  # 15 → 18 digits
    assert normalise_id_number("110105194912310021") == (None, False)  # wrong check character
    assert normalise_id_number("110105194902300029")[0] is None  # 30 February
    assert normalise_id_number("") == (None, False)


def test_sex_codes():
    assert [normalise_sex(v) for v in ["男", "女", "M", "f", "male", "1", "2", "男性", "?", ""]] == [
        "M",
        "F",
        "M",
        "F",
        "M",
        "M",
        "F",
        "M",
        None,
        None,
    ]


def test_dates_in_every_source_format():
    parsed = parse_datetimes(
        pd.Series(
            [
                "2025/01/03 08:30",
                "2025-01-03 08:30:00",
                "19800101",
                "2024年3月5日",
                "2024年3月5日 08:30",
                "2025-01-03T08:30:00+08:00",
                "2025-01-03T00:30:00Z",
                "45000.5",
                "2025-01-03",
                None,
                "garbage",
                "2025-02-30",
                "45000",
                "2024-03",
                "2024-03-05 08:30:00.000",
            ]
        )
    )
    expected = [
        "2025-01-03 08:30",
        "2025-01-03 08:30",
        "1980-01-01",
        "2024-03-05",
        "2024-03-05 08:30",
        "2025-01-03 08:30",
        "2025-01-03 08:30",
        "2023-03-15 12:00",
        "2025-01-03",
        None,
        None,
        None,
        None,
        "2024-03-01",
        "2024-03-05 08:30",
    ]
    assert [None if pd.isna(v) else v for v in parsed] == [
        None if e is None else pd.Timestamp(e) for e in expected
    ]


def test_units_convert_to_the_canonical_unit():
    glucose = normalise_unit("2345-7", 108.1, "mg/dL")
    assert glucose is not None and glucose[1] == "mmol/L" and glucose[0] == pytest.approx(6.0, abs=0.001)
    fever = normalise_unit("8310-5", 100.4, "[degF]")
    assert fever is not None and fever[0] == pytest.approx(38.0) and fever[1] == "Cel"
    assert normalise_unit("718-7", 13.2, "g/dL") == pytest.approx((132.0, "g/L"))
    assert normalise_unit("2345-7", 6.0, "furlongs") is None
    assert normalise_unit("2345-7", 6.0, "mmol/l") == (6.0, "mmol/L")


def test_region_codes_across_vintages():
    current = {"330112", "330102"}
    outdated = {"330185": "330112"}
    assert normalise_region("330102", current, outdated) == ("330102", False)
    assert normalise_region("330185", current, outdated) == ("330112", True)
    assert normalise_region("339999", current, outdated) == (None, False)
    assert normalise_region("3301021", current, outdated) == (None, False)
    assert normalise_region("330102abc", current, outdated) == (None, False)
    assert normalise_region("330102001000", current, outdated) == ("330102", False)  # a town code


def test_halfwidth():
    assert to_halfwidth("ＡＢＣ１２３，　") == "ABC123, "


def test_mojibake_is_told_from_real_names_and_addresses():
    province = load_province("zhejiang")
    persons = generate_persons(province, 20_000, np.datetime64("2020-11-01"), seed=11)
    rows = np.arange(len(persons))
    texts = render_names(persons, rows) + render_addresses(persons, rows, province.places())
    assert not any(looks_like_mojibake(t) for t in texts)
    assert all(looks_like_mojibake(mojibake(t)) for t in texts)
    assert looks_like_mojibake("鐜嬩紵")  # 王伟, UTF-8 read as GBK
    assert not looks_like_mojibake("John Smith")
