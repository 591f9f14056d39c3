"""`provista synth`: write a province's hospital and CDC exports, and the ground truth beside them.

Layout of the output folder::

    manifest.json                 seed, scale, province, window, counts, every file written
    registry/                     hospitals.csv, departments.csv, equipment.csv, regions.csv (clean)
    hospitals/<hospital_id>/      one hospital's exports, in its vendor's format
    cdc/case_reports_<year>.csv   notifiable-disease case reports, GBK, Chinese headers
    truth/                        outbreaks.csv, errors.csv, identities.csv, persons.csv

Hospitals are generated independently (each from its own seed stream), in parallel processes, so
memory is bounded by the largest hospital and the same seed gives the same bytes.
"""

from __future__ import annotations

import json
import multiprocessing as mp
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from provista import __version__
from provista.errors import ConfigError
from provista.synth import casereports, catalogue
from provista.synth.activity import (
    WARM_UP_DAYS,
    Offsets,
    Window,
    bed_census,
    equipment_use,
    schedule_operations,
    simulate_chunk,
)
from provista.synth.hospitals import LEVEL_EN, Hospital, allocate_demand, build_hospitals
from provista.synth.inject import Context, inject
from provista.synth.output import (
    TRUTH_PARTS,
    SourceWriter,
    join_truth_parts,
    prepare_output,
    write_persons,
    write_plain_csv,
)
from provista.synth.people import EPOCH, Persons, generate_persons
from provista.synth.province import Province, load_province
from provista.synth.vendors import REPORTING_VENDOR, VENDOR_SPECS, style

CHUNKED_TABLES = ("patients", "encounters", "diagnoses", "labs", "prescriptions")
HOSPITAL_TABLES = (
    "patients",
    "encounters",
    "diagnoses",
    "operations",
    "labs",
    "prescriptions",
    "bed_census",
    "equipment_use",
)
REPORTING_TABLES = ("bed_census", "equipment_use")
ENCOUNTER_END = "2026-01-01"  # exports end on 2025-12-31
CASE_REPORT_START = "2021-01-01"
# Relative visit rate by age band (0-4, 5-14, 15-44, 45-64, 65+): children and the old visit most.
VISIT_RATE_BY_AGE = (2.2, 1.0, 0.7, 1.1, 1.9)


@dataclass(frozen=True)
class Scale:
    name: str
    persons: int
    visits_per_person_year: float
    encounter_years: int  # years of hospital exports, ending with ENCOUNTER_END
    core_hospitals_only: bool  # tertiary hospitals and one secondary hospital per county
    case_fraction: float  # share of the census population the case reports are drawn for
    outbreaks: int


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale("tiny", 2_000, 5.0, 1, True, 0.02, 8),
        Scale("small", 100_000, 5.0, 2, False, 0.2, 24),
        Scale("medium", 1_000_000, 5.0, 2, False, 1.0, 48),
        Scale("large", 5_000_000, 5.0, 2, False, 1.0, 72),
    )
}


@dataclass
class SynthOptions:
    out: Path
    province: str = "zhejiang"
    scale: str = "tiny"
    seed: int = 1
    error_rate: float = 0.02
    jobs: int = 2
    force: bool = False

    def validate(self) -> Scale:
        if self.scale not in SCALES:
            raise ConfigError(f"unknown scale '{self.scale}'", hint=f"use one of {', '.join(SCALES)}")
        if not 0 <= self.error_rate <= 0.5:
            raise ConfigError(
                f"--error-rate {self.error_rate} is outside 0-0.5",
                hint="a rate such as 0.02 injects errors into 2% of records",
            )
        if self.jobs < 1:
            raise ConfigError("--jobs must be at least 1")
        if self.seed < 0:
            raise ConfigError(f"--seed {self.seed} is negative", hint="use a whole number of 0 or more")
        if Path(self.out).exists() and not Path(self.out).is_dir():
            raise ConfigError(f"--out {self.out} is a file", hint="give a folder to write the province into")
        return SCALES[self.scale]


@dataclass
class HospitalResult:
    registry: dict[str, Any]
    departments: list[dict[str, Any]]
    files: list[dict[str, Any]]
    counts: Counter[str] = field(default_factory=Counter)


Progress = Callable[[str, int, int], None]


def _days(text: str) -> int:
    return int((np.datetime64(text, "D") - EPOCH).astype(int))


