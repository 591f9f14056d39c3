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
from provista.synth.activity import (
    WARM_UP_DAYS,
    Offsets,
    Window,
    bed_census,
    equipment_use,
    schedule_operations,
    simulate_chunk,
)
from provista.synth.fhir import write_fhir
from provista.synth.hospitals import LEVEL_EN, Hospital, allocate_demand, build_hospitals
from provista.synth.inject import Context, inject
from provista.synth.people import EPOCH, Persons, generate_persons
from provista.synth.province import Province, load_province
from provista.synth.vendors import KEYS, REPORTING_VENDOR, VENDOR_SPECS, Vendor, style
from provista.synth.writers import write_csv, write_xlsx

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
CHUNK_ENCOUNTERS = 100_000  # a hospital is generated in slices of about this many encounters
CHUNK_CASES = 100_000  # case reports are rendered and written in slices of this many
TRUTH_PARTS = "truth/.parts"


def _encoding(vendor: Vendor, bom: bool) -> str:
    if vendor.format.startswith("fhir"):
        return "json"
    if vendor.format == "xlsx":
        return "xlsx"
    return "gbk" if vendor.encoding == "gbk" else ("utf-8-sig" if bom else "utf-8")


class SourceWriter:
    """Writes one source's tables chunk by chunk and keeps what the truth and the manifest need.

    CSV and NDJSON files grow by appending; Bundles continue their numbering; Excel workbooks are written
    whole (hospitals that export Excel are generated in one chunk). Truth rows go to part files under
    ``truth/.parts`` so that no process holds them all.
    """

    def __init__(self, root: Path, rel_dir: str, source_id: str, bom: bool) -> None:
        self.root, self.rel_dir, self.source_id, self.bom = root, rel_dir, source_id, bom
        self.rows: Counter[str] = Counter()  # rows written per file
        self.bundles: Counter[str] = Counter()  # bundles written per table
        self.entries: dict[str, dict[str, Any]] = {}  # manifest entry per file
        self.errors = root / TRUTH_PARTS / f"{source_id}.errors.csv"
        self.identities = root / TRUTH_PARTS / f"{source_id}.identities.csv"
        self.errors.parent.mkdir(parents=True, exist_ok=True)
        for part in (self.errors, self.identities):
            part.write_bytes(b"")

    def write(
        self,
        table: str,
        frame: pd.DataFrame,
        vendor: Vendor,
        errors: pd.DataFrame,
        subject_of: dict[str, str] | None = None,
        file_stem: str | None = None,
    ) -> None:
        """Write ``frame`` (vendor-styled, errors injected) and record its truth rows."""
        n = len(frame)
        stem = file_stem or table
        if vendor.format == "csv":
            name = f"{self.rel_dir}/{stem}.csv"
            write_csv(self.root / name, table, frame, vendor, bom=self.bom, append=self.rows[name] > 0)
            parts = [(name, n)]
            refs = (self.rows[name] + np.arange(1, n + 1)).astype(str).astype(object)
        elif vendor.format == "xlsx":
            parts = [
                (f"{self.rel_dir}/{f}", rows)
                for f, rows in write_xlsx(self.root / self.rel_dir, table, frame, vendor)
            ]
            refs = np.concatenate([np.arange(1, rows + 1) for _, rows in parts]).astype(str).astype(object)
        else:
            bundles = vendor.format == "fhir_bundle"
            parts = [
                (f"{self.rel_dir}/{f}", rows)
                for f, rows in write_fhir(
                    self.root / self.rel_dir,
                    table,
                    frame,
                    self.source_id,
                    subject_of or {},
                    bundles,
                    first_bundle=self.bundles[table] + 1,
                    append=self.rows[f"{self.rel_dir}/{table}"] > 0,
                )
            ]
            self.bundles[table] += len(parts) if bundles else 0
            self.rows[f"{self.rel_dir}/{table}"] += n
            ids = frame[KEYS[table]].astype(str)
            if "_resource_id" in frame:
                ids = frame["_resource_id"].where(frame["_resource_id"].notna(), ids).astype(str)
            refs = ids.to_numpy(dtype=object)
        files = (
            np.concatenate([np.full(rows, f, dtype=object) for f, rows in parts])
            if parts
            else np.zeros(0, dtype=object)
        )
        for f, rows in parts:
            self.rows[f] += rows
            entry = self.entries.setdefault(
                f,
                {
                    "path": f,
                    "hospital_id": self.source_id if self.rel_dir.startswith("hospitals") else "",
                    "table": table,
                    "vendor": vendor.key,
                    "format": vendor.format,
                    "encoding": _encoding(vendor, self.bom),
                    "rows": 0,
                },
            )
            entry["rows"] += rows
        at = errors["row"].to_numpy()
        _append_csv(
            self.errors,
            pd.DataFrame(
                {
                    "source_file": files[at],
                    "record_ref": refs[at],
                    "field": errors["field"].to_numpy(),
                    "error_kind": errors["error_kind"].to_numpy(),
                    "expected_action": errors["expected_action"].to_numpy(),
                }
            ),
        )
        if "_person" in frame:
            people = frame["_person"].tolist()
            ids = people if table == "case_reports" else [f"P{p:09d}" for p in people]
            _append_csv(
                self.identities,
                pd.DataFrame({"source_file": files, "record_ref": refs, "true_person_id": ids}),
            )


