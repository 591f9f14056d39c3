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
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from provista import __version__
from provista.errors import ConfigError, OutputExistsError
from provista.synth import casereports, catalogue
from provista.synth.activity import Window, simulate_hospital
from provista.synth.fhir import write_fhir
from provista.synth.hospitals import LEVEL_EN, Hospital, allocate_demand, build_hospitals
from provista.synth.inject import Context, inject
from provista.synth.people import EPOCH, Persons, generate_persons
from provista.synth.province import Province, load_province
from provista.synth.vendors import KEYS, REPORTING_VENDOR, VENDOR_SPECS, Vendor, style
from provista.synth.writers import write_csv, write_xlsx

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
CENSUS_DAY = np.datetime64("2020-11-01")  # reference day of the 7th census
ENCOUNTER_END = "2026-01-01"  # exports end on 2025-12-31
CASE_REPORT_START = "2021-01-01"
# Relative visit rate by age band (0-4, 5-14, 15-44, 45-64, 65+): children and the old visit most.
VISIT_RATE_BY_AGE = (2.2, 1.0, 0.7, 1.1, 1.9)
MARKER = ".provista-synth"  # marks a folder as synth output, so that --force may replace it
OUTPUT_PARTS = ("manifest.json", "registry", "hospitals", "cdc", "truth", MARKER)


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
        return SCALES[self.scale]


@dataclass
class HospitalResult:
    registry: dict[str, Any]
    departments: list[dict[str, Any]]
    files: list[dict[str, Any]]
    errors: pd.DataFrame
    identities: pd.DataFrame
    counts: Counter[str] = field(default_factory=Counter)


Progress = Callable[[str, int, int], None]


def _days(text: str) -> int:
    return int((np.datetime64(text, "D") - EPOCH).astype(int))


def prepare_output(out: Path, force: bool) -> None:
    if out.exists() and any(out.iterdir()):
        ours = (out / "manifest.json").exists() or (out / MARKER).exists()
        if not ours or not force:
            raise OutputExistsError(
                f"{out} is not empty",
                hint="choose an empty folder, or pass --force to replace an earlier `provista synth` output",
            )
        for part in OUTPUT_PARTS:
            target = out / part
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by provista synth\n", encoding="utf-8")


def visit_weights(persons: Persons, day: np.datetime64) -> np.ndarray:
    """Each resident's relative visit rate (by age), so that children and the old visit more often."""
    age = persons.age_on(day)
    band = np.searchsorted(np.array(catalogue.DX_AGE_BANDS), age, side="right") - 1
    return np.asarray(VISIT_RATE_BY_AGE)[band]


# State shared with worker processes (inherited by fork, never pickled).
_STATE: dict[str, Any] = {}


def _write(
    root: Path,
    rel_dir: str,
    table: str,
    frame: pd.DataFrame,
    vendor: Vendor,
    bom: bool,
    hospital_id: str,
    subject_of: dict[str, str],
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, int]]]:
    """Write one table; return each row's file and record_ref, and the (file, rows) written."""
    n = len(frame)
    if vendor.format == "csv":
        name = f"{rel_dir}/{table}.csv"
        write_csv(root / name, table, frame, vendor, bom=bom)
        return np.full(n, name, dtype=object), np.arange(1, n + 1).astype(str).astype(object), [(name, n)]
    if vendor.format == "xlsx":
        parts = [
            (f"{rel_dir}/{name}", rows) for name, rows in write_xlsx(root / rel_dir, table, frame, vendor)
        ]
        files = np.concatenate([np.full(rows, name, dtype=object) for name, rows in parts])
        refs = np.concatenate([np.arange(1, rows + 1) for _, rows in parts]).astype(str).astype(object)
        return files, refs, parts
    parts = [
        (f"{rel_dir}/{name}", rows)
        for name, rows in write_fhir(
            root / rel_dir, table, frame, hospital_id, subject_of, vendor.format == "fhir_bundle"
        )
    ]
    files = (
        np.concatenate([np.full(rows, name, dtype=object) for name, rows in parts])
        if parts
        else np.zeros(0, dtype=object)
    )
    return files, frame[KEYS[table]].astype(str).to_numpy(dtype=object), parts


