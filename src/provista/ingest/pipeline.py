"""`provista build` and `provista ingest`: sources → read → de-duplicate → clean → pseudonymise → load.

Nothing is lost: every record of a file ends loaded, merged as a duplicate, or quarantined with a reason,
and each file's ``ingest_log`` row must add up (rows_in = loaded + duplicates + quarantined) or the load
fails. A file already loaded (same SHA-256) is skipped. Builds and incremental loads write a new warehouse
version and swap it in atomically.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from provista.engine import DuckDBEngine, atomic_build
from provista.errors import ProvistaError
from provista.ingest.dicom import read_dicom
from provista.ingest.fhir import read_fhir
from provista.ingest.mapping import SourceFormatError
from provista.ingest.tabular import read_tabular
from provista.ingest.vcf import read_vcf
from provista.privacy.pseudonym import Pseudonymiser
from provista.quality.checks import Context
from provista.quality.clean import clean
from provista.quality.rules import load_rules
from provista.synth.diseases import CLASS_EN, DISEASES
from provista.synth.province import Province, load_province
from provista.warehouse.marts import build_marts
from provista.warehouse.schema import FACTS, TARGET, columns, create_all

SOURCE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".json", ".ndjson", ".dcm", ".vcf", ".gz"}
SKIP_FOLDERS = {"registry", "truth"}
Progress = Callable[[str, int, int], None]


class LoadAccountingError(ProvistaError, RuntimeError):
    """A file's records do not add up: something would have been lost."""