def _append_csv(path: Path, frame: pd.DataFrame) -> None:
    if len(frame):
        with open(path, "a", encoding="utf-8", newline="") as f:
            frame.to_csv(f, index=False, header=False, lineterminator="\n")


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
        subject_of = dict(zip(encounters["encounter_id"], encounters["patient_id"], strict=True))
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
    emit("operations", operations, dict(zip(ops["encounter_id"], ops["patient_id"], strict=True)))
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


def _join_parts(
    out: Path, sources: list[str], kind: str, header: str, count_column: int | None = None
) -> Counter[str]:
    """Concatenate the sources' truth part files in source order; count rows (by one column's value)."""
    counts: Counter[str] = Counter()
    parts = out / TRUTH_PARTS
    with open(out / f"truth/{kind}.csv", "w", encoding="utf-8", newline="") as target:
        target.write(header + "\n")
        for source in sources:
            part = parts / f"{source}.{kind}.csv"
            with open(part, encoding="utf-8") as f:
                for block in iter(lambda: f.read(1 << 20), ""):
                    target.write(block)
            with open(part, encoding="utf-8") as f:
                for line in f:
                    counts[
                        line.rstrip("\n").split(",")[count_column] if count_column is not None else kind
                    ] += 1
            part.unlink()
    return counts


def _write_persons(path: Path, persons: Persons, province: Province, chunk: int = 1_000_000) -> None:
    codes = np.array([c.code for c in province.counties])
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("true_person_id,county_code,sex,birth_date\n")
        for lo in range(0, len(persons), chunk):
            rows = np.arange(lo, min(lo + chunk, len(persons)))
            pd.DataFrame(
                {
                    "true_person_id": [f"P{i:09d}" for i in rows],
                    "county_code": codes[persons.county[rows]],
                    "sex": np.where(persons.sex[rows] == 0, "M", "F"),
                    "birth_date": (EPOCH + persons.birth[rows].astype("timedelta64[D]")).astype(str),
                }
            ).to_csv(f, index=False, header=False, lineterminator="\n")


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

    sources = [r.registry["hospital_id"] for r in results] + ["cdc"]
    error_kinds = _join_parts(
        out, sources, "errors", "source_file,record_ref,field,error_kind,expected_action", count_column=3
    )
    identities = _join_parts(out, sources, "identities", "source_file,record_ref,true_person_id")
    (out / TRUTH_PARTS).rmdir()
    _csv(cases["outbreaks"], out / "truth/outbreaks.csv")
    _write_persons(out / "truth/persons.csv", persons, province)

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