def _truth_rows(errors: pd.DataFrame, files: np.ndarray, refs: np.ndarray) -> pd.DataFrame:
    rows = errors["row"].to_numpy()
    return pd.DataFrame(
        {
            "source_file": files[rows],
            "record_ref": refs[rows],
            "field": errors["field"].to_numpy(),
            "error_kind": errors["error_kind"].to_numpy(),
            "expected_action": errors["expected_action"].to_numpy(),
        }
    )


def _hospital_job(i: int) -> HospitalResult:
    s = _STATE
    h: Hospital = s["hospitals"][i]
    province: Province = s["province"]
    frames, operating_rooms = simulate_hospital(
        h, s["persons"], s["visit_weight"], s["county_codes"], s["address_prefix"], s["window"], s["seed"]
    )
    root: Path = s["out"]
    rel_dir = f"hospitals/{h.hospital_id}"
    subject_of = dict(
        zip(frames["encounters"]["encounter_id"], frames["encounters"]["patient_id"], strict=True)
    )
    ctx = Context(
        VENDOR_SPECS[h.vendor],
        province.outdated_codes,
        province.code,
        np.random.default_rng([s["seed"], 4, h.index]),
    )
    result = HospitalResult({}, [], [], pd.DataFrame(), pd.DataFrame())
    errors, identities = [], []
    for table in HOSPITAL_TABLES:
        vendor = VENDOR_SPECS[
            REPORTING_VENDOR.get(h.vendor, h.vendor) if table in REPORTING_TABLES else h.vendor
        ]
        ctx.vendor = vendor
        written, errs = inject(table, style(table, frames[table], vendor), s["error_rate"], ctx)
        files, refs, parts = _write(
            root,
            rel_dir,
            table,
            written,
            vendor,
            bom=h.index % 2 == 1,
            hospital_id=h.hospital_id,
            subject_of=subject_of,
        )
        errors.append(_truth_rows(errs, files, refs))
        if table == "patients":
            identities.append(
                pd.DataFrame(
                    {
                        "source_file": files,
                        "record_ref": refs,
                        "true_person_id": [f"P{p:09d}" for p in written["_person"].tolist()],
                    }
                )
            )
        for name, rows in parts:
            encoding = (
                "json"
                if vendor.format.startswith("fhir")
                else (
                    "xlsx"
                    if vendor.format == "xlsx"
                    else vendor.encoding
                    if vendor.encoding == "gbk"
                    else ("utf-8-sig" if h.index % 2 == 1 else "utf-8")
                )
            )
            result.files.append(
                {
                    "path": name,
                    "hospital_id": h.hospital_id,
                    "table": table,
                    "vendor": vendor.key,
                    "format": vendor.format,
                    "encoding": encoding,
                    "rows": rows,
                }
            )
        result.counts[table] += len(frames[table])
    result.counts.update(f"encounters.{t}" for t in frames["encounters"]["type"])
    census = frames["bed_census"]
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
        "operating_rooms": operating_rooms if len(frames["operations"]) else 0,
        "departments": ";".join(catalogue.LEVEL_DEPARTMENTS[h.level]),
        **{k.lower(): v for k, v in sorted(h.equipment.items())},
    }
    result.errors = pd.concat(errors, ignore_index=True)
    result.identities = pd.concat(identities, ignore_index=True)
    return result