@dataclass
class LoadSummary:
    files: int = 0
    skipped: list[str] = field(default_factory=list)
    rows_in: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    tables: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)  # files refused whole, with the reason

    def merge(self, other: LoadSummary) -> None:
        for name in ("files", "rows_in", "loaded", "duplicates", "quarantined"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.skipped += other.skipped
        self.failed += other.failed
        self.reasons.update(other.reasons)
        self.tables.update(other.tables)


def discover(sources: Path) -> list[Path]:
    """Every source file under ``sources`` (registry and truth folders excepted), in a stable order."""
    return sorted(
        p
        for p in sources.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SOURCE_SUFFIXES
        and not SKIP_FOLDERS & set(p.relative_to(sources).parts[:-1])
        and p.name != "manifest.json"
    )


def _fingerprint(table: str, raw: pd.Series, fhir: bool) -> list[bytes]:
    """Exact-duplicate key of each record: a digest of the record as sent (FHIR: without its resource id)."""

    def strip_id(text: str) -> str:
        try:
            resource = json.loads(text)
        except json.JSONDecodeError:
            return text
        resource.pop("id", None)
        return json.dumps(resource, sort_keys=True, ensure_ascii=False)

    texts = raw.map(strip_id) if fhir else raw
    return [hashlib.blake2b(t.encode(), digest_size=16).digest() for t in texts]


class Buffer:
    """Rows waiting to be inserted, flushed in large batches (one insert per table, not per file)."""

    def __init__(self, engine: DuckDBEngine, rows: int = 250_000) -> None:
        self.engine, self.limit = engine, rows
        self.frames: dict[str, list[pd.DataFrame]] = {}
        self.count: Counter[str] = Counter()

    def append(self, table: str, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        self.frames.setdefault(table, []).append(frame)
        self.count[table] += len(frame)
        if self.count[table] >= self.limit:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self.frames):
            frames = self.frames.pop(name, [])
            if frames:
                self.engine.append(name, pd.concat(frames, ignore_index=True))
            self.count[name] = 0


class Collector:
    """Rows gathered by a worker process, handed to the main process's Buffer."""

    def __init__(self) -> None:
        self.frames: dict[str, list[pd.DataFrame]] = {}

    def append(self, table: str, frame: pd.DataFrame) -> None:
        if not frame.empty:
            self.frames.setdefault(table, []).append(frame)


class Loader:
    """Loads source files into one warehouse version (or, in a worker, into a Collector)."""

    def __init__(
        self,
        sink: Buffer | Collector,
        root: Path,
        key: bytes,
        province: Province,
        mappings_dir: str | None = None,
        loaded_hashes: set[str] | None = None,
        next_load_id: int = 1,
    ) -> None:
        self.root, self.mappings_dir = root, mappings_dir
        self.pseudo = Pseudonymiser(key)
        self.ctx = Context({c.code for c in province.counties}, dict(province.outdated_codes))
        self.disease = {d.name_zh: d for d in DISEASES}
        self.buffer = sink
        self.seen: dict[tuple[str, str], dict[bytes, str]] = {}  # record fingerprints per source and table
        self.raw_quarantine: list[pd.DataFrame] = []  # verbatim records, kept out of the warehouse
        self.loaded_hashes = loaded_hashes if loaded_hashes is not None else set()
        self.next_load_id = next_load_id

    def _batches(self, path: Path, source: str) -> tuple[str, str, Iterator[tuple[str, pd.DataFrame]]]:
        if path.suffix.lower() in (".json", ".ndjson"):
            tables = read_fhir(path, source)
            return "fhir", "utf-8", iter(tables.items())
        mapping, encoding, batches = read_tabular(path, source, self.mappings_dir)
        return mapping.mapping, encoding, ((mapping.table, b) for b in batches)

    def load_file(self, path: Path, summary: LoadSummary) -> None:
        """Load one file; its rows reach the warehouse only if the whole file was read and adds up."""
        staged = Collector()
        self._load_file(path, summary, staged)
        for table, frames in staged.frames.items():
            for frame in frames:
                self.buffer.append(table, frame)

    def _load_file(self, path: Path, summary: LoadSummary, staged: Collector) -> None:
        source = path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else path.name
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in self.loaded_hashes:
            summary.skipped.append(source)
            return
        self.loaded_hashes.add(digest)
        hospital_id = hospital_of(path)
        load_id, self.next_load_id = self.next_load_id, self.next_load_id + 1
        if path.suffix.lower() == ".dcm" or path.name.lower().endswith((".vcf", ".vcf.gz")):
            self._load_imaging_or_variants(path, source, hospital_id, load_id, digest, summary, staged)
            return
        fmt, encoding, batches = self._batches(path, source)
        counts = Counter[str]()
        dq: Counter[tuple[str, str]] = Counter()
        checked: Counter[str] = Counter()
        tables = set()
        for table, batch in batches:
            if table not in TARGET:  # lines of an NDJSON file that are not JSON at all
                counts["rows_in"] += len(batch)
                counts["quarantined"] += len(batch)
                unread = pd.DataFrame(
                    {
                        "record_ref": batch["record_ref"],
                        "reason_code": "STRUCTURE",
                        "detail": "not a JSON resource",
                        "raw": batch["raw"],
                    }
                )
                staged.append(
                    "quarantine",
                    unread.drop(columns=["raw"]).assign(
                        load_id=load_id, source_file=source, source_table="unparsed"
                    ),
                )
                self.raw_quarantine.append(
                    unread[["record_ref", "reason_code", "raw"]].assign(load_id=load_id, source_file=source)
                )
                summary.reasons.update(unread["reason_code"])
                continue
            tables.add(table)
            counts["rows_in"] += len(batch)
            batch = batch.reset_index(drop=True)
            # A source's records are compared across its files too: Bundles split a re-send over files.
            seen = self.seen.setdefault((hospital_id or source, table), {})
            prints = _fingerprint(table, batch["raw"], fmt == "fhir")
            here = [f"{source}#{ref}" for ref in batch["record_ref"]]
            first_of = [seen.setdefault(fp, at) for fp, at in zip(prints, here, strict=True)]
            duplicate = pd.Series([f != h for f, h in zip(first_of, here, strict=True)])
            if duplicate.any():
                staged.append(
                    "merged",
                    pd.DataFrame(
                        {
                            "load_id": load_id,
                            "source_file": source,
                            "record_ref": batch.loc[duplicate, "record_ref"],
                            "duplicate_of": [f for f, d in zip(first_of, duplicate, strict=True) if d],
                        }
                    ),
                )
                counts["duplicates"] += int(duplicate.sum())
            result = clean(table, batch[~duplicate.to_numpy()].copy(), self.ctx)
            for rule, n in result.failures.items():
                dq[(table, rule)] += n
            checked[table] += result.checked
            if len(result.quarantine):
                staged.append(
                    "quarantine",
                    result.quarantine.drop(columns=["raw"]).assign(
                        load_id=load_id, source_file=source, source_table=table
                    ),
                )
                self.raw_quarantine.append(
                    result.quarantine[["record_ref", "reason_code", "raw"]].assign(
                        load_id=load_id, source_file=source
                    )
                )
                summary.reasons.update(result.quarantine["reason_code"])
            counts["quarantined"] += len(result.quarantine)
            rows = self._to_warehouse(table, result.records, hospital_id, source)
            staged.append(TARGET[table], rows)
            counts["loaded"] += len(rows)
            summary.tables[TARGET[table]] += len(rows)
            repaired = pd.DataFrame(
                [(load_id, source, k, v) for k, v in result.repaired.items() if v],
                columns=["load_id", "source_file", "what", "count"],
            )
            staged.append("repair_log", repaired)
        if counts["rows_in"] != counts["loaded"] + counts["duplicates"] + counts["quarantined"]:
            raise LoadAccountingError(
                f"{source}: {counts['rows_in']} records in, but {counts['loaded']} loaded + "
                f"{counts['duplicates']} duplicates + {counts['quarantined']} quarantined"
            )
        rules = {r.id: r for r in load_rules()}
        staged.append(
            "dq_result",
            pd.DataFrame(
                [
                    (
                        load_id,
                        source,
                        hospital_id,
                        t,
                        rule,
                        rules[rule].kind,
                        rules[rule].severity,
                        checked[t],
                        n,
                    )
                    for (t, rule), n in sorted(dq.items())
                ],
                columns=[
                    "load_id",
                    "source_file",
                    "hospital_id",
                    "source_table",
                    "rule_id",
                    "kind",
                    "severity",
                    "checked",
                    "failed",
                ],
            ),
        )
        self._log(
            staged, load_id, source, digest, hospital_id, ",".join(sorted(tables)), fmt, encoding, counts
        )
        summary.files += 1
        for k in ("rows_in", "loaded", "duplicates", "quarantined"):
            setattr(summary, k, getattr(summary, k) + counts[k])

    def _log(
        self,
        staged: Collector,
        load_id: int,
        source: str,
        digest: str,
        hospital_id: str | None,
        tables: str,
        fmt: str,
        encoding: str,
        counts: Counter[str],
    ) -> None:
        """The file's accounting row: rows in = loaded + duplicates + quarantined."""
        staged.append(
            "ingest_log",
            pd.DataFrame(
                [
                    {
                        "load_id": load_id,
                        "source_file": source,
                        "sha256": digest,
                        "hospital_id": hospital_id,
                        "source_tables": tables,
                        "format": fmt,
                        "encoding": encoding,
                        "rows_in": counts["rows_in"],
                        "loaded": counts["loaded"],
                        "duplicates": counts["duplicates"],
                        "quarantined": counts["quarantined"],
                        "loaded_at": pd.Timestamp.now(),
                    }
                ]
            ),
        )

    def _load_imaging_or_variants(
        self,
        path: Path,
        source: str,
        hospital_id: str | None,
        load_id: int,
        digest: str,
        summary: LoadSummary,
        staged: Collector,
    ) -> None:
        """DICOM metadata (one row per instance) or VCF genotype calls; the readers refuse damaged files."""
        if path.suffix.lower() == ".dcm":
            frame = read_dicom(path)
            out = frame.drop(columns=["patient_id", "patient_name", "patient_birth_date", "patient_sex"])
            out["patient_key"] = self.pseudo.tokens(
                "patient", (f"{hospital_id}|{p}" for p in frame["patient_id"])
            )
            out["sex"] = frame["patient_sex"]
            out["birth_year_month"] = frame["patient_birth_date"].dt.strftime("%Y-%m")
            table, fmt = "imaging_study", "dicom"
        else:
            frame = read_vcf(path)
            out = frame.drop(columns=["sample"])
            out["sample_key"] = self.pseudo.tokens("sample", frame["sample"].astype(str))
            table, fmt = "variant", "vcf"
        out["source_file"] = source
        if hospital_id is not None:
            out["hospital_id"] = hospital_id
        staged.append(table, out[[c for c in columns(table) if c in out]])
        counts = Counter({"rows_in": len(frame), "loaded": len(frame)})
        encoding = "binary" if fmt == "dicom" else "utf-8"
        self._log(staged, load_id, source, digest, hospital_id, table, fmt, encoding, counts)
        summary.files += 1
        summary.rows_in += len(frame)
        summary.loaded += len(frame)
        summary.tables[table] += len(frame)

    def _to_warehouse(
        self, table: str, r: pd.DataFrame, hospital_id: str | None, source: str
    ) -> pd.DataFrame:
        """Cleaned records → warehouse rows: identities replaced by pseudonyms, lineage attached."""
        out = r.drop(columns=[c for c in ("name", "phone", "address", "id_number") if c in r])
        if table == "patients":
            patient = self.pseudo.tokens("patient", (f"{hospital_id}|{p}" for p in r["patient_id"]))
            out["patient_key"] = patient
            out["person_key"] = [
                self.pseudo.token("person", i) if isinstance(i, str) and i else k
                for i, k in zip(r["id_number"], patient, strict=True)
            ]
            out["birth_year_month"] = pd.to_datetime(r["birth_date"]).dt.strftime("%Y-%m")
            out["outside_province"] = r["outside_province"].eq("true") if "outside_province" in r else False
            out = out.drop(columns=["patient_id", "birth_date"])
        if table == "encounters":
            out["patient_key"] = self.pseudo.tokens(
                "patient", (f"{hospital_id}|{p}" for p in r["patient_id"])
            )
            out = out.drop(columns=["patient_id"])
        if table == "case_reports":
            out["person_key"] = [
                self.pseudo.token("person", i)
                if isinstance(i, str) and i
                else self.pseudo.token("case", f"{source}|{ref}")
                for i, ref in zip(r["id_number"], r["record_ref"], strict=True)
            ]
            out["disease_class"] = r["disease"].map(lambda d: CLASS_EN[self.disease[d].klass])
            out["icd10"] = r["disease"].map(lambda d: self.disease[d].icd10)
            out = out.drop(columns=["birth_date"], errors="ignore")
        if hospital_id is not None:
            out["hospital_id"] = hospital_id
        out["source_file"] = source
        return out[[c for c in columns(TARGET[table]) if c in out]]


def _load_registry(engine: DuckDBEngine, sources: Path, province: Province) -> None:
    """Regions and hospitals: the commission's clean master data (registry/), or the shipped province."""
    regions = sources / "registry/regions.csv"
    if regions.exists():
        engine.append("region", pd.read_csv(regions, dtype={"code": str, "parent_code": str}))
    else:
        pop = province.county_population
        rows = [
            {
                "code": province.code,
                "name_zh": province.name_zh,
                "name_en": province.name_en,
                "level": "province",
                "parent_code": None,
                "population": int(pop.sum()),
            }
        ]
        rows += [
            {
                "code": c,
                "name_zh": zh,
                "name_en": en,
                "level": "prefecture",
                "parent_code": province.code,
                "population": int(
                    sum(p for k, p in zip(province.counties, pop, strict=True) if k.city_code == c)
                ),
            }
            for c, (zh, en) in province.cities.items()
        ]
        rows += [
            {
                "code": k.code,
                "name_zh": k.name_zh,
                "name_en": k.name_en,
                "level": "county",
                "parent_code": k.city_code,
                "population": int(p),
            }
            for k, p in zip(province.counties, pop, strict=True)
        ]
        engine.append("region", pd.DataFrame(rows))
    hospitals = sources / "registry/hospitals.csv"
    if hospitals.exists():
        engine.append("hospital", pd.read_csv(hospitals, dtype={"county_code": str, "city_code": str}))


def _finalise(engine: DuckDBEngine, report: Progress) -> None:
    """Derived tables: one row per linked person, each encounter's person, and the marts."""
    report("persons", 0, 1)
    engine.execute(
        "CREATE OR REPLACE TABLE person AS SELECT person_key, any_value(sex) AS sex, "
        "any_value(birth_year_month) AS birth_year_month, any_value(county_code) AS county_code "
        "FROM patient_record GROUP BY person_key"
    )
    engine.execute(
        "UPDATE encounter SET person_key = p.person_key FROM patient_record p "
        "WHERE encounter.hospital_id = p.hospital_id AND encounter.patient_key = p.patient_key"
    )
    report("persons", 1, 1)
    marts = build_marts(engine)
    report("marts", len(marts), len(marts))


def hospital_of(path: Path) -> str | None:
    """The hospital a file belongs to: the folder after ``hospitals/`` in its path, if any."""
    parts = path.parts
    for k in range(len(parts) - 2, -1, -1):
        if parts[k] == "hospitals" and k + 1 < len(parts) - 1:
            return parts[k + 1]
    return None


def _verify_accounting(engine: DuckDBEngine) -> None:
    """Count, table by table, what each file left in the warehouse against its ingest_log row."""
    loaded = " UNION ALL ".join(f"SELECT source_file FROM {t}" for t in FACTS)
    sql = f"""
        SELECT l.source_file, l.loaded, l.duplicates, l.quarantined,
               (SELECT count(*) FROM ({loaded}) f WHERE f.source_file = l.source_file) AS found_loaded,
               (SELECT count(*) FROM merged m WHERE m.source_file = l.source_file) AS found_merged,
               (SELECT count(*) FROM quarantine q WHERE q.source_file = l.source_file) AS found_quarantined
        FROM ingest_log l"""
    frame = engine.frame(sql)
    bad = frame[
        (frame["loaded"] != frame["found_loaded"])
        | (frame["duplicates"] != frame["found_merged"])
        | (frame["quarantined"] != frame["found_quarantined"])
    ]
    if len(bad):
        r = bad.iloc[0]
        raise LoadAccountingError(
            f"{r['source_file']}: the log says {r['loaded']} loaded, {r['duplicates']} merged, "
            f"{r['quarantined']} quarantined; the warehouse holds {r['found_loaded']}, {r['found_merged']}, "
            f"{r['found_quarantined']}",
            hint="the build was not swapped in; report this with the file",
        )


# What worker processes need, inherited by fork (never pickled).
_TASK: dict[str, Any] = {}


def _tasks(root: Path, files: list[Path]) -> list[list[Path]]:
    """A hospital's files go to one worker (duplicates are found across them); other files one by one."""
    groups: dict[str, list[Path]] = {}
    for path in files:
        groups.setdefault(hospital_of(path) or str(path), []).append(path)
    return list(groups.values())


def _run_task(
    task: tuple[int, list[Path]],
) -> tuple[dict[str, list[pd.DataFrame]], LoadSummary, list[pd.DataFrame]]:
    first_load_id, paths = task
    sink = Collector()
    loader = Loader(
        sink,
        _TASK["root"],
        _TASK["key"],
        _TASK["province"],
        _TASK["mappings_dir"],
        loaded_hashes=set(_TASK["loaded_hashes"]),
        next_load_id=first_load_id,
    )
    summary = LoadSummary()
    for path in paths:
        try:
            loader.load_file(path, summary)
        except SourceFormatError as exc:
            summary.failed.append(str(exc))
        except (ValueError, KeyError, UnicodeError, AttributeError, TypeError, IndexError) as exc:
            # Malformed content the readers did not foresee: refuse the file, keep the build going.
            summary.failed.append(f"{path.name}: could not be read ({type(exc).__name__}: {exc})")
    return sink.frames, summary, loader.raw_quarantine


def _load_all(
    engine: DuckDBEngine,
    root: Path,
    key: bytes,
    province: Province,
    mappings_dir: str | None,
    files: list[Path],
    summary: LoadSummary,
    report: Progress,
    jobs: int,
) -> list[pd.DataFrame]:
    """Load ``files`` with ``jobs`` worker processes; return the quarantined records, verbatim.

    Files whose content was loaded before, or that repeat another file of this load, are skipped.
    """
    loaded = set(engine.frame("SELECT sha256 FROM ingest_log")["sha256"])
    unique = []
    for path in files:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in loaded:
            summary.skipped.append(
                path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
            )
        else:
            loaded.add(digest)
            unique.append(path)
    groups = _tasks(root, unique)
    first = int(engine.scalar("SELECT coalesce(max(load_id), 0) + 1 FROM ingest_log"))
    tasks = []
    for group in groups:
        tasks.append((first, group))
        first += len(group)
    _TASK.update(root=root, key=key, province=province, mappings_dir=mappings_dir, loaded_hashes=frozenset())
    buffer = Buffer(engine)
    raw: list[pd.DataFrame] = []
    done = 0
    try:
        with mp.get_context("fork").Pool(jobs) if jobs > 1 else nullcontext() as pool:
            results = pool.imap(_run_task, tasks) if pool else map(_run_task, tasks)
            for (frames, part, quarantined), (_, group) in zip(results, tasks, strict=True):
                for table, chunk in frames.items():
                    for frame in chunk:
                        buffer.append(table, frame)
                summary.merge(part)
                raw += quarantined
                done += len(group)
                report("load", done, len(unique))
    finally:
        _TASK.clear()
    buffer.flush()
    return raw


def build(
    sources: Path,
    warehouse: Path,
    key: bytes,
    province: str | Path = "zhejiang",
    mappings_dir: str | None = None,
    progress: Progress | None = None,
    jobs: int = 2,
) -> LoadSummary:
    """Build a new warehouse from every file under ``sources``; swap it in when done."""
    report = progress or (lambda stage, done, total: None)
    if not sources.is_dir():
        raise ProvistaError(
            f"{sources} is not a folder", hint="give the folder that holds the hospitals' files"
        )
    prov = load_province(province)
    files = discover(sources)
    report("discover", 1, 1)
    summary = LoadSummary()
    with atomic_build(warehouse) as engine:
        create_all(engine)
        _load_registry(engine, sources, prov)
        raw = _load_all(engine, sources, key, prov, mappings_dir, files, summary, report, jobs)
        _verify_accounting(engine)
        _finalise(engine, report)
    _save_quarantine_store(warehouse, raw, append=False)
    return summary


def ingest(
    files: list[Path],
    warehouse: Path,
    key: bytes,
    root: Path | None = None,
    province: str | Path = "zhejiang",
    mappings_dir: str | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
) -> LoadSummary:
    """Add files to an existing warehouse (a new version, swapped in); files already loaded change nothing."""
    report = progress or (lambda stage, done, total: None)
    if not warehouse.exists():
        raise ProvistaError(f"no warehouse at {warehouse}", hint="run `provista build` first")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ProvistaError(f"no such file: {', '.join(missing)}", hint="check the paths")
    summary = LoadSummary()
    with atomic_build(warehouse, start_from_current=True) as engine:
        create_all(engine)
        raw = _load_all(
            engine,
            (root or Path(".")).resolve(),
            key,
            load_province(province),
            mappings_dir,
            [f.resolve() for f in files],
            summary,
            report,
            jobs,
        )
        _verify_accounting(engine)
        _finalise(engine, report)
    _save_quarantine_store(warehouse, raw, append=True)
    return summary


def quarantine_store(warehouse: Path) -> Path:
    """Where the quarantined records are kept verbatim: beside the warehouse, not in it."""
    return warehouse.with_name(warehouse.name + ".quarantine.parquet")


def _save_quarantine_store(warehouse: Path, frames: list[pd.DataFrame], append: bool) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = quarantine_store(warehouse)
    columns = ["load_id", "source_file", "record_ref", "reason_code", "raw"]
    parts = [pq.read_table(target).to_pandas()] if append and target.exists() else []
    frame = (
        pd.concat(parts + [f[columns] for f in frames], ignore_index=True)
        if parts or frames
        else (pd.DataFrame(columns=columns))
    )
    building = target.with_name(target.name + ".building")
    pq.write_table(pa.Table.from_pandas(frame[columns].astype({"raw": str}), preserve_index=False), building)
    building.replace(target)
