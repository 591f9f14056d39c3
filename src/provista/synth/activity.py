"""What happens in one hospital over the window: visits, diagnoses, operations, labs, prescriptions,
the midnight bed census and large-equipment use. Returns canonical frames (English columns, SI units,
dotted ICD-10 codes); vendor styles and injected errors are applied later.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from provista.synth import catalogue
from provista.synth.calendar import months_of, visit_day_weights, weekdays_of
from provista.synth.catalogue import DIAGNOSES, DX_AGE_BANDS, LABS
from provista.synth.hospitals import Hospital, tier_draw
from provista.synth.people import EPOCH, Persons

WARM_UP_DAYS = 45  # admissions simulated before the window so that the census starts full
SECONDS_PER_DAY = 86_400
LEVEL_INPATIENT = {"三级": 1.0, "二级": 0.8, "一级": 0.15, "社区": 0.0}
LEVEL_EMERGENCY = {"三级": 1.0, "二级": 1.0, "一级": 0.4, "社区": 0.0}
LEVEL_COST = {"三级": 1.4, "二级": 1.0, "一级": 0.6, "社区": 0.45}
CHRONIC = {"I10", "E11.9", "E78.5", "I25.1", "B18.1", "N40", "J44.1", "N18.9", "F32.9"}
SECONDARY_DX = ("I10", "E11.9", "E78.5", "I25.1", "K29.7")
OUTCOMES = ("cured", "improved", "not_cured", "other")
OUTCOME_P = (0.45, 0.48, 0.04, 0.03)
# Large equipment: (exams a day at 三级, at 二级, at 一级/社区, minutes an exam, share positive).
DEVICE_USE = {
    "CT": (110, 60, 20, 8, 0.62),
    "MRI": (45, 25, 10, 25, 0.68),
    "DR": (120, 70, 22, 4, 0.50),
    "US": (80, 50, 22, 12, 0.58),
}
DX_OP_LEVEL = np.array([d.op_level for d in DIAGNOSES])
LAB_SHIFT = {
    ("E11.9", "GLU"): 1.6,
    ("J18.9", "WBC"): 1.6,
    ("J18.9", "CRP"): 4.0,
    ("K35.8", "WBC"): 1.8,
    ("K35.8", "CRP"): 5.0,
    ("B18.1", "ALT"): 2.2,
    ("N18.9", "CRE"): 2.8,
    ("C22.0", "ALT"): 2.0,
}


@dataclass(frozen=True)
class Window:
    """The period a province's hospitals export: days since 1970-01-01, end exclusive."""

    start: int
    end: int

    @property
    def days(self) -> np.ndarray:
        return np.arange(self.start, self.end)


@lru_cache(maxsize=1)
def _dx_tables() -> tuple[np.ndarray, ...]:
    """Cumulative diagnosis probabilities by (age band, sex, month), and per-diagnosis arrays."""
    k = len(DIAGNOSES)
    base = np.array([d.weight for d in DIAGNOSES])
    age = np.array([d.age for d in DIAGNOSES]).T  # band × k
    sex = np.array(
        [[d.sex in ("B", "M") for d in DIAGNOSES], [d.sex in ("B", "F") for d in DIAGNOSES]], float
    )
    season = np.array([catalogue.SEASONS[d.season] for d in DIAGNOSES]).T  # month × k
    w = base[None, None, None, :] * age[:, None, None, :] * sex[None, :, None, :] * season[None, None, :, :]
    cum = np.cumsum(w, axis=-1)
    cum /= cum[..., -1:]
    inp = np.array([d.inpatient for d in DIAGNOSES])
    emer = np.array([d.emergency for d in DIAGNOSES])
    los = np.array([d.los for d in DIAGNOSES])
    death = np.array([d.death for d in DIAGNOSES])
    assert cum.shape == (len(DX_AGE_BANDS), 2, 12, k)
    return cum, inp, emer, los, death


def _age_band(age: np.ndarray) -> np.ndarray:
    return (np.searchsorted(np.array(DX_AGE_BANDS), age, side="right") - 1).astype(np.int8)


def _dept_map(level: str) -> np.ndarray:
    """Department each diagnosis is seen in at a hospital of this level (falls back when missing)."""
    have = set(catalogue.LEVEL_DEPARTMENTS[level])
    depts = list(catalogue.DEPARTMENTS)
    out = []
    for d in DIAGNOSES:
        if d.dept in have:
            out.append(d.dept)
        elif d.dept in catalogue.SURGICAL_DEPARTMENTS and "SUR" in have:
            out.append("SUR")
        else:
            out.append("MED" if "MED" in have else "GEN")
    return np.array([depts.index(x) for x in out], dtype=np.int8)