def visit_weights(persons: Persons, day: np.datetime64) -> np.ndarray:
    """Each resident's relative visit rate (by age), so that children and the old visit more often."""
    age = persons.age_on(day)
    band = np.searchsorted(np.array(catalogue.DX_AGE_BANDS), age, side="right") - 1
    return np.asarray(VISIT_RATE_BY_AGE)[band]


# State shared with worker processes (pickled once per worker by the pool's initializer).
_STATE: dict[str, Any] = {}


def _init_state(state: dict[str, Any]) -> None:
    _STATE.update(state)


CHUNK_ENCOUNTERS = 100_000  # a hospital is generated in slices of about this many encounters
CHUNK_CASES = 100_000  # case reports are rendered and written in slices of this many


def _chunks_for(h: Hospital, window_days: int) -> int:
    """How many slices hospital ``h`` is generated in (Excel exports are written whole)."""
    expected = sum(h.demand.values()) * (window_days + WARM_UP_DAYS) / window_days
    return 1 if h.vendor == "xlsx_zh" else max(1, int(np.ceil(expected / CHUNK_ENCOUNTERS)))


def _hospital_job(i: int) -> HospitalResult:
    s = _STATE
    h: Hospital = s["hospitals"][i]
    province: Province = s["province"]
    window: Window = s["window"]
    writer = SourceWriter(s["out"], f"hospitals/{h.hospital_id}", h.hospital_id, bom=h.index % 2 == 1)
    ctx = Context(
        VENDOR_SPECS[h.vendor],
        province.outdated_codes,
        province.code,
        np.random.default_rng([s["seed"], 4, h.index]),
    )
    result = HospitalResult({}, [], [])

    def emit(table: str, frame: pd.DataFrame, subject_of: dict[str, str] | None = None) -> None:
        key = REPORTING_VENDOR.get(h.vendor, h.vendor) if table in REPORTING_TABLES else h.vendor
        ctx.vendor = VENDOR_SPECS[key]
        written, errors = inject(table, style(table, frame, ctx.vendor), s["error_rate"], ctx)
        writer.write(table, written, ctx.vendor, errors, subject_of)
        result.counts[table] += len(frame)

    n_chunks = _chunks_for(h, window.end - window.start)
    offsets = Offsets()
    occupancy = np.zeros((len(catalogue.DEPARTMENTS), window.end - window.start), dtype=np.int64)
    pending = []
    for chunk in range(n_chunks):
        part = simulate_chunk(
            h,
            s["persons"],
            s["visit_weight"],
            s["county_codes"],
            s["address_prefix"],
            window,
            s["seed"],
            chunk,
            n_chunks,
            offsets,
        )
        encounters = part.frames["encounters"]
        subject_of = dict(zip(encounters["encounter_id"], encounters["_patient_rid"], strict=True))
        for table in CHUNKED_TABLES:
            emit(table, part.frames[table], subject_of)
        result.counts.update(f"encounters.{t}" for t in encounters["type"])
        offsets = offsets.after(part.frames)
        occupancy += part.occupancy
        pending.append(part.operations)
        del part, encounters, subject_of
    rng = np.random.default_rng([s["seed"], 10, h.index])
    ops = pd.concat(pending, ignore_index=True)
    operations, rooms = schedule_operations(h.index, ops)
    emit("operations", operations, dict(zip(ops["encounter_id"], ops["_patient_rid"], strict=True)))
    census = bed_census(occupancy, window, rng, h.level)
    emit("bed_census", census)
    emit("equipment_use", equipment_use(h, window, rng))

    beds = census.groupby("department")["open_beds"].first().to_dict() if len(census) else {}
    for dept in catalogue.LEVEL_DEPARTMENTS[h.level]:
        zh, en = catalogue.DEPARTMENTS[dept]
        result.departments.append(
            {
                "hospital_id": h.hospital_id,
                "department": dept,
                "name_zh": zh,
                "name_en": en,
                "beds_open": int(beds.get(dept, 0)),
            }
        )
    county = province.counties[h.county]
    result.registry = {
        "hospital_id": h.hospital_id,
        "name_zh": h.name_zh,
        "name_en": h.name_en,
        "level": h.level,
        "level_en": LEVEL_EN[h.level],
        "county_code": county.code,
        "city_code": county.city_code,
        "vendor": h.vendor,
        "beds_open": int(sum(beds.values())),
        "operating_rooms": rooms if len(operations) else 0,
        "departments": ";".join(catalogue.LEVEL_DEPARTMENTS[h.level]),
        **{k.lower(): v for k, v in sorted(h.equipment.items())},
    }
    result.files = list(writer.entries.values())
    return result


