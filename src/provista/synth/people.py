"""Synthetic residents: numeric attributes drawn from the census, rendered to text only when written.

A person is a row of small integers (county, sex, birth day, name indices, ID sequence, phone, address),
so that millions fit in memory; names, resident ID numbers (GB 11643) and addresses are rendered for the
rows a file needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from provista.synth import catalogue
from provista.synth.province import AGE_GROUPS, Province

EPOCH = np.datetime64("1970-01-01", "D")
# GB 11643 (ISO 7064 MOD 11-2) weights and check characters.
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK = "10X98765432"
_WEIGHTS = tuple(ID_WEIGHTS.tolist())

_SURNAMES = [s for s, _ in catalogue.SURNAMES]
_SURNAME_P = np.array([p for _, p in catalogue.SURNAMES]) / sum(p for _, p in catalogue.SURNAMES)
_GIVEN = (catalogue.GIVEN_MALE, catalogue.GIVEN_FEMALE)


def id_check_char(first17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits of a resident ID number."""
    total = sum(map(int.__mul__, map(int, first17), _WEIGHTS))
    return ID_CHECK[total % 11]


def is_valid_id_number(value: str) -> bool:
    """True for an 18-character resident ID number with a valid birth date and check character."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    try:
        np.datetime64(f"{value[6:10]}-{value[10:12]}-{value[12:14]}", "D")
    except ValueError:
        return False
    return id_check_char(value[:17]) == value[17].upper()


def to_old_id15(id18: str) -> str:
    """The 15-digit form used before 1999: no century in the birth date and no check character."""
    return id18[:6] + id18[8:17]


@dataclass
class Persons:
    """All residents of the synthetic province, as parallel NumPy arrays."""

    county: np.ndarray  # int16 index into Province.counties
    sex: np.ndarray  # int8: 0 male, 1 female
    birth: np.ndarray  # int32 days since 1970-01-01
    surname: np.ndarray  # int16 index into catalogue.SURNAMES
    given1: np.ndarray  # int16 index into the sex's given-name characters
    given2: np.ndarray  # int16, -1 for a one-character given name
    seq: np.ndarray  # int16 ID sequence number; odd for men, even for women
    phone: np.ndarray  # int64
    road: np.ndarray  # int16 index into catalogue.ROADS
    house: np.ndarray  # int16 house number
    county_start: np.ndarray  # persons of county i are rows county_start[i]:county_start[i+1]

    def __len__(self) -> int:
        return len(self.county)

    def age_on(self, day: np.datetime64, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Age in whole years on ``day`` for the given rows."""
        births = (EPOCH + self.birth[rows].astype("timedelta64[D]")).astype("datetime64[D]")
        years = day.astype("datetime64[Y]").astype(int) - births.astype("datetime64[Y]").astype(int)

        def month_day(d: np.ndarray) -> np.ndarray:
            month = d.astype("datetime64[M]")
            return (month.astype(int) % 12) * 100 + (d - month).astype(int)

        had_birthday = month_day(np.asarray(day)) >= month_day(births)
        return (years - (~had_birthday)).astype(np.int16)


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder, deterministic)."""
    share = weights / weights.sum() * total
    counts = np.floor(share).astype(np.int64)
    rest = total - counts.sum()
    if rest:
        counts[np.argsort(-(share - counts), kind="stable")[:rest]] += 1
    return counts


def generate_persons(province: Province, n: int, reference_day: np.datetime64, seed: int) -> Persons:
    """Draw ``n`` residents: counties in proportion to the census, sex and age from each county's pyramid."""
    rng = np.random.default_rng([seed, 1])
    per_county = allocate(n, province.county_population.astype(float))
    county = np.repeat(np.arange(len(province.counties), dtype=np.int16), per_county)
    sex = np.empty(n, dtype=np.int8)
    group = np.empty(n, dtype=np.int16)
    start = 0
    for i, k in enumerate(per_county):
        cells = province.population[i].ravel().astype(float)
        draw = rng.choice(cells.size, size=k, p=cells / cells.sum())
        sex[start : start + k], group[start : start + k] = np.divmod(draw, len(AGE_GROUPS))
        start += k
    years = group * 5 + rng.integers(0, 5, n)
    old = group == len(AGE_GROUPS) - 1
    years[old] = 85 + np.minimum(rng.exponential(4.5, old.sum()).astype(int), 19)
    ref_days = (reference_day - EPOCH).astype(int)
    birth = (ref_days - years * 365.25 - rng.integers(0, 365, n)).astype(np.int32)
    given_len = np.array([len(g) for g in _GIVEN])
    given1 = rng.integers(0, given_len[sex])
    given2 = np.where(rng.random(n) < 0.82, rng.integers(0, given_len[sex]), -1)
    seq = unique_sequences(county, birth, sex, rng)
    phone = np.array(catalogue.PHONE_PREFIXES)[
        rng.integers(0, len(catalogue.PHONE_PREFIXES), n)
    ] * 100_000_000 + rng.integers(0, 100_000_000, n)
    return Persons(
        county=county,
        sex=sex,
        birth=birth,
        surname=rng.choice(len(_SURNAMES), size=n, p=_SURNAME_P).astype(np.int16),
        given1=given1.astype(np.int16),
        given2=given2.astype(np.int16),
        seq=seq,
        phone=phone.astype(np.int64),
        road=rng.integers(0, len(catalogue.ROADS), n).astype(np.int16),
        house=rng.integers(1, 400, n).astype(np.int16),
        county_start=np.concatenate([[0], np.cumsum(per_county)]),
    )


