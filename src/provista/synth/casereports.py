"""Notifiable-disease case reports (传染病报告卡) as the CDC's reporting system exports them, with
injected outbreaks.

Counts are drawn per disease, county and onset day: census population × national incidence
(``diseases.py``) × season × a fixed county effect × weekly over-dispersion, at
``case_fraction`` of the real population. Each case then gets a person, a diagnosis after onset
and a report after diagnosis (class A within 2 hours, B and C within 24 hours, a few late).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from provista.synth import catalogue
from provista.synth.calendar import months_of
from provista.synth.diseases import CASE_AGE_BANDS, CASE_CLASSES, DISEASES, REPORT_DEADLINE_HOURS
from provista.synth.hospitals import Hospital
from provista.synth.people import (
    EPOCH,
    Persons,
    id_keys,
    render_addresses,
    render_id_numbers,
    render_names,
    unique_sequences,
)
from provista.synth.province import AGE_GROUPS, Province

SECONDS_PER_DAY = 86_400
OUTBREAK_MIN_EXTRA = 8
OUTBREAK_GAP_DAYS = 45  # outbreaks end this long before the export, so that every case is reported


@dataclass(frozen=True)
class Outbreak:
    county: int
    disease: int
    start: int  # first onset day (days since 1970)
    end: int  # last onset day, inclusive
    extra_cases: int


def _band_population(province: Province) -> np.ndarray:
    """Population [county, sex, case age band] from the census' 5-year groups."""
    lows = np.array([int(g.split("-")[0].rstrip("+")) for g in AGE_GROUPS])
    band = np.searchsorted(np.array(CASE_AGE_BANDS), lows, side="right") - 1
    out = np.zeros((len(province.counties), 2, len(CASE_AGE_BANDS)))
    for b in range(len(CASE_AGE_BANDS)):
        out[:, :, b] = province.population[:, :, band == b].sum(axis=2)
    return out