@dataclass(frozen=True)
class Offsets:
    """Records of each kind a hospital has numbered before the current chunk."""

    patients: int = 0
    encounters: int = 0
    diagnoses: int = 0
    labs: int = 0
    prescriptions: int = 0

    def after(self, frames: dict[str, pd.DataFrame]) -> Offsets:
        return Offsets(
            *(
                getattr(self, k) + len(frames[k])
                for k in ("patients", "encounters", "diagnoses", "labs", "prescriptions")
            )
        )


@dataclass
class Chunk:
    """One slice of a hospital's residents and everything that happened to them over the window."""

    frames: dict[str, pd.DataFrame]  # patients, encounters, diagnoses, labs, prescriptions
    operations: pd.DataFrame  # not yet scheduled: encounter_id, patient_id, op_day, minutes, code, level
    occupancy: np.ndarray  # midnight census [department index, day of the window]


def simulate_chunk(
    h: Hospital,
    persons: Persons,
    visit_weight: np.ndarray,
    county_codes: list[str],
    address_prefix: list[str],
    window: Window,
    seed: int,
    chunk: int = 0,
    n_chunks: int = 1,
    offsets: Offsets = Offsets(),
) -> Chunk:
    """Hospital ``h``'s records of the residents in ``chunk`` (of ``n_chunks``, split by resident)."""
    rng = np.random.default_rng([seed, 3, h.index, chunk])
    days = np.arange(window.start - WARM_UP_DAYS, window.end)
    day_p = visit_day_weights(days, catalogue.SEASONS["cold"])
    span = (window.end - window.start + WARM_UP_DAYS) / (window.end - window.start)
    person_parts = []
    for county, expected in sorted(h.demand.items()):
        n = int(rng.poisson(expected * span / n_chunks))
        rows = np.arange(persons.county_start[county], persons.county_start[county + 1])
        u = tier_draw(rows, h.tier)
        rows = rows[(u >= h.slot[0]) & (u < h.slot[1]) & (rows % n_chunks == chunk)]
        if not len(rows) or not n:
            continue
        w = visit_weight[rows]
        person_parts.append(rows[rng.choice(len(rows), size=n, p=w / w.sum())])
    who = np.concatenate(person_parts) if person_parts else np.zeros(0, np.int64)
    day = rng.choice(days, size=len(who), p=day_p)
    order = np.lexsort((who, day))
    who, day = who[order], day[order]
    n = len(who)
    age = ((day - persons.birth[who]) / 365.2425).astype(np.int16)
    sex = persons.sex[who]
    month = months_of(day)
    cum, p_inp, p_emer, los_mean, p_death = _dx_tables()
    band = _age_band(age)
    dx = np.empty(n, dtype=np.int16)
    u = rng.random(n)
    group = (band.astype(np.int32) * 2 + sex) * 12 + month
    for g in np.unique(group):
        sel = group == g
        b, rest = divmod(int(g), 24)
        s, m = divmod(rest, 12)
        dx[sel] = np.searchsorted(cum[b, s, m], u[sel], side="right")
    dx = np.minimum(dx, len(DIAGNOSES) - 1)

    # Encounter type: inpatient or emergency by the diagnosis' propensity and the hospital's level.
    ut = rng.random(n)
    inp = np.minimum(0.95, p_inp[dx] * LEVEL_INPATIENT[h.level])
    emer = np.minimum(0.6, p_emer[dx] * LEVEL_EMERGENCY[h.level])
    etype = np.where(ut < inp, 2, np.where(ut < inp + emer, 1, 0)).astype(np.int8)  # 0 out, 1 emer, 2 inp

    # Times: outpatients by day, emergencies round the clock, admissions mostly in the day.
    hour = np.where(etype == 1, rng.integers(0, 24, n), rng.integers(8, 17, n))
    admit_s = day.astype(np.int64) * SECONDS_PER_DAY + hour * 3600 + rng.integers(0, 3600, n)
    stay_days = np.where(etype == 2, np.maximum(1, np.round(rng.gamma(2.5, los_mean[dx] / 2.5))), 0)

    # Operations on admitted patients with a surgical diagnosis.
    op_code = np.array([d.operation for d in DIAGNOSES])[dx]
    op_level = DX_OP_LEVEL[dx]
    can_operate = {"三级": 4, "二级": 3}.get(h.level, 0)
    has_op = (
        (etype == 2)
        & (op_code != "")
        & (op_level <= can_operate)
        & (rng.random(n) < np.array([d.op_share for d in DIAGNOSES])[dx])
    )
    stay_days = np.where(has_op, np.maximum(stay_days, 3), stay_days)
    discharge_s = np.where(
        etype == 2,
        (day + stay_days).astype(np.int64) * SECONDS_PER_DAY + rng.integers(8 * 3600, 13 * 3600, n),
        admit_s + np.where(etype == 1, rng.integers(3600, 6 * 3600, n), rng.integers(600, 3600, n)),
    )
    still_in = discharge_s >= window.end * SECONDS_PER_DAY
    keep = (day >= window.start) | ((etype == 2) & (discharge_s >= window.start * SECONDS_PER_DAY))
    idx = np.flatnonzero(keep)
    who, day, age, sex, dx, etype, admit_s, discharge_s, still_in, has_op, stay_days, month = (  # type: ignore[assignment]
        a[idx]
        for a in (who, day, age, sex, dx, etype, admit_s, discharge_s, still_in, has_op, stay_days, month)
    )
    n = len(idx)

    dept_of_dx = _dept_map(h.level)
    dept_codes = list(catalogue.DEPARTMENTS)
    eme = dept_codes.index("EME")
    dept = np.where((etype == 1) & ("EME" in catalogue.LEVEL_DEPARTMENTS[h.level]), eme, dept_of_dx[dx])
    ward = np.array([c in catalogue.INPATIENT_DEPARTMENTS for c in dept_codes])
    surgical = np.array([c in catalogue.SURGICAL_DEPARTMENTS for c in dept_codes])
    has = set(catalogue.LEVEL_DEPARTMENTS[h.level])
    fallback_sur = dept_codes.index("SUR" if "SUR" in has else "MED")
    dept = np.where(
        (etype == 2) & ~ward[dept], np.where(surgical[dept], fallback_sur, dept_codes.index("MED")), dept
    )

    died = (etype == 2) & ~still_in & (rng.random(n) < p_death[dx] * np.where(age >= 65, 2, 1))
    outcome = np.full(n, None, dtype=object)
    discharged = (etype == 2) & ~still_in
    outcome[discharged] = np.array(OUTCOMES, dtype=object)[rng.choice(4, size=n, p=OUTCOME_P)][discharged]
    outcome[died] = "died"
    cost = np.where(
        etype == 0,
        rng.lognormal(np.log(220), 0.7, n),
        np.where(
            etype == 1,
            rng.lognormal(np.log(650), 0.6, n),
            np.maximum(stay_days, 1)
            * rng.lognormal(np.log(1300), 0.35, n)
            * (1 + has_op * 0.5 * DX_OP_LEVEL[dx]),
        ),
    )
    cost = np.round(cost * LEVEL_COST[h.level], 2)

    # Patients: one record per person seen here, numbered by first visit.
    people, first = np.unique(who, return_index=True)
    people = people[np.argsort(first, kind="stable")]
    mrn_of = {p: i for i, p in enumerate(people.tolist())}
    hid = h.index
    patient_ids = np.array([f"P{hid:04d}{offsets.patients + i + 1:07d}" for i in range(len(people))])
    patient_row = np.array([mrn_of[p] for p in who.tolist()], dtype=np.int64)
    enc_patient = patient_ids[patient_row]
    # Each patient's logical id in the hospital's systems (FHIR Patient.id), unrelated to the record number.
    logical_ids = np.array([rng.bytes(8).hex() for _ in range(len(people))], dtype=object)
    encounter_ids = np.array([f"E{hid:04d}{offsets.encounters + i + 1:08d}" for i in range(n)])
    ts = _to_ts
    encounters = pd.DataFrame(
        {
            "encounter_id": encounter_ids,
            "patient_id": enc_patient,
            "_patient_rid": logical_ids[patient_row],
            "type": np.array(["outpatient", "emergency", "inpatient"])[etype],
            "department": np.array(dept_codes)[dept],
            "admit_ts": ts(admit_s),
            "discharge_ts": ts(np.where(still_in, -1, discharge_s)),
            "outcome": outcome,
            "cost": cost,
        }
    )
    patients = _patients(persons, people, patient_ids, county_codes, address_prefix, rng)
    patients["_rid"] = logical_ids

    diagnoses = _diagnoses(hid, encounter_ids, dx, age, rng, offsets.diagnoses)
    labs = _labs(hid, encounter_ids, dx, etype, admit_s, rng, offsets.labs)
    prescriptions = _prescriptions(hid, encounter_ids, dx, etype, admit_s, rng, offsets.prescriptions)
    ops = np.flatnonzero(has_op)
    codes = np.array([d.operation for d in DIAGNOSES])[dx[ops]]
    mean_min = np.array([catalogue.OPERATIONS[c][2] for c in codes], dtype=float)
    operations = pd.DataFrame(
        {
            "encounter_id": encounter_ids[ops],
            "_patient_rid": logical_ids[patient_row[ops]],
            "patient_id": enc_patient[ops],
            "op_day": day[ops] + 1,
            "minutes": np.maximum(15, np.round(rng.gamma(8, mean_min / 8))).astype(np.int64),
            "code": codes,
            "level": DX_OP_LEVEL[dx[ops]].astype(np.int8),
        }
    )
    inpatient = etype == 2
    frames = {
        "patients": patients,
        "encounters": encounters,
        "diagnoses": diagnoses,
        "labs": labs,
        "prescriptions": prescriptions,
    }
    return Chunk(
        frames,
        operations,
        _occupancy(dept[inpatient], admit_s[inpatient], discharge_s[inpatient], still_in[inpatient], window),
    )