def _case_report_job() -> dict[str, Any]:
    s = _STATE
    province: Province = s["province"]
    scale: Scale = s["scale"]
    start, end = _days(CASE_REPORT_START), s["window"].end
    days = np.arange(start, end)
    expected = casereports.expected_daily(province, days, scale.case_fraction, s["seed"])
    outbreaks = casereports.choose_outbreaks(province, expected, days, scale.outbreaks, s["seed"])
    disease, onset, county, outbreak = casereports.draw_onsets(expected, days, outbreaks, s["seed"])
    frame = casereports.build_case_reports(
        province, s["hospitals"], disease, onset, county, outbreak, end, s["seed"]
    )
    surviving = np.bincount(
        frame["_outbreak"].to_numpy()[frame["_outbreak"].to_numpy() >= 0], minlength=len(outbreaks)
    )
    outbreaks = [
        casereports.Outbreak(o.county, o.disease, o.start, o.end, int(surviving[j]))
        for j, o in enumerate(outbreaks)
    ]
    vendor = VENDOR_SPECS["cdc_nndrs"]
    root: Path = s["out"]
    files_out, errors, identities = [], [], []
    years = frame["report_ts"].dt.year.to_numpy()
    for year in np.unique(years):
        part = frame[years == year]
        ctx = Context(
            vendor, province.outdated_codes, province.code, np.random.default_rng([s["seed"], 9, int(year)])
        )
        written, errs = inject("case_reports", style("case_reports", part, vendor), s["error_rate"], ctx)
        name = f"cdc/case_reports_{year}.csv"
        write_csv(root / name, "case_reports", written, vendor)
        refs = np.arange(1, len(written) + 1).astype(str).astype(object)
        files = np.full(len(written), name, dtype=object)
        errors.append(_truth_rows(errs, files, refs))
        identities.append(
            pd.DataFrame(
                {"source_file": files, "record_ref": refs, "true_person_id": written["_person"].to_numpy()}
            )
        )
        files_out.append(
            {
                "path": name,
                "hospital_id": "",
                "table": "case_reports",
                "vendor": vendor.key,
                "format": "csv",
                "encoding": "gbk",
                "rows": len(written),
            }
        )
    classes = Counter(casereports.DISEASES[d].klass for d in frame["_disease"].tolist())
    return {
        "files": files_out,
        "errors": pd.concat(errors, ignore_index=True),
        "identities": pd.concat(identities, ignore_index=True),
        "outbreaks": casereports.outbreak_frame(province, outbreaks),
        "counts": {
            "case_reports": len(frame),
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
    persons = generate_persons(province, scale.persons, CENSUS_DAY, options.seed)
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
        address_prefix=[
            province.name_zh + province.cities[c.city_code][0] + c.name_zh for c in province.counties
        ],
    )
    results: list[HospitalResult] = []
    try:
        if options.jobs > 1:
            with mp.get_context("fork").Pool(options.jobs) as pool:
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


def _csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


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
    _csv(pd.DataFrame([r.registry for r in results]), out / "registry/hospitals.csv")
    _csv(pd.DataFrame([d for r in results for d in r.departments]), out / "registry/departments.csv")
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
    _csv(
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
    _csv(pd.DataFrame(regions), out / "registry/regions.csv")

    errors = pd.concat([r.errors for r in results] + [cases["errors"]], ignore_index=True)
    identities = pd.concat([r.identities for r in results] + [cases["identities"]], ignore_index=True)
    _csv(errors, out / "truth/errors.csv")
    _csv(identities, out / "truth/identities.csv")
    _csv(cases["outbreaks"], out / "truth/outbreaks.csv")
    _csv(
        pd.DataFrame(
            {
                "true_person_id": [f"P{i:09d}" for i in range(len(persons))],
                "county_code": np.array([c.code for c in province.counties])[persons.county],
                "sex": np.where(persons.sex == 0, "M", "F"),
                "birth_date": (EPOCH + persons.birth.astype("timedelta64[D]")).astype(str),
            }
        ),
        out / "truth/persons.csv",
    )

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
            "errors": {"total": len(errors), **dict(sorted(Counter(errors["error_kind"]).items()))},
            "identities": len(identities),
        },
        "files": [f for r in results for f in r.files] + cases["files"],
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return manifest