def expected_daily(province: Province, days: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Expected onsets [disease, day, county] before over-dispersion and outbreaks."""
    rng = np.random.default_rng([seed, 5])
    pop = province.county_population.astype(float) * fraction
    month = months_of(days)
    years = (EPOCH + days.astype("timedelta64[D]")).astype("datetime64[Y]").astype(int)
    out = np.empty((len(DISEASES), len(days), len(pop)))
    band_pop = _band_population(province)
    for k, d in enumerate(DISEASES):
        season = np.asarray(d.season) / np.mean(d.season)
        county_effect = rng.lognormal(-(0.35**2) / 2, 0.35, len(pop))  # mean 1
        # Age structure: counties with more children have more hand-foot-mouth disease, and so on.
        age_mix = (band_pop.sum(axis=1) * np.asarray(d.age)).sum(axis=1) / band_pop.sum(axis=(1, 2))
        age_mix /= (age_mix * pop).sum() / pop.sum()
        sigma = 0.25 if d.outbreak_prone else 0.08
        year_effect = dict(
            zip(
                np.unique(years),
                rng.lognormal(-(sigma**2) / 2, sigma, len(np.unique(years))),  # mean 1
                strict=True,
            )
        )
        per_day = d.rate / 100_000 / 365.25 * season[month] * np.array([year_effect[y] for y in years])
        out[k] = per_day[:, None] * (pop * county_effect * age_mix)[None, :]
    return out


def choose_outbreaks(
    province: Province, expected: np.ndarray, days: np.ndarray, n: int, seed: int
) -> list[Outbreak]:
    """Outbreaks of outbreak-prone diseases in the last two years, weighted by county population."""
    rng = np.random.default_rng([seed, 6])
    prone = [k for k, d in enumerate(DISEASES) if d.outbreak_prone]
    weight = np.sqrt([DISEASES[k].rate for k in prone])
    pop = province.county_population.astype(float)
    first = max(0, len(days) - 2 * 365)
    last = len(days) - OUTBREAK_GAP_DAYS - 36
    chosen: list[Outbreak] = []
    while len(chosen) < n:
        k = prone[int(rng.choice(len(prone), p=weight / weight.sum()))]
        county = int(rng.choice(len(pop), p=pop / pop.sum()))
        start = int(rng.integers(first, last))
        length = int(rng.integers(7, 36))
        if any(
            o.county == county and o.disease == k and o.start - 60 < days[start] < o.end + 60 for o in chosen
        ):
            continue
        base = float(expected[k, start : start + length, county].sum())
        extra = max(OUTBREAK_MIN_EXTRA, round(rng.uniform(0.8, 2.0) * base))
        chosen.append(Outbreak(county, k, int(days[start]), int(days[start + length - 1]), extra))
    return chosen


def draw_onsets(
    expected: np.ndarray, days: np.ndarray, outbreaks: list[Outbreak], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Onset cases as (disease, day, county, outbreak index or -1) rows: Poisson with weekly gamma noise,
    plus outbreak cases."""
    rng = np.random.default_rng([seed, 7])
    n_weeks = -(-len(days) // 7)
    parts = []
    for k in range(len(DISEASES)):
        noise = rng.gamma(6.0, 1 / 6.0, (n_weeks, expected.shape[2]))
        counts = rng.poisson(expected[k] * np.repeat(noise, 7, axis=0)[: len(days)])
        day_idx, county = np.nonzero(counts)
        reps = counts[day_idx, county]
        parts.append(
            (
                np.full(reps.sum(), k),
                np.repeat(days[day_idx], reps),
                np.repeat(county, reps),
                np.full(reps.sum(), -1),
            )
        )
    for j, o in enumerate(outbreaks):
        length = o.end - o.start + 1
        offset = np.floor(rng.triangular(0, length * 0.4, length, o.extra_cases)).astype(np.int64)
        parts.append(
            (
                np.full(o.extra_cases, o.disease),
                o.start + np.minimum(offset, length - 1),
                np.full(o.extra_cases, o.county),
                np.full(o.extra_cases, j),
            )
        )
    disease = np.concatenate([p[0] for p in parts]).astype(np.int16)
    day = np.concatenate([p[1] for p in parts]).astype(np.int64)
    county = np.concatenate([p[2] for p in parts]).astype(np.int16)
    outbreak = np.concatenate([p[3] for p in parts]).astype(np.int32)
    return disease, day, county, outbreak


@dataclass
class CaseReports:
    """Every case of the window as NumPy arrays; ``frame(rows)`` renders the records of some of them.

    People are drawn for all cases at once (so that ID numbers are unique across years) and rendered to
    text a year at a time, which bounds memory at any scale.
    """

    province: Province
    hospitals: list[Hospital]
    persons: Persons
    disease: np.ndarray
    onset: np.ndarray
    outbreak: np.ndarray
    ages: np.ndarray
    diagnosis_s: np.ndarray
    report_s: np.ndarray
    unit: np.ndarray
    occupation: np.ndarray
    case_class: np.ndarray

    @classmethod
    def draw(
        cls,
        province: Province,
        hospitals: list[Hospital],
        residents: Persons,
        disease: np.ndarray,
        onset: np.ndarray,
        county: np.ndarray,
        outbreak: np.ndarray,
        window_end: int,
        seed: int,
    ) -> CaseReports:
        """Draw each case's person, delays and reporting unit; keep the cases reported before the end."""
        rng = np.random.default_rng([seed, 8])
        n = len(disease)
        band_pop = _band_population(province)
        # Age band and sex given disease and county: population × the disease's age and sex profile.
        ages = np.empty(n, dtype=np.int64)
        sex = np.empty(n, dtype=np.int8)
        for k, d in enumerate(DISEASES):
            sel = np.flatnonzero(disease == k)
            if not len(sel):
                continue
            weights = band_pop[county[sel]].sum(axis=1) * np.asarray(d.age)[None, :]
            cum = np.cumsum(weights, axis=1) / weights.sum(axis=1, keepdims=True)
            band = (rng.random(len(sel))[:, None] > cum).sum(axis=1)
            lo = np.array(CASE_AGE_BANDS)[band]
            hi = np.append(np.array(CASE_AGE_BANDS)[1:], 90)[band]
            ages[sel] = rng.integers(lo, hi)
            sex[sel] = (rng.random(len(sel)) >= d.male_share).astype(np.int8)
        birth = (onset - ages * 365.25 - rng.integers(0, 365, n)).astype(np.int32)
        given_len = np.array([len(catalogue.GIVEN_MALE), len(catalogue.GIVEN_FEMALE)])
        surname_p = np.array([p for _, p in catalogue.SURNAMES])
        persons = Persons(
            county=county,
            sex=sex,
            birth=birth,
            surname=rng.choice(len(catalogue.SURNAMES), size=n, p=surname_p / surname_p.sum()).astype(
                np.int16
            ),
            given1=rng.integers(0, given_len[sex]).astype(np.int16),
            given2=np.where(rng.random(n) < 0.82, rng.integers(0, given_len[sex]), -1).astype(np.int16),
            seq=unique_sequences(
                county, birth, sex, rng, taken=id_keys(residents.county, residents.birth, residents.seq)
            ),
            phone=(
                np.array(catalogue.PHONE_PREFIXES)[rng.integers(0, len(catalogue.PHONE_PREFIXES), n)]
                * 100_000_000
                + rng.integers(0, 100_000_000, n)
            ),
            road=rng.integers(0, len(catalogue.ROADS), n).astype(np.int16),
            house=rng.integers(1, 400, n).astype(np.int16),
            county_start=np.zeros(1, np.int64),
        )
        mean_delay = np.array([d.onset_to_diagnosis_days for d in DISEASES])[disease]
        diagnosis_s = (onset + np.floor(rng.gamma(1.5, mean_delay / 1.5))).astype(
            np.int64
        ) * SECONDS_PER_DAY + rng.integers(8 * 3600, 20 * 3600, n)
        deadline_h = np.array([REPORT_DEADLINE_HOURS[d.klass] for d in DISEASES])[disease]
        delay_h = np.where(
            rng.random(n) < 0.03,
            rng.uniform(1.0, 4.0, n) * deadline_h,
            rng.uniform(0.05, 0.9, n) * deadline_h,
        )
        report_s = diagnosis_s + (delay_h * 3600).astype(np.int64)
        unit = _reporting_units(province, hospitals, county, rng)
        occupation = _occupations(ages, rng)
        class_p = np.array([p for _, p in CASE_CLASSES])
        case_class = rng.choice(len(CASE_CLASSES), size=n, p=class_p)
        # The export holds what was reported before it was made; within a year, in order of report.
        keep = np.flatnonzero(report_s < window_end * SECONDS_PER_DAY)
        year = (EPOCH + onset[keep].astype("timedelta64[D]")).astype("datetime64[Y]").astype(int)
        keep = keep[np.lexsort((report_s[keep], year))]
        p = persons
        kept_persons = Persons(
            p.county[keep],
            p.sex[keep],
            p.birth[keep],
            p.surname[keep],
            p.given1[keep],
            p.given2[keep],
            p.seq[keep],
            p.phone[keep],
            p.road[keep],
            p.house[keep],
            p.county_start,
        )
        return cls(
            province,
            hospitals,
            kept_persons,
            disease[keep],
            onset[keep],
            outbreak[keep],
            ages[keep],
            diagnosis_s[keep],
            report_s[keep],
            unit[keep],
            occupation[keep],
            case_class[keep],
        )

    def by_onset_year(self) -> list[tuple[int, np.ndarray]]:
        years = (EPOCH + self.onset.astype("timedelta64[D]")).astype("datetime64[Y]").astype(int) + 1970
        return [(int(y), np.flatnonzero(years == y)) for y in np.unique(years)]

    def frame(self, rows: np.ndarray) -> pd.DataFrame:
        """The records of ``rows`` (canonical values, typed dates), as the reporting system holds them."""
        province, p = self.province, self.persons
        codes = [c.code for c in province.counties]
        county = p.county[rows]
        report_ts = self.report_s[rows].astype("datetime64[s]")
        years = report_ts.astype("datetime64[Y]").astype(int) + 1970
        return pd.DataFrame(
            {
                "report_id": [f"{y}{i + 1:09d}" for y, i in zip(years.tolist(), rows.tolist(), strict=True)],
                "name": render_names(p, rows),
                "id_number": render_id_numbers(p, rows, codes),
                "sex": np.where(p.sex[rows] == 0, "M", "F"),
                "birth_date": (EPOCH + p.birth[rows].astype("timedelta64[D]")).astype("datetime64[s]"),
                "age": self.ages[rows],
                "phone": p.phone[rows].astype(str),
                "occupation": self.occupation[rows],
                "address_code": np.array(codes)[county],
                "address": render_addresses(p, rows, province.places()),
                "case_class": np.array([c for c, _ in CASE_CLASSES])[self.case_class[rows]],
                "disease": np.array([d.name_zh for d in DISEASES])[self.disease[rows]],
                "onset_date": (EPOCH + self.onset[rows].astype("timedelta64[D]")).astype("datetime64[s]"),
                "diagnosis_ts": self.diagnosis_s[rows].astype("datetime64[s]"),
                "report_ts": report_ts,
                "reporting_unit": [self.hospitals[u].name_zh for u in self.unit[rows]],
                "reporting_unit_id": [self.hospitals[u].hospital_id for u in self.unit[rows]],
                "_disease": self.disease[rows],
                "_outbreak": self.outbreak[rows],
                "_person": [f"C{i + 1:09d}" for i in rows.tolist()],
            }
        )


def _reporting_units(
    province: Province, hospitals: list[Hospital], county: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """The hospital that reports a case: the county's secondary hospital, or a tertiary one in its city."""
    local = {h.county: i for i, h in reversed(list(enumerate(hospitals))) if h.level == "二级"}
    city: dict[str, list[int]] = {}
    for i, h in enumerate(hospitals):
        if h.level == "三级":
            city.setdefault(province.counties[h.county].city_code, []).append(i)
    out = np.array([local[int(c)] for c in county.tolist()])
    to_city = rng.random(len(county)) < 0.35
    for row in np.flatnonzero(to_city):
        options = city.get(province.counties[int(county[row])].city_code)
        if options:
            out[row] = options[int(rng.integers(len(options)))]
    return out


def _occupations(ages: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    adult = np.array(["农民", "工人", "家务及待业", "商业服务", "干部职员", "医务人员", "其他"])
    adult_p = np.array([0.3, 0.25, 0.15, 0.12, 0.1, 0.02, 0.06])
    old = np.array(["离退休人员", "农民", "家务及待业"])
    out = adult[rng.choice(len(adult), size=len(ages), p=adult_p)].astype(object)
    out[ages < 3] = "散居儿童"
    out[(ages >= 3) & (ages < 6)] = np.where(
        rng.random(((ages >= 3) & (ages < 6)).sum()) < 0.8, "幼托儿童", "散居儿童"
    )
    out[(ages >= 6) & (ages < 19)] = "学生"
    out[ages >= 60] = old[rng.choice(3, size=(ages >= 60).sum(), p=[0.5, 0.35, 0.15])]
    return out


def outbreak_frame(province: Province, outbreaks: list[Outbreak]) -> pd.DataFrame:
    """``truth/outbreaks.csv``: county_code, disease, start_date, end_date, extra_cases (+ disease_key)."""
    rows = sorted(outbreaks, key=lambda o: (o.start, province.counties[o.county].code, o.disease))
    return pd.DataFrame(
        {
            "county_code": [province.counties[o.county].code for o in rows],
            "disease": [DISEASES[o.disease].name_zh for o in rows],
            "start_date": [str(EPOCH + np.timedelta64(o.start, "D")) for o in rows],
            "end_date": [str(EPOCH + np.timedelta64(o.end, "D")) for o in rows],
            "extra_cases": [o.extra_cases for o in rows],
            "disease_key": [DISEASES[o.disease].key for o in rows],
        }
    )
