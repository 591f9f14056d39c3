"""`provista build` and `provista ingest`: sources → read → de-duplicate → clean → pseudonymise → load.

Nothing is lost: every record of a file ends loaded, merged as a duplicate, or quarantined with a reason,
and each file's ``ingest_log`` row must add up (rows_in = loaded + duplicates + quarantined) or the load
fails. A file already loaded (same SHA-256) is skipped. Builds and incremental loads write a new warehouse
version and swap it in atomically.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing as mp
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pandas as pd

from provista.engine import DuckDBEngine, Engine, atomic_build
from provista.errors import ProvistaError
from provista.ingest.fhir import DIGEST_SCHEME
from provista.ingest.loader import (
    LoadAccountingError,
    Loader,
    LoadSummary,
    Spool,
    hospital_of,
)
from provista.ingest.mapping import SourceFormatError
from provista.linkage.empi import LinkStats, link_persons
from provista.linkage.encode import TOKEN_SCHEME
from provista.linkage.overrides import effective
from provista.privacy.pseudonym import key_check
from provista.synth.province import Province, load_province
from provista.warehouse.alerts import derive_alerts
from provista.warehouse.marts import build_marts
from provista.warehouse.schema import FACTS, create_all

SOURCE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".json", ".ndjson", ".dcm", ".vcf", ".gz"}
SKIP_FOLDERS = {"registry", "truth"}
Progress = Callable[[str, int, int], None]


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


def _load_registry(engine: Engine, sources: Path, province: Province) -> None:
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


def _finalise(engine: Engine, report: Progress, warehouse: Path) -> LinkStats:
    """Derived tables: the person index, one row per linked person, each encounter's person, the marts."""
    stats = link_persons(engine, effective(warehouse), report)
    report("persons", 0, 1)
    # min(), not any_value(): where a person's records disagree, both engines must pick the same value.
    engine.execute(
        "CREATE OR REPLACE TABLE person AS SELECT person_key, min(sex) AS sex, "
        "min(birth_year_month) AS birth_year_month, min(county_code) AS county_code "
        "FROM patient_record GROUP BY person_key"
    )
    engine.set_from(
        "encounter",
        "person_key",
        "SELECT hospital_id, patient_key, min(person_key) AS person_key FROM patient_record "
        "GROUP BY hospital_id, patient_key",
        ["hospital_id", "patient_key"],
    )
    report("persons", 1, 1)
    marts = build_marts(engine)
    report("marts", len(marts), len(marts))
    # The alert producers are analytics in DuckDB's SQL: on Spark they read this version through DuckDB.
    with engine.analytics("alert") as reader:
        derive_alerts(reader, report)
    return stats


# How records are keyed across loads; a later load must key them the same way to match what is loaded.
SCHEMES = {"linkage_tokens": TOKEN_SCHEME, "record_digests": DIGEST_SCHEME}


def _build_info(key: bytes) -> pd.DataFrame:
    info = SCHEMES | {"key_check": key_check(key)}
    return pd.DataFrame({"name": list(info), "value": list(info.values())})


def _check_same_keying(engine: Engine, key: bytes, warehouse: Path, record: bool = True) -> None:
    """Refuse to add files under another key, token or digest scheme than the warehouse's: their
    pseudonyms and linkage tokens would match nothing already loaded, and the same people would silently
    split; records sent again would not be known as duplicates. A warehouse that says nothing and links
    nobody yet takes this key and these schemes (written when ``record``)."""
    info = dict(engine.frame("SELECT name, value FROM build_info").itertuples(index=False))
    rebuild = f"run `provista build` again, from all the sources, to make {warehouse} afresh"
    if not info:
        if engine.scalar("SELECT count(*) FROM identity"):
            raise ProvistaError(
                f"{warehouse} was built by an earlier Provista, whose linkage tokens differ from this one's",
                hint=rebuild,
            )
        if record:
            engine.append("build_info", _build_info(key))
        return
    if info.get("key_check") != key_check(key):
        raise ProvistaError(
            f"{warehouse} was built with another pseudonym key than this one",
            hint="use the key it was built with (PROVISTA_PSEUDONYM_KEY_FILE); after a key rotation, "
            + rebuild,
        )
    for name, scheme in SCHEMES.items():
        if info.get(name) != scheme:
            raise ProvistaError(
                f"{warehouse} holds {name.replace('_', ' ')} of scheme {info.get(name)}, not {scheme}",
                hint=rebuild,
            )