def _case_report_job() -> dict[str, Any]:
    """The CDC's export: one file per year of onset, written year by year."""
    s = _STATE
    province: Province = s["province"]
    scale: Scale = s["scale"]
    start, end = _days(CASE_REPORT_START), s["window"].end
    days = np.arange(start, end)
    expected = casereports.expected_daily(province, days, scale.case_fraction, s["seed"])
    outbreaks = casereports.choose_outbreaks(province, expected, days, scale.outbreaks, s["seed"])
    disease, onset, county, outbreak = casereports.draw_onsets(expected, days, outbreaks, s["seed"])
    cases = casereports.CaseReports.draw(
        province, s["hospitals"], s["persons"], disease, onset, county, outbreak, end, s["seed"]
    )
    vendor = VENDOR_SPECS["cdc_nndrs"]
    writer = SourceWriter(s["out"], "cdc", "cdc", bom=False)
    surviving = np.zeros(len(outbreaks), dtype=np.int64)
    classes: Counter[str] = Counter()
    for year, rows in cases.by_onset_year():
        ctx = Context(
            vendor, province.outdated_codes, province.code, np.random.default_rng([s["seed"], 9, year])
        )
        for lo in range(0, len(rows), CHUNK_CASES):  # a year is rendered in slices, appended in order
            frame = cases.frame(rows[lo : lo + CHUNK_CASES])
            flagged = frame["_outbreak"].to_numpy()
            surviving += np.bincount(flagged[flagged >= 0], minlength=len(outbreaks))
            classes.update(casereports.DISEASES[d].klass for d in frame["_disease"].tolist())
            written, errors = inject(
                "case_reports", style("case_reports", frame, vendor), s["error_rate"], ctx
            )
            writer.write("case_reports", written, vendor, errors, file_stem=f"case_reports_{year}")
    outbreaks = [
        casereports.Outbreak(o.county, o.disease, o.start, o.end, int(surviving[j]))
        for j, o in enumerate(outbreaks)
    ]
    return {
        "files": list(writer.entries.values()),
        "outbreaks": casereports.outbreak_frame(province, outbreaks),
        "counts": {
            "case_reports": int(sum(classes.values())),
            "case_reports_by_class": {k: classes[k] for k in ("甲", "乙", "丙")},
        },
    }


def synthesize(options: SynthOptions, progress: Progress | None = None) -> dict[str, Any]:
    """Generate a synthetic province into ``options.out``; return the manifest."""
    scale = options.validate()
    province = load_province(options.province)
    out = Path(options.out)
    prepare_output(out, options.force)
    report = progress or (lambda stage, done, total: None)
    end_year = int(ENCOUNTER_END[:4])
    window = Window(_days(f"{end_year - scale.encounter_years}-01-01"), _days(ENCOUNTER_END))
    report("persons", 0, 1)
    # The census pyramid is taken as the population's age structure on the first day of the window.
    persons = generate_persons(
        province, scale.persons, EPOCH + np.timedelta64(window.start, "D"), options.seed
    )
    report("persons", 1, 1)
    hospitals = build_hospitals(province, scale.core_hospitals_only, options.seed)
    weight = visit_weights(persons, EPOCH + np.timedelta64(window.start, "D"))
    years = (window.end - window.start) / 365.25
    visits_by_county = np.bincount(persons.county, weights=weight, minlength=len(province.counties))
    visits_by_county *= scale.visits_per_person_year * years * len(persons) / weight.sum()
    allocate_demand(province, hospitals, visits_by_county)
    _STATE.clear()
    _STATE.update(
        province=province,
        persons=persons,
        visit_weight=weight,
        hospitals=hospitals,
        window=window,
        seed=options.seed,
        out=out,
        error_rate=options.error_rate,
        scale=scale,
        county_codes=[c.code for c in province.counties],
        address_prefix=province.places(),
    )
    results: list[HospitalResult] = []
    try:
        if options.jobs > 1:
            # forkserver, not fork: a caller that already runs threads (a server, DuckDB, a test session)
            # must not fork them mid-lock (a forked worker hung on one under the parallel test suite)
            with mp.get_context("forkserver").Pool(options.jobs, _init_state, (dict(_STATE),)) as pool:
                cdc = pool.apply_async(_case_report_job)
                for k, res in enumerate(pool.imap(_hospital_job, range(len(hospitals)))):
                    results.append(res)
                    report("hospitals", k + 1, len(hospitals))
                report("case reports", 0, 1)
                cases = cdc.get()
        else:
            for k in range(len(hospitals)):
                results.append(_hospital_job(k))
                report("hospitals", k + 1, len(hospitals))
            report("case reports", 0, 1)
            cases = _case_report_job()
        report("case reports", 1, 1)
    finally:
        _STATE.clear()
    manifest = _write_registry_truth_manifest(out, options, scale, province, persons, window, results, cases)
    report("truth", 1, 1)
    return manifest