def _to_ts(seconds: np.ndarray) -> np.ndarray:
    """Seconds since 1970 (local time) to datetime64[s]; negative means missing."""
    out = seconds.astype("datetime64[s]")
    out[seconds < 0] = np.datetime64("NaT")
    return out


def _patients(
    persons: Persons,
    people: np.ndarray,
    patient_ids: np.ndarray,
    county_codes: list[str],
    address_prefix: list[str],
    rng: np.random.Generator,
) -> pd.DataFrame:
    from provista.synth.people import render_addresses, render_id_numbers, render_names

    ages = persons.age_on(np.datetime64("2025-01-01"), people)
    ids = np.array(render_id_numbers(persons, people, county_codes), dtype=object)
    ids[(ages < 6) & (rng.random(len(people)) < 0.4)] = None  # young children often registered without one
    return pd.DataFrame(
        {
            "patient_id": patient_ids,
            "name": render_names(persons, people),
            "sex": np.where(persons.sex[people] == 0, "M", "F"),
            "birth_date": (EPOCH + persons.birth[people].astype("timedelta64[D]")).astype("datetime64[s]"),
            "id_number": ids,
            "phone": persons.phone[people].astype(str),
            "address": render_addresses(persons, people, address_prefix),
            "county_code": np.array(county_codes)[persons.county[people]],
            "_person": people,
        }
    )