def _verify_accounting(engine: Engine) -> None:
    """Count, table by table, what each file left in the warehouse against its ingest_log row."""
    loaded = " UNION ALL ".join(f"SELECT source_file FROM {t}" for t in FACTS)
    sql = f"""
        WITH f AS (SELECT source_file, count(*) AS n FROM ({loaded}) x GROUP BY source_file),
             m AS (SELECT source_file, count(*) AS n FROM merged GROUP BY source_file),
             q AS (SELECT source_file, count(*) AS n FROM quarantine GROUP BY source_file)
        SELECT l.source_file, l.loaded, l.duplicates, l.quarantined,
               coalesce(f.n, 0) AS found_loaded, coalesce(m.n, 0) AS found_merged,
               coalesce(q.n, 0) AS found_quarantined
        FROM ingest_log l LEFT JOIN f ON f.source_file = l.source_file
             LEFT JOIN m ON m.source_file = l.source_file LEFT JOIN q ON q.source_file = l.source_file"""
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


# Loading makes millions of short-lived lists and strings: Python's default collector (every 700
# allocations) keeps walking the batches in flight. Measured on a sample of the medium province, 18 %
# less time per record with these thresholds (bench/bench_build.py measures the whole build).
BATCH_GC_THRESHOLDS = (100_000, 50, 100)