def _write_registry_truth_manifest(
    out: Path,
    options: SynthOptions,
    scale: Scale,
    province: Province,
    persons: Persons,
    window: Window,
    results: list[HospitalResult],
    cases: dict[str, Any],
) -> dict[str, Any]:
    write_plain_csv(pd.DataFrame([r.registry for r in results]), out / "registry/hospitals.csv")
    write_plain_csv(
        pd.DataFrame([d for r in results for d in r.departments]), out / "registry/departments.csv"
    )
    devices = [
        {
            "device_id": f"{r.registry['hospital_id']}-{t}{k + 1:02d}",
            "hospital_id": r.registry["hospital_id"],
            "device_type": t,
        }
        for r in results
        for t in ("CT", "DR", "MRI", "US")
        for k in range(r.registry[t.lower()])
    ]
    write_plain_csv(
        pd.DataFrame(devices, columns=["device_id", "hospital_id", "device_type"]),
        out / "registry/equipment.csv",
    )
    pop = province.county_population
    regions = [
        {
            "code": province.code,
            "name_zh": province.name_zh,
            "name_en": province.name_en,
            "level": "province",
            "parent_code": "",
            "population": int(pop.sum()),
        }
    ]
    for code, (zh, en) in province.cities.items():
        regions.append(
            {
                "code": code,
                "name_zh": zh,
                "name_en": en,
                "level": "prefecture",
                "parent_code": province.code,
                "population": int(
                    sum(p for c, p in zip(province.counties, pop, strict=True) if c.city_code == code)
                ),
            }
        )
    for c, p in zip(province.counties, pop, strict=True):
        regions.append(
            {
                "code": c.code,
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "level": "county",
                "parent_code": c.city_code,
                "population": int(p),
            }
        )
    write_plain_csv(pd.DataFrame(regions), out / "registry/regions.csv")

    sources = [r.registry["hospital_id"] for r in results] + ["cdc"]
    error_kinds = join_truth_parts(
        out, sources, "errors", "source_file,record_ref,field,error_kind,expected_action", count_column=3
    )
    identities = join_truth_parts(out, sources, "identities", "source_file,record_ref,true_person_id")
    (out / TRUTH_PARTS).rmdir()
    write_plain_csv(cases["outbreaks"], out / "truth/outbreaks.csv")
    write_persons(out / "truth/persons.csv", persons, province)

    counts: Counter[str] = Counter()
    for r in results:
        counts.update(r.counts)
    levels = Counter(r.registry["level_en"] for r in results)
    manifest = {
        "generator": f"provista {__version__}",
        "seed": options.seed,
        "scale": asdict(scale),
        "province": {
            "code": province.code,
            "name_zh": province.name_zh,
            "name_en": province.name_en,
            "census_population": int(pop.sum()),
        },
        "error_rate": options.error_rate,
        "sampling_fraction": round(len(persons) / float(pop.sum()), 8),
        "encounter_window": {
            "start": str(EPOCH + np.timedelta64(window.start, "D")),
            "end_exclusive": ENCOUNTER_END,
        },
        "case_report_window": {"start": CASE_REPORT_START, "end_exclusive": ENCOUNTER_END},
        "counts": {
            "persons": len(persons),
            "hospitals": {"total": len(results), **{k: levels[k] for k in LEVEL_EN.values()}},
            "vendors": dict(sorted(Counter(r.registry["vendor"] for r in results).items())),
            "encounters": {
                "total": counts["encounters"],
                **{t: counts[f"encounters.{t}"] for t in ("outpatient", "emergency", "inpatient")},
            },
            **{
                t: counts[t]
                for t in (
                    "patients",
                    "diagnoses",
                    "operations",
                    "labs",
                    "prescriptions",
                    "bed_census",
                    "equipment_use",
                )
            },
            **cases["counts"],
            "outbreaks": len(cases["outbreaks"]),
            "errors": {"total": sum(error_kinds.values()), **dict(sorted(error_kinds.items()))},
            "identities": sum(identities.values()),
        },
        "files": [f for r in results for f in r.files] + cases["files"],
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return manifest
