import numpy as np

from provista.synth.people import (
    allocate,
    generate_persons,
    id_check_char,
    is_valid_id_number,
    render_id_numbers,
    to_old_id15,
)
from provista.synth.province import load_province


def test_check_character_matches_the_gb11643_example():
    # The standard's worked example, 11010519491231002X. By hand: Σ digit × weight = 167,
    # 167 mod 11 = 2 → 'X'.
    digits = "11010519491231002"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    assert sum(int(d) * w for d, w in zip(digits, weights, strict=True)) == 167
    assert id_check_char(digits) == "X"
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")
    assert not is_valid_id_number("110105194912310021")  # wrong check character
    assert not is_valid_id_number("110105194913310028")  # month 13
    assert not is_valid_id_number("11010519491231002")  # too short


def test_old_15_digit_form_drops_century_and_check():
    assert to_old_id15("11010519491231002X") == "110105491231002"


def test_allocate_is_exact_and_proportional():
    counts = allocate(1000, np.array([1.0, 2.0, 3.0, 0.5]))
    assert counts.sum() == 1000
    assert np.abs(counts - 1000 * np.array([1, 2, 3, 0.5]) / 6.5).max() < 1


def test_generated_ids_are_valid_unique_and_encode_sex_and_county():
    province = load_province("zhejiang")
    persons = generate_persons(province, 20_000, np.datetime64("2020-11-01"), seed=3)
    rows = np.arange(len(persons))
    codes = [c.code for c in province.counties]
    ids = render_id_numbers(persons, rows, codes)
    assert all(is_valid_id_number(i) for i in ids)
    assert len(set(ids)) == len(ids)
    odd = np.array([int(i[16]) % 2 == 1 for i in ids])
    assert np.array_equal(odd, persons.sex == 0)  # odd sequence for men
    assert [i[:6] for i in ids[:5]] == [codes[c] for c in persons.county[:5]]