def id_keys(county: np.ndarray, birth: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """One integer per ID number body (county, birth date, sequence), for uniqueness checks."""
    return (county.astype(np.int64) * 100_000 + birth) * 1000 + seq


def unique_sequences(
    county: np.ndarray,
    birth: np.ndarray,
    sex: np.ndarray,
    rng: np.random.Generator,
    taken: np.ndarray | None = None,
) -> np.ndarray:
    """ID sequence numbers (odd for men, even for women) unique within county and birth date, and
    different from the ID numbers in ``taken`` (``id_keys`` of people drawn before)."""
    seq = (rng.integers(0, 500, len(county)) * 2 + (sex == 0)).astype(np.int64)
    taken = np.zeros(0, np.int64) if taken is None else taken
    while True:
        key = id_keys(county, birth, seq)
        order = np.argsort(key, kind="stable")
        clash = np.zeros(len(key), dtype=bool)
        clash[order[1:]] = key[order[1:]] == key[order[:-1]]
        clash |= np.isin(key, taken)
        if not clash.any():
            return seq.astype(np.int16)
        seq[clash] = (seq[clash] + 2) % 1000


def render_names(p: Persons, rows: np.ndarray) -> list[str]:
    surnames, male, female = _SURNAMES, _GIVEN[0], _GIVEN[1]
    out = []
    for s, sx, g1, g2 in zip(
        p.surname[rows].tolist(),
        p.sex[rows].tolist(),
        p.given1[rows].tolist(),
        p.given2[rows].tolist(),
        strict=True,
    ):
        chars = female if sx else male
        out.append(surnames[s] + chars[g1] + (chars[g2] if g2 >= 0 else ""))
    return out


def render_id_numbers(p: Persons, rows: np.ndarray, county_codes: list[str]) -> list[str]:
    """Valid 18-character resident ID numbers: county code, birth date, sequence, MOD 11-2 check."""
    births = (EPOCH + p.birth[rows].astype("timedelta64[D]")).astype(str)
    out = []
    for c, b, s in zip(p.county[rows].tolist(), births.tolist(), p.seq[rows].tolist(), strict=True):
        body = f"{county_codes[c]}{b[:4]}{b[5:7]}{b[8:10]}{s:03d}"
        out.append(body + id_check_char(body))
    return out


def render_addresses(p: Persons, rows: np.ndarray, places: list[str]) -> list[str]:
    """Street addresses: the county's place name (``Province.places``), a road and a house number."""
    roads = catalogue.ROADS
    return [
        f"{places[c]}{roads[r]}{h}号"
        for c, r, h in zip(
            p.county[rows].tolist(), p.road[rows].tolist(), p.house[rows].tolist(), strict=True
        )
    ]
