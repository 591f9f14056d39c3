"""Identity fields → keyed comparison features: what the linker compares instead of names and numbers.

Linkage must tolerate typos, but the warehouse may not hold a name or an ID number. So each identity field
is replaced by keyed tokens (BLAKE2b with the pseudonym key, one personalisation per field) that still
answer the linker's questions:

- ``<field>_t``: one token of the normalised value — equal tokens mean equal values (exact match, and the
  term frequencies that make 王伟 weaker evidence than 欧阳靖);
- ``<field>_near``: tokens of the value and of every variant with one character deleted (the deletion
  neighbourhood). Two values share a token exactly when one substitution, one adjacent transposition, one
  insertion or one deletion turns one into the other: a typo, without the characters ever being stored;
- ``<field>_py`` for names: tokens of each Pinyin reading (toneless; every reading of a polyphonic surname
  such as 单 shan/dan), so 张伟 and 張偉 and "Zhang Wei" agree at the Pinyin level.

Without the key none of the tokens can be recomputed from a guessed name, which is what keeps a dictionary
attack off the warehouse (see docs/security.md once it exists).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pypinyin import Style, pinyin

from provista.quality.normalise import by_distinct, id18_checks, is_plain_id18
from provista.synth.people import id_check_char

# Chinese compound surnames (复姓) that split a full name differently from the usual first character.
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "令狐",
        "夏侯",
        "端木",
        "西门",
        "南宫",
        "独孤",
        "百里",
        "呼延",
        "轩辕",
        "澹台",
        "公冶",
        "太史",
        "申屠",
        "万俟",
        "闻人",
        "赫连",
        "钟离",
        "宗政",
        "濮阳",
        "单于",
        "歐陽",
        "諸葛",
        "司馬",
        "東方",
        "長孫",
    }
)
MAX_NEAR_LENGTH = 40
# Below this length one edit is most of the value: "wang" and "wan" are not a typo of each other.
MIN_NEAR_LENGTH = 4
MAX_READINGS = 4
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NOT_WORD = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Field:
    """One identity field: its canonical name and which features it gets."""

    name: str
    near: bool = True
    pinyin: bool = False


# Every field the linker knows, in the order of the comparisons. A source provides any subset.
FIELDS: tuple[Field, ...] = (
    Field("surname", pinyin=True),
    Field("given_name", pinyin=True),
    Field("id_number"),
    Field("birth_date"),
    Field("sex", near=False),
    Field("phone"),
    Field("region"),
    Field("locality"),
    Field("address"),
    Field("street_number", near=False),
    Field("state", near=False),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}


def normalise_text(value: object) -> str | None:
    """Full-width → half-width, lower case, no spaces or punctuation; None for an empty value."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = unicodedata.normalize("NFKC", str(value)).lower()
    text = _NOT_WORD.sub("", text)
    return text or None


@lru_cache(maxsize=1 << 18)  # a record's number is normalised for its token and to fill its fields
def normalise_id(value: object) -> str | None:
    """An ID number as upper-case digits and X; 15-digit numbers become their 18-digit form."""
    text = normalise_text(value)
    if text is None:
        return None
    text = text.upper()
    if len(text) == 15 and text.isdigit():
        body = text[:6] + "19" + text[6:]
        return body + id_check_char(body)
    return text


@lru_cache(maxsize=1 << 18)
def id_valid(text: str | None) -> bool | None:
    """True or False for an 18-character resident ID number by its MOD 11-2 check; None for others."""
    if text is None or len(text) != 18 or not text[:17].isdigit():
        return None
    return id_check_char(text[:17]) == text[17]