def _diagnoses(
    hid: int,
    encounter_ids: np.ndarray,
    dx: np.ndarray,
    age: np.ndarray,
    rng: np.random.Generator,
    offset: int,
) -> pd.DataFrame:
    codes = np.array([d.icd10 for d in DIAGNOSES])
    second = (age >= 45) & (rng.random(len(dx)) < 0.35)
    extra = np.array(SECONDARY_DX)[rng.integers(0, len(SECONDARY_DX), len(dx))]
    second &= extra != codes[dx]
    enc = np.concatenate([encounter_ids, encounter_ids[second]])
    code = np.concatenate([codes[dx], extra[second]])
    primary = np.concatenate([np.ones(len(dx), bool), np.zeros(second.sum(), bool)])
    order = np.lexsort((~primary, enc))
    return pd.DataFrame(
        {
            "diagnosis_id": [f"D{hid:04d}{offset + i + 1:08d}" for i in range(len(enc))],
            "encounter_id": enc[order],
            "icd10": code[order],
            "is_primary": primary[order],
        }
    )


def schedule_operations(hid: int, pending: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Operations on the day after admission, packed into rooms from 08:00 with 25 minutes' turnover.

    Rooms are sized so that an average day fills 70 % of an 8-hour day in each room.
    """
    n_days = max(1, int(np.ptp(pending["op_day"])) + 1) if len(pending) else 1
    rooms = max(1, int(np.ceil(pending["minutes"].sum() / n_days / (480 * 0.7)))) if len(pending) else 1
    frame = pending.reset_index(drop=True)
    frame["seq"] = np.arange(len(frame))
    frame = frame.sort_values(["op_day", "encounter_id"], kind="stable")
    frame["room"] = frame.groupby("op_day").cumcount() % rooms
    frame["busy"] = frame["minutes"] + 25
    frame["offset"] = frame.groupby(["op_day", "room"])["busy"].cumsum() - frame["busy"]
    frame = frame.sort_values("seq", kind="stable")
    start = frame["op_day"].to_numpy(np.int64) * SECONDS_PER_DAY + 8 * 3600 + frame["offset"].to_numpy() * 60
    end = start + frame["minutes"].to_numpy() * 60
    out = pd.DataFrame(
        {
            "operation_id": [f"O{hid:04d}{i + 1:07d}" for i in range(len(frame))],
            "encounter_id": frame["encounter_id"].to_numpy(),
            "code": frame["code"].to_numpy(),
            "name": [catalogue.OPERATIONS[c][0] for c in frame["code"]],
            "or_room": [f"OR{r + 1:02d}" for r in frame["room"]],
            "start_ts": _to_ts(start),
            "end_ts": _to_ts(end),
            "level": frame["level"].to_numpy(np.int8),
        }
    )
    return out, rooms


def _labs(
    hid: int,
    encounter_ids: np.ndarray,
    dx: np.ndarray,
    etype: np.ndarray,
    admit_s: np.ndarray,
    rng: np.random.Generator,
    offset: int,
) -> pd.DataFrame:
    enc_parts, key_parts = [], []
    for k, d in enumerate(DIAGNOSES):
        rows = np.flatnonzero(dx == k)
        for lab in d.labs:
            take = rows[rng.random(len(rows)) < np.where(etype[rows] == 2, 0.85, 0.4)]
            enc_parts.append(take)
            key_parts.append(np.full(len(take), lab, dtype=object))
            if (d.icd10, lab) in LAB_SHIFT:
                key_parts[-1] = np.full(len(take), f"{lab}|{d.icd10}", dtype=object)
    rows = np.concatenate(enc_parts) if enc_parts else np.zeros(0, np.int64)
    keys = np.concatenate(key_parts) if key_parts else np.zeros(0, object)
    order = np.lexsort((keys.astype(str), rows))
    rows, keys = rows[order], keys[order]
    value = np.empty(len(rows))
    lab_key = np.array([k.split("|")[0] for k in keys.tolist()], dtype=object)
    for key in np.unique(keys):
        sel = keys == key
        lab_name, _, icd = key.partition("|")
        spec = LABS[lab_name]
        shift = LAB_SHIFT.get((icd, lab_name), 1.0)
        draw = rng.normal(spec.mean * shift, spec.sd * shift**0.5, sel.sum())
        value[sel] = np.round(np.maximum(spec.low, draw), spec.decimals)
    return pd.DataFrame(
        {
            "lab_id": [f"L{hid:04d}{offset + i + 1:08d}" for i in range(len(rows))],
            "encounter_id": encounter_ids[rows],
            "code": [LABS[k].loinc for k in lab_key],
            "name": [LABS[k].name_zh for k in lab_key],
            "value": value,
            "unit": [LABS[k].unit for k in lab_key],
            "ts": _to_ts(admit_s[rows] + rng.integers(1800, 4 * 3600, len(rows))),
            "_lab": lab_key,
        }
    )


def _prescriptions(
    hid: int,
    encounter_ids: np.ndarray,
    dx: np.ndarray,
    etype: np.ndarray,
    admit_s: np.ndarray,
    rng: np.random.Generator,
    offset: int,
) -> pd.DataFrame:
    enc_parts, drug_parts = [], []
    for k, d in enumerate(DIAGNOSES):
        rows = np.flatnonzero(dx == k)
        for drug in d.drugs:
            take = rows[rng.random(len(rows)) < np.where(etype[rows] == 2, 0.8, 0.55)]
            enc_parts.append(take)
            drug_parts.append(np.full(len(take), drug, dtype=object))
    rows = np.concatenate(enc_parts) if enc_parts else np.zeros(0, np.int64)
    drugs = np.concatenate(drug_parts) if drug_parts else np.zeros(0, object)
    order = np.lexsort((drugs.astype(str), rows))
    rows, drugs = rows[order], drugs[order]
    chronic = np.isin(np.array([d.icd10 for d in DIAGNOSES])[dx[rows]], list(CHRONIC))
    catalog = catalogue.DRUGS
    return pd.DataFrame(
        {
            "prescription_id": [f"R{hid:04d}{offset + i + 1:08d}" for i in range(len(rows))],
            "encounter_id": encounter_ids[rows],
            "drug_code": [catalog[d].code for d in drugs],
            "atc": [catalog[d].atc for d in drugs],
            "drug_name": [catalog[d].name_zh for d in drugs],
            "dose": [catalog[d].dose for d in drugs],
            "unit": [catalog[d].unit for d in drugs],
            "days": np.where(chronic, 30, rng.integers(3, 8, len(rows))).astype(np.int16),
            "ts": _to_ts(admit_s[rows] + rng.integers(600, 3600, len(rows))),
        }
    )


def _occupancy(
    dept: np.ndarray, admit_s: np.ndarray, discharge_s: np.ndarray, still_in: np.ndarray, window: Window
) -> np.ndarray:
    """Midnight census [department, day]: patients admitted before and not discharged by 24:00."""
    n_days = window.end - window.start
    first = admit_s // SECONDS_PER_DAY - window.start  # counted at the midnight ending the admission day
    last = np.where(still_in, n_days, discharge_s // SECONDS_PER_DAY - window.start)  # gone by that midnight
    diff = np.zeros((len(catalogue.DEPARTMENTS), n_days + 1), dtype=np.int64)
    np.add.at(diff, (dept.astype(np.int64), np.clip(first, 0, n_days)), 1)
    np.add.at(diff, (dept.astype(np.int64), np.clip(last, 0, n_days)), -1)
    return np.cumsum(diff, axis=1)[:, :n_days]


def bed_census(occupancy: np.ndarray, window: Window, rng: np.random.Generator, level: str) -> pd.DataFrame:
    """Daily census rows of the departments that had inpatients, with their open beds.

    Open beds are sized from the department's mean census and a target occupancy, so occupancy is
    realistic at every scale (see the README: capacity follows the synthetic sample).
    """
    n_days = window.end - window.start
    target = rng.uniform(0.85, 1.02) if level == "三级" else rng.uniform(0.7, 0.92)
    wards = np.flatnonzero(occupancy.any(axis=1))
    occupied = occupancy[wards]
    beds = np.maximum(1, np.round(occupied.mean(axis=1) / target)).astype(np.int64)
    dept_codes = np.array(list(catalogue.DEPARTMENTS))
    return pd.DataFrame(
        {
            "date": np.tile(_dates(window.days), len(wards)),
            "department": np.repeat(dept_codes[wards], n_days),
            "occupied_beds": occupied.ravel(),
            "open_beds": np.repeat(beds, n_days),
        }
    )


def _dates(days: np.ndarray) -> np.ndarray:
    return (EPOCH + days.astype("timedelta64[D]")).astype("datetime64[s]")


def equipment_use(h: Hospital, window: Window, rng: np.random.Generator) -> pd.DataFrame:
    """Daily use of each large device, as a device log reports it (real-world volumes, not the sample)."""
    days = window.days
    devices = [(t, k) for t, count in sorted(h.equipment.items()) for k in range(count)]
    n, m = len(devices), len(days)
    weekday = np.where(weekdays_of(days) == 6, 0.5, np.where(weekdays_of(days) == 5, 0.7, 1.0))
    rate, hours, minutes, positive = (np.empty(n) for _ in range(4))
    for i, (device_type, k) in enumerate(devices):
        per_day_3, per_day_2, per_day_1, minutes[i], positive[i] = DEVICE_USE[device_type]
        rate[i] = {"三级": per_day_3, "二级": per_day_2}.get(h.level, per_day_1) * (1.0 if k == 0 else 0.8)
        hours[i] = (
            24.0
            if (device_type in ("CT", "DR") and h.level == "三级")
            else (
                16.0 if device_type == "MRI" and h.level == "三级" else 12.0 if device_type != "US" else 10.0
            )
        )
    available = np.where(rng.random((n, m)) < 0.01, hours[:, None] / 2, hours[:, None])  # maintenance days
    capacity = np.floor(available * 60 / minutes[:, None]).astype(np.int64)  # exams that fit in the hours
    exams = np.minimum(capacity, rng.poisson(rate[:, None] * weekday[None, :] * available / hours[:, None]))
    used = np.minimum(available, np.round(exams * minutes[:, None] / 60 * rng.uniform(0.9, 1.2, (n, m)), 1))
    return pd.DataFrame(
        {
            "device_id": np.repeat([f"{h.hospital_id}-{t}{k + 1:02d}" for t, k in devices], m),
            "device_type": np.repeat([t for t, _ in devices], m),
            "date": np.tile(_dates(days), n),
            "hours_used": used.ravel(),
            "hours_available": available.ravel(),
            "exams": exams.ravel(),
            "positives": rng.binomial(exams, positive[:, None]).ravel(),
        }
    )