@contextmanager
def _batch_gc() -> Iterator[None]:
    """The collector's thresholds for batch work, restored afterwards (a server process goes on)."""
    before = gc.get_threshold()
    gc.set_threshold(*BATCH_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


# What worker processes need: set once per worker by ``_init_worker``.
_TASK: dict[str, Any] = {}


def _init_worker(task: dict[str, Any]) -> None:
    _TASK.update(task)
    gc.set_threshold(*BATCH_GC_THRESHOLDS)


def _tasks(root: Path, files: list[Path]) -> list[list[Path]]:
    """A hospital's files go to one worker (duplicates are found across them); other files one by one."""
    groups: dict[str, list[Path]] = {}
    for path in files:
        groups.setdefault(hospital_of(path) or str(path), []).append(path)
    return list(groups.values())


def _run_task(
    task: tuple[int, list[Path]],
) -> tuple[list[tuple[str, Path]], LoadSummary, list[pd.DataFrame]]:
    first_load_id, paths = task
    sink = Spool(_TASK["spool"])
    loader = Loader(
        sink,
        _TASK["root"],
        _TASK["key"],
        _TASK["province"],
        _TASK["mappings_dir"],
        digests=_TASK["digests"],
        next_load_id=first_load_id,
        known=_TASK["known"],
        run_started=_TASK["run_started"],
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
    return sink.close(), summary, loader.raw_quarantine


# Spooled files a table gathers before the main process inserts them (one INSERT reads them all).
INSERT_FILES = 16


class _Inserts:
    """The workers' spooled files, inserted table by table in batches of files, then deleted."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pending: dict[str, list[Path]] = {}

    def add(self, files: list[tuple[str, Path]]) -> None:
        for table, path in files:
            self.pending.setdefault(table, []).append(path)
            if len(self.pending[table]) >= INSERT_FILES:
                self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self.pending):
            paths = self.pending.pop(name, [])
            self.engine.append_files(name, paths)
            for path in paths:
                path.unlink()


def _sha256(path: Path) -> str:
    """A file's content hash: the same content is loaded once, whatever its name."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _shown(path: Path, root: Path) -> str:
    """A file as a message names it: relative to the sources' root, else by its name."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name


def _load_all(
    engine: Engine,
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
    unique, digests = [], {}
    for path in files:
        digest = digests[path] = _sha256(path)
        if digest in loaded:
            summary.skipped.append(_shown(path, root))
        else:
            loaded.add(digest)
            unique.append(path)
    groups = _tasks(root, unique)
    first = int(engine.scalar("SELECT coalesce(max(load_id), 0) + 1 FROM ingest_log"))
    tasks = []
    for group in groups:
        tasks.append((first, group))
        first += len(group)
    # Records loaded before, for the sources of this load: a re-sent record is a duplicate, not a new one.
    keys = sorted({hospital_of(p) or _shown(p, root) for p in unique})
    earlier = (
        engine.frame(f"SELECT * FROM record_digest WHERE source_key IN ({', '.join('?' * len(keys))})", keys)
        if keys
        else pd.DataFrame(columns=["source_key", "source_table", "digest", "first_ref"])
    )
    known: dict[tuple[str, str], dict[str, str]] = {}
    for (source_key, table), group in earlier.groupby(["source_key", "source_table"]):
        known[(source_key, table)] = dict(zip(group["digest"], group["first_ref"], strict=True))
    _TASK.update(
        root=root,
        key=key,
        province=province,
        mappings_dir=mappings_dir,
        digests=digests,
        known=known,
        run_started=pd.Timestamp.now(),
    )
    # Beside the warehouse (same disk), unless its path has characters DuckDB reads as a glob pattern.
    near = engine.path.parent
    spool = Path(
        tempfile.mkdtemp(prefix=".provista-spool-", dir=None if set("*?[]{}") & set(str(near)) else near)
    )
    _TASK["spool"] = spool
    inserts = _Inserts(engine)
    raw: list[pd.DataFrame] = []
    done = 0
    try:
        # forkserver, not fork: a process that already ran DuckDB or Splink threads (a server, a test
        # session) must not fork them mid-lock; each worker gets the task once, pickled.
        context = mp.get_context("forkserver")
        # The main process only inserts the workers' Parquet files: its database keeps half the memory
        # budget while the workers parse (each holds a file's rows).
        with (
            _batch_gc(),
            engine.memory_share(0.5),
            context.Pool(jobs, _init_worker, (dict(_TASK),)) if jobs > 1 else nullcontext() as pool,
        ):
            results = pool.imap(_run_task, tasks) if pool else map(_run_task, tasks)
            for (spooled, part, quarantined), (_, group) in zip(results, tasks, strict=True):
                inserts.add(spooled)
                summary.merge(part)
                raw += quarantined
                done += len(group)
                report("load", done, len(unique))
        inserts.flush()
    finally:
        _TASK.clear()
        shutil.rmtree(spool, ignore_errors=True)
    return raw


def build(
    sources: Path,
    warehouse: Path,
    key: bytes,
    province: str | Path = "zhejiang",
    mappings_dir: str | None = None,
    progress: Progress | None = None,
    jobs: int = 2,
    engine: str = "duckdb",
) -> LoadSummary:
    """Build a new warehouse from every file under ``sources``; swap it in when done.

    ``engine``: ``duckdb`` (``warehouse`` is a file) or ``spark`` (a directory of Parquet tables).
    """
    report = progress or (lambda stage, done, total: None)
    if not sources.is_dir():
        raise ProvistaError(
            f"{sources} is not a folder", hint="give the folder that holds the hospitals' files"
        )
    prov = load_province(province)
    files = discover(sources)
    report("discover", 1, 1)
    summary = LoadSummary()
    with atomic_build(warehouse, engine=engine) as db:
        create_all(db)
        db.append("build_info", _build_info(key))
        _load_registry(db, sources, prov)
        raw = _load_all(db, sources, key, prov, mappings_dir, files, summary, report, jobs)
        _verify_accounting(db)
        summary.linkage = _finalise(db, report, warehouse)
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
    engine: str = "duckdb",
) -> LoadSummary:
    """Add files to an existing warehouse (a new version, swapped in); files already loaded change nothing."""
    report = progress or (lambda stage, done, total: None)
    if not warehouse.exists():
        raise ProvistaError(f"no warehouse at {warehouse}", hint="run `provista build` first")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ProvistaError(f"no such file: {', '.join(missing)}", hint="check the paths")
    summary = LoadSummary()
    base, paths = (root or Path(".")).resolve(), [f.resolve() for f in files]
    before: set[str] = set()
    with DuckDBEngine(warehouse, read_only=True) as current:
        if {"build_info", "identity", "ingest_log"} <= set(current.tables()):  # else: an older warehouse
            _check_same_keying(current, key, warehouse, record=False)  # a wrong key is said even then
            before = set(current.frame("SELECT sha256 FROM ingest_log")["sha256"])
    if paths and all(_sha256(path) in before for path in paths):  # nothing new: no version, no relinking
        summary.skipped = [_shown(path, base) for path in paths]
        return summary
    with atomic_build(warehouse, start_from_current=True, engine=engine) as db:
        create_all(db)
        _check_same_keying(db, key, warehouse)
        raw = _load_all(db, base, key, load_province(province), mappings_dir, paths, summary, report, jobs)
        _verify_accounting(db)
        summary.linkage = _finalise(db, report, warehouse)
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
    # The records verbatim, identifiers and all: readable by the data centre's account only.
    os.close(os.open(building, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    os.chmod(building, 0o600)
    pq.write_table(pa.Table.from_pandas(frame[columns].astype({"raw": str}), preserve_index=False), building)
    building.replace(target)
