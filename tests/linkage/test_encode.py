"""Keyed identity features: typos still meet, values never appear."""

from __future__ import annotations

import random

import pandas as pd

from provista.linkage.encode import (
    Encoder,
    deletion_neighbourhood,
    id_valid,
    normalise_id,
    readings,
    split_chinese_name,
)

KEY = bytes(range(32))


def near(a: str, b: str) -> bool:
    return bool(set(deletion_neighbourhood(a)) & set(deletion_neighbourhood(b)))


def test_deletion_neighbourhoods_meet_exactly_within_one_edit() -> None:
    assert near("330102198001011234", "330102198001011284")  # one substitution
    assert near("330102198001011234", "330102198001012134")  # adjacent transposition
    assert near("zhangwei", "zhangwe")  # deletion
    assert not near("330102198001011234", "330102198001011289")  # two substitutions
    assert not near("zhangwei", "wangwei1")


def test_neighbourhood_tokens_are_the_tokens_of_each_deletion_variant() -> None:
    """The vectorised neighbourhoods (prefix hashes, one cipher call) give, value by value and in order,
    the tokens of ``deletion_neighbourhood``'s variants: runs of equal characters give one variant, values
    under 4 or over 40 characters only their own token."""
    rnd = random.Random(7)
    alphabet = "aab1123张伟\x00😀"
    values = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 45))) for _ in range(2000)]
    values += ["", "abc", "abcd", "aaaa", "x" * 40, "x" * 41, "330102198001011234"]
    enc = Encoder(KEY)
    near = enc.near_tokens_of("phone", values).to_pylist()
    for value, tokens in zip(values, near, strict=True):
        variants = deletion_neighbourhood(value)
        assert tokens == enc.tokens("phone~", variants, 32).tolist(), value
        assert len(set(tokens)) == len(variants)
    # One token per distinct value, whatever its length; the field keeps equal values apart.
    tokens = enc.tokens("address", values)
    assert len(set(tokens.tolist())) == len(set(values))
    assert not set(tokens.tolist()) & set(enc.tokens("phone", values).tolist())


def test_id_numbers_15_and_18_digits_are_one_number() -> None:
    # GB 11643: the 15-digit form gains "19" and a check character.
    assert normalise_id("330102800101123") == "33010219800101123" + normalise_id("330102800101123")[-1]
    assert id_valid(normalise_id("330102800101123")) is True
    assert id_valid("11010519491231002X") is True
    assert id_valid("110105194912310021") is False
    assert id_valid("6988048") is None  # not a resident ID: no check to apply


def test_pinyin_readings_cover_polyphonic_surnames_and_latin_spellings() -> None:
    assert {"shan", "dan"} <= set(readings("单", surname=True))
    assert readings("张", surname=True) == readings("張", surname=True) == ["zhang"]
    assert readings("zhang", surname=True) == ["zhang"]
    assert split_chinese_name("欧阳靖") == ("欧阳", "靖")
    assert split_chinese_name("王伟") == ("王", "伟")


def test_features_hold_no_value_and_agree_across_scripts() -> None:
    frame = pd.DataFrame(
        {
            "unique_id": ["a", "b", "c"],
            "name": ["张伟", "張偉", "Wei Zhang"],
            "id_number": ["11010519491231002X", "110105491231002", None],
            "birth_date": ["1949-12-31", "1949年12月31日", None],
        }
    )
    f = Encoder(KEY).encode(frame)
    # Traditional and simplified Hanzi and Pinyin share a reading; 15 and 18 digits one ID token.
    assert set(f.loc[0, "surname_py"]) & set(f.loc[1, "surname_py"]) & set(f.loc[2, "surname_py"])
    assert f.loc[0, "id_number_t"] == f.loc[1, "id_number_t"]
    assert f.loc[0, "birth_date_t"] == f.loc[1, "birth_date_t"]  # 1949-12-31 = 1949年12月31日
    text = f.astype(str).to_string()
    for secret in ("张", "伟", "zhang", "1101051949", "19491231"):
        assert secret not in text
    # Another key, other tokens: without the key nothing can be recomputed.
    assert Encoder(bytes(32)).encode(frame).loc[0, "id_number_t"] != f.loc[0, "id_number_t"]


def test_a_valid_id_number_supplies_a_missing_birth_date_sex_and_county() -> None:
    frame = pd.DataFrame(
        {
            "unique_id": ["a", "b"],
            "id_number": ["11010519491231002X", "11010519491231002X"],
            "birth_date": [None, "1949-12-31"],
            "sex": [None, "女"],  # 17th digit 2: even, a woman
            "region": [None, "110105"],
        }
    )
    f = Encoder(KEY).encode(frame)
    for field in ("birth_date_t", "sex_t", "region_t"):
        assert f.loc[0, field] == f.loc[1, field], field


def test_id_numbers_in_any_spelling_or_type_are_encoded_as_one_by_one() -> None:
    """The column-at-a-time path (plain 18-character numbers) and the one-by-one path agree."""
    values = [
        "11010519491231002X",  # plain, valid
        "110105194912310021",  # plain, wrong check character
        "11010519491231002x",  # lower-case x
        " 11010519491231002X ",  # padded
        "１１０１０５１９４９１２３１００２Ｘ",  # full width
        "330102800101123",  # 15 digits
        "6988048",  # not a resident ID
        110105194912310020,  # a number, as a spreadsheet may give it
        None,
        float("nan"),
    ]
    frame = pd.DataFrame({"unique_id": [str(i) for i in range(len(values))], "id_number": values})
    f = Encoder(KEY).encode(frame)
    assert f["id_valid"].tolist() == [id_valid(normalise_id(v)) for v in values]
    one = Encoder(KEY).tokens("id_number", ["11010519491231002X"])[0]
    assert f.loc[[0, 2, 3, 4], "id_number_t"].tolist() == [one] * 4