def normalise_date(value: object) -> str | None:
    """A date as YYYYMMDD text (kept even when invalid, e.g. 19371233: the digits still compare)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).strftime("%Y%m%d")
    digits = re.sub(r"\D", "", str(value))
    return digits or None


def split_chinese_name(full: str) -> tuple[str, str]:
    """(surname, given name) of a Hanzi name; compound surnames take two characters."""
    n = 2 if full[:2] in COMPOUND_SURNAMES and len(full) > 2 else 1
    return full[:n], full[n:]


def readings(text: str, surname: bool) -> list[str]:
    """Toneless Pinyin readings of a name; Latin text is its own reading."""
    return list(_readings(text, surname))


@lru_cache(maxsize=200_000)
def _readings(text: str, surname: bool) -> tuple[str, ...]:
    if not _CJK.search(text):
        return (text,)
    per_char = pinyin(text, style=Style.NORMAL, heteronym=True, errors="default")
    if not surname:
        per_char = [c[:1] for c in per_char]
    options = ["".join(p) for p in itertools.islice(itertools.product(*per_char), MAX_READINGS)]
    return tuple(dict.fromkeys(options))


def deletion_neighbourhood(text: str) -> list[str]:
    """The text and every variant with one character deleted (none for very short or long texts)."""
    if not MIN_NEAR_LENGTH <= len(text) <= MAX_NEAR_LENGTH:
        return [text]
    return list(dict.fromkeys([text, *(text[:i] + text[i + 1 :] for i in range(len(text)))]))


# The token scheme: tokens of one scheme never equal another's, so a warehouse takes loads of its own only.
TOKEN_SCHEME = "aes128-poly3"
# Three primes below 2**31: a value's code points give three independent polynomial hashes (93 bits), so
# the products of a hash and a power stay within 64 bits.
_PRIMES = np.array([2147483647, 2147483629, 2147483587], dtype=np.uint64)
# Values hashed per step: bounds the code point and prefix matrices (values x length x 3 hashes).
_CHUNK = 8_192


class Encoder:
    """Keyed tokens of identity values. 64-bit tokens for equality; 32-bit for the neighbourhoods.

    A token is AES-128 (a key per field) of a 16-byte block: three polynomial hashes of the value's code
    points and its length. The polynomial hashes of a value's one-deletion variants follow from its
    prefix hashes, so a whole batch of neighbourhoods is computed with numpy, and AES encrypts all the
    blocks in one call: no Python step per token. Without the key the block's cipher cannot be computed:
    a guessed name or number cannot be turned into its token.
    """

    def __init__(self, key: bytes) -> None:
        self._key = hashlib.sha256(b"provista-linkage\x1f" + key).digest()
        seed = np.frombuffer(hashlib.sha256(self._key + b"\x1fpolynomial").digest()[:12], dtype="<u4")
        # Bases in [2**16, p): secret too, though the cipher alone keeps the tokens from being recomputed.
        self._bases = seed.astype(np.uint64) % (_PRIMES - np.uint64(1 << 16)) + np.uint64(1 << 16)
        self._powers = np.ones((1, 3), dtype=np.uint64)
        self._ciphers: dict[tuple[str, int], Any] = {}

    def _power(self, upto: int) -> np.ndarray:
        """bases**k mod p for k = 0..upto, shape (upto + 1, 3)."""
        while len(self._powers) <= upto:
            self._powers = np.vstack([self._powers, self._powers[-1] * self._bases % _PRIMES])
        return self._powers[: upto + 1]

    def _hashes(
        self, values: Sequence[str], keep: int = 0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The values' code points + 1 (n, width), lengths (n,), polynomial hashes (n, 3), and the prefix
        hashes of their first ``keep`` characters (n, keep + 1, 3)."""
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        width = max(int(lengths.max(initial=0)), 1)
        # numpy pads with code point 0; +1 keeps a real U+0000 apart from "nothing" in the sums.
        points = np.array(values, dtype=f"<U{width}").view(np.uint32).reshape(len(values), width)
        points = points.astype(np.uint64) + np.uint64(1)
        prefix = np.zeros((len(values), min(keep, width) + 1, 3), dtype=np.uint64)
        rolling = np.zeros((len(values), 3), dtype=np.uint64)
        whole = np.zeros((len(values), 3), dtype=np.uint64)
        for j in range(width):
            rolling = (rolling * self._bases + points[:, j, None]) % _PRIMES
            if j < keep:
                prefix[:, j + 1] = rolling
            ends = lengths == j + 1
            whole[ends] = rolling[ends]
        return points, lengths, whole, prefix

    def _cipher(self, field: str, bits: int, hashes: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The tokens (signed, ``bits`` wide) of blocks made of three hashes and a length each."""
        encryptor = self._ciphers.get((field, bits))
        if encryptor is None:
            key = hashlib.sha256(self._key + f"\x1f{field}\x1f{bits}".encode()).digest()[:16]
            # ECB on purpose: each block is one value's token, equal values must give equal tokens.
            encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
            self._ciphers[(field, bits)] = encryptor
        blocks = np.empty((len(lengths), 4), dtype="<u4")
        blocks[:, :3] = hashes
        blocks[:, 3] = lengths
        sealed = np.frombuffer(encryptor.update(blocks.tobytes()), dtype=np.uint8).reshape(-1, 16)
        return np.ascontiguousarray(sealed[:, : bits // 8]).view(f"<i{bits // 8}").ravel()

    def tokens(self, field: str, values: Sequence[str], bits: int = 64) -> np.ndarray:
        """The tokens of many values at once."""
        out = [np.empty(0, dtype=f"<i{bits // 8}")]
        for at in range(0, len(values), _CHUNK):
            _, lengths, whole, _ = self._hashes(values[at : at + _CHUNK])
            out.append(self._cipher(field, bits, whole, lengths))
        return np.concatenate(out)

    def near_tokens_of(self, field: str, values: Sequence[str]) -> pa.ListArray:
        """Each value's deletion neighbourhood (as ``deletion_neighbourhood``), tokens in one batch. Names
        by their first Pinyin reading: a Hanzi typo is one letter or a whole syllable apart."""
        if FIELD_BY_NAME[field].pinyin:
            values = [readings(v, surname=field == "surname")[0] for v in values]
        counts, parts = [], []
        for at in range(0, len(values), _CHUNK):
            count, flat = self._neighbourhoods(field + "~", values[at : at + _CHUNK])
            counts.append(count)
            parts.append(flat)
        offsets = np.concatenate([[0], np.cumsum(np.concatenate([np.empty(0, np.int64), *counts]))])
        flat = np.concatenate([np.empty(0, np.int32), *parts])
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(flat, pa.int32()))

    def _neighbourhoods(self, field: str, values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Tokens per value (counts) and all tokens (flat): the value, then each distinct variant with
        one character deleted, for values of MIN_NEAR_LENGTH to MAX_NEAR_LENGTH characters."""
        points, m, whole, prefix = self._hashes(values, keep=MAX_NEAR_LENGTH)
        n, width = len(m), prefix.shape[1] - 1  # variants only of values up to MAX_NEAR_LENGTH long
        rows = np.arange(n)[:, None]
        at = np.arange(width)[None, :]
        # Deleting position i: prefix hash of [0, i) shifted past the rest, plus the hash of [i+1, m).
        tail_power = self._power(points.shape[1])[np.clip(m[:, None] - 1 - at, 0, None)]  # b**(m-1-i)
        tail = (whole[:, None, :] + _PRIMES - prefix[rows, at + 1] * tail_power % _PRIMES) % _PRIMES
        variants = (prefix[rows, at] * tail_power + tail) % _PRIMES
        near = ((m >= MIN_NEAR_LENGTH) & (m <= MAX_NEAR_LENGTH))[:, None]
        # Deleting any character of a run of equal ones gives one variant: keep the run's first.
        first_of_run = np.ones((n, width), dtype=bool)
        first_of_run[:, 1:] = points[:, 1:width] != points[:, : width - 1]
        keep = np.concatenate([np.ones((n, 1), dtype=bool), near & (at < m[:, None]) & first_of_run], axis=1)
        hashes = np.concatenate([whole[:, None, :], variants], axis=1)[keep]
        lengths = np.concatenate([m[:, None], np.broadcast_to(m[:, None] - 1, (n, width))], axis=1)[keep]
        return keep.sum(axis=1), self._cipher(field, 32, hashes, lengths)

    def pinyin_tokens_of(self, field: str, values: Sequence[str]) -> pa.ListArray:
        """Each value's Pinyin readings, shared by surname and given name (swapped names are recognised)."""
        lists = [readings(v, surname=field == "surname") for v in values]
        flat = self.tokens("py", [r for values in lists for r in values], 64)
        offsets = np.concatenate([[0], np.cumsum([len(r) for r in lists], dtype=np.int64)])
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(flat, pa.int64()))

    def encode(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Canonical identity columns (any subset of FIELDS, plus ``unique_id``) → feature columns.

        ``surname`` and ``given_name`` may instead come as one ``name`` column: a Hanzi name is split at
        its surname; a Latin one at its last space (family name last).
        """
        src = frame.copy()
        if "name" in src and "surname" not in src:
            src["surname"], src["given_name"] = _split_names(src.pop("name"))
        if "id_number" in src:
            ids, checks = _ids_checked(src["id_number"])
            _fill_from_id(src, ids, checks == True)  # noqa: E712 - elementwise, None is not True
        out = pd.DataFrame({"unique_id": src["unique_id"].astype(str).to_numpy()})
        for field in FIELDS:
            if field.name not in src:
                continue
            norm = ids if field.name == "id_number" else _normalised(field.name, src[field.name])
            out[f"{field.name}_t"] = _per_distinct(norm, partial(self.tokens, field.name))
            if field.near:
                out[f"{field.name}_near"] = _per_distinct(
                    norm, partial(self.near_tokens_of, field.name), pa.list_(pa.int32())
                )
            if field.pinyin:
                out[f"{field.name}_py"] = _per_distinct(
                    norm, partial(self.pinyin_tokens_of, field.name), pa.list_(pa.int64())
                )
            if field.name == "id_number":
                out["id_valid"] = checks
            if field.name == "birth_date":
                out["birth_ym_t"] = _per_distinct(
                    norm, lambda vs: self.tokens("birth_ym", [v[:6] for v in vs])
                )
        if "surname" in src and "given_name" in src:
            full = (
                _normalised("surname", src["surname"]).fillna("")
                + "\x1f"
                + _normalised("given_name", src["given_name"]).fillna("")
            )
            out["name_t"] = _per_distinct(full.where(full != "\x1f"), partial(self.tokens, "name"))
        return out


def _fill_from_id(src: pd.DataFrame, ids: pd.Series, valid: pd.Series) -> None:
    """A valid resident ID number carries birth date, sex and county: fill them where a record lacks them."""
    if not valid.any():
        return
    derived = {
        "birth_date": ids.str[6:14],
        "sex": ids.str[16].map(lambda d: "m" if int(d) % 2 else "f", na_action="ignore"),
        "region": ids.str[:6],
    }
    for field, values in derived.items():
        if field not in src:
            src[field] = None
        missing = src[field].isna() & valid
        src.loc[missing, field] = values[missing]


def _ids_checked(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``normalise_id`` of each value, and ``id_valid`` of that (True, False or None): numbers already in
    the canonical form (as the loader's cleaning leaves them) are checked a column at a time."""
    text = values.to_numpy(dtype=object)
    plain = is_plain_id18(text)
    ids = np.empty(len(text), dtype=object)
    checks = np.empty(len(text), dtype=object)
    at = np.flatnonzero(plain)
    ids[at] = text[at]
    checks[at] = id18_checks(text[at])[0].tolist()  # Python bools, as id_valid gives
    for i in np.flatnonzero(~plain):
        ids[i] = normalise_id(text[i])
        checks[i] = id_valid(ids[i])
    return pd.Series(ids, index=values.index, dtype=object), pd.Series(
        checks, index=values.index, dtype=object
    )


def _split_names(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    def split(value: object) -> tuple[str | None, str | None]:
        text = normalise_text(value) if value is not None else None
        if text is None:
            return None, None
        raw = unicodedata.normalize("NFKC", str(value)).strip()
        if _CJK.search(text):
            return split_chinese_name(text)
        parts = raw.lower().rsplit(" ", 1)
        return (parts[1], parts[0]) if len(parts) == 2 else (parts[0], None)

    pairs = [split(v) for v in names.tolist()]
    return (
        pd.Series([p[0] for p in pairs], index=names.index, dtype=object),
        pd.Series([p[1] for p in pairs], index=names.index, dtype=object),
    )


def _normalised(field: str, values: pd.Series) -> pd.Series:
    fn: Callable[[object], str | None] = (
        normalise_id if field == "id_number" else normalise_date if field == "birth_date" else normalise_text
    )
    if field == "sex":
        fn = _normalise_sex
    return by_distinct(values, fn)


def _normalise_sex(value: object) -> str | None:
    text = normalise_text(value)
    return {"男": "m", "1": "m", "male": "m", "女": "f", "2": "f", "female": "f"}.get(text or "", text)


def _per_distinct(values: pd.Series, fn: Callable[[list[str]], Any], kind: Any = None) -> pd.Series:
    """``fn`` of the distinct non-null values, called once with all of them; null stays null.

    The column is Arrow-backed (``kind``: 64-bit tokens by default): a record's token lists are a few
    bytes each there, against a Python list of Python integers (about 1 KB) — millions of identity
    records pass from the loading workers to the warehouse.
    """
    codes, distinct = pd.factorize(values.astype(object), use_na_sentinel=True)
    kind = kind if kind is not None else pa.int64()
    made = fn([str(v) for v in distinct])
    table = made if isinstance(made, pa.Array) else pa.array(made, type=kind)
    picked = table.take(pa.array(codes, mask=codes < 0, type=pa.int64()))
    return pd.Series(picked, index=values.index, dtype=pd.ArrowDtype(kind))
