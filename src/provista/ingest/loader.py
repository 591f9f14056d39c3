"""Loading one file: read → de-duplicate → clean → pseudonymise, staged and committed whole.

A ``Loader`` works in a worker process and writes what it loads to a ``Spool`` of Parquet files that the
main process inserts. Every record of a file ends loaded, merged as a duplicate, or quarantined.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from provista.errors import ProvistaError
from provista.ingest.dicom import read_dicom
from provista.ingest.fhir import read_fhir
from provista.ingest.tabular import read_tabular
from provista.ingest.vcf import read_vcf
from provista.linkage.encode import Encoder
from provista.privacy.pseudonym import Pseudonymiser
from provista.quality.checks import Context
from provista.quality.clean import clean
from provista.quality.rules import load_rules
from provista.synth.diseases import CLASS_EN, DISEASES
from provista.synth.province import Province
from provista.warehouse.schema import TARGET, columns

# Source columns of person records → the linker's identity fields (linkage/encode.py).
IDENTITY_FIELDS: dict[str, dict[str, str]] = {
    "patients": {
        "name": "name",
        "id_number": "id_number",
        "birth_date": "birth_date",
        "sex": "sex",
        "phone": "phone",
        "county_code": "region",
        "address": "address",
    },
    "case_reports": {
        "name": "name",
        "id_number": "id_number",
        "birth_date": "birth_date",
        "sex": "sex",
        "phone": "phone",
        "address_code": "region",
        "address": "address",
    },
}


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
    linkage: Any = None  # the person index's LinkStats, once the build has linked
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


def hospital_of(path: Path) -> str | None:
    """The hospital a file belongs to: the folder after ``hospitals/`` in its path, if any."""
    parts = path.parts
    for k in range(len(parts) - 2, -1, -1):
        if parts[k] == "hospitals" and k + 1 < len(parts) - 1:
            return parts[k + 1]
    return None


def _fingerprint(batch: pd.DataFrame) -> list[str]:
    """Exact-duplicate key of each record: a digest of the record as sent (FHIR: of the reader's
    ``fingerprint``, the resource without its id)."""
    texts = batch["fingerprint"] if "fingerprint" in batch else batch["raw"]
    return [hashlib.blake2b(t.encode(), digest_size=16).hexdigest() for t in texts.tolist()]


class SpoolError(ProvistaError, RuntimeError):
    """A worker could not write its rows for the main process (disk full, a column Arrow cannot store)."""


# Rows a spool gathers for a table before writing them as one Parquet file.
SPOOL_ROWS = 100_000


class Spool:
    """A worker's loaded rows, written as Parquet files that the main process inserts.

    DuckDB reads the files itself, in parallel: no rows are pickled from process to process, and a worker
    holds at most ``rows`` rows of each table (and the file it is loading), not a whole hospital's.
    """

    def __init__(self, folder: Path, rows: int = SPOOL_ROWS) -> None:
        self.folder, self.limit = folder, rows
        self.frames: dict[str, list[pd.DataFrame]] = {}
        self.count: Counter[str] = Counter()
        self.files: list[tuple[str, Path]] = []

    def append(self, table: str, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        self.frames.setdefault(table, []).append(frame)
        self.count[table] += len(frame)
        if self.count[table] >= self.limit:
            self._write(table)

    def _write(self, table: str) -> None:
        frames = self.frames.get(table, [])
        if frames:
            path = self.folder / f"{table}-{uuid.uuid4().hex}.parquet"
            try:
                rows = pa.Table.from_pandas(pd.concat(frames, ignore_index=True), preserve_index=False)
                pq.write_table(rows, path)
            except (pa.ArrowException, OSError) as exc:
                # Not a reader's error about one file: the build stops (nothing is swapped in).
                raise SpoolError(
                    f"could not write {table} rows to {path}: {exc}",
                    hint="check the free disk space beside the warehouse",
                ) from exc
            self.files.append((table, path))
        self.frames.pop(table, None)
        self.count[table] = 0

    def close(self) -> list[tuple[str, Path]]:
        """Write what is still gathered; every file written, with its table, in the order written."""
        for table in list(self.frames):
            self._write(table)
        return self.files


class Collector:
    """A file's rows, staged until the whole file is read and adds up."""

    def __init__(self) -> None:
        self.frames: dict[str, list[pd.DataFrame]] = {}

    def append(self, table: str, frame: pd.DataFrame) -> None:
        if not frame.empty:
            self.frames.setdefault(table, []).append(frame)


class Loader:
    """Loads source files into a sink: a worker's Spool, or a Collector."""

    def __init__(
        self,
        sink: Spool | Collector,
        root: Path,
        key: bytes,
        province: Province,
        mappings_dir: str | None = None,
        digests: dict[Path, str] | None = None,
        next_load_id: int = 1,
        known: dict[tuple[str, str], dict[str, str]] | None = None,
        run_started: pd.Timestamp | None = None,
    ) -> None:
        self.root, self.mappings_dir = root, mappings_dir
        self.pseudo = Pseudonymiser(key)
        self.encoder = Encoder(key)
        self.ctx = Context({c.code for c in province.counties}, dict(province.outdated_codes))
        self.disease = {d.name_zh: d for d in DISEASES}
        self.buffer = sink
        # Record fingerprints per source (hospital) and table: this load's, and those of earlier loads.
        self.seen: dict[tuple[str, str], dict[str, str]] = {k: dict(v) for k, v in (known or {}).items()}
        self.raw_quarantine: list[pd.DataFrame] = []  # verbatim records, kept out of the warehouse
        self.digests = digests or {}  # SHA-256 of each file, computed once when deciding what to load
        self.next_load_id = next_load_id
        self.run_started = (
            run_started if run_started is not None else pd.Timestamp.now()
        )  # the build or ingest

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
        digest = self.digests.get(path) or hashlib.sha256(path.read_bytes()).hexdigest()
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
            prints = _fingerprint(batch)
            batch = batch.drop(columns=["fingerprint"], errors="ignore")
            here = [f"{source}#{ref}" for ref in batch["record_ref"].tolist()]
            first_of = [seen.setdefault(fp, at) for fp, at in zip(prints, here, strict=True)]
            duplicate = pd.Series([f != h for f, h in zip(first_of, here, strict=True)])
            fresh = ~duplicate.to_numpy()
            staged.append(
                "record_digest",
                pd.DataFrame(
                    {
                        "source_key": hospital_id or source,
                        "source_table": table,
                        "digest": [p for p, f in zip(prints, fresh, strict=True) if f],
                        "first_ref": [h for h, f in zip(here, fresh, strict=True) if f],
                    }
                ),
            )
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
            if table in IDENTITY_FIELDS:
                staged.append("identity", self._identity(table, result.records, rows, hospital_id))
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
                        "run_started": self.run_started,
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

    def _identity(
        self, table: str, r: pd.DataFrame, rows: pd.DataFrame, hospital_id: str | None
    ) -> pd.DataFrame:
        """The records' identities as keyed linkage features (the values themselves go no further)."""
        fields = IDENTITY_FIELDS[table]
        source = r[[c for c in fields if c in r]].rename(columns=fields)
        source["unique_id"] = (rows["patient_key"] if table == "patients" else rows["report_id"]).to_numpy()
        out = self.encoder.encode(source).rename(columns={"unique_id": "record_key"})
        out["kind"] = "patient" if table == "patients" else "case_report"
        out["hospital_id"] = hospital_id
        valid = out["id_valid"].eq(True).to_numpy() if "id_valid" in out else False
        out["id_person_key"] = rows["person_key"].where(valid).to_numpy()
        out["source_file"] = rows["source_file"].to_numpy()
        out["record_ref"] = r["record_ref"].to_numpy()
        return out

    def _person_keys(self, ids: pd.Series, otherwise: list[str]) -> list[str]:
        """A record's person: the pseudonym of its valid ID number, else its own key (``otherwise``)."""
        has_id = [isinstance(i, str) and bool(i) for i in ids.tolist()]
        person = iter(self.pseudo.tokens("person", ids[has_id].tolist()))
        return [next(person) if h else k for h, k in zip(has_id, otherwise, strict=True)]

    def _to_warehouse(
        self, table: str, r: pd.DataFrame, hospital_id: str | None, source: str
    ) -> pd.DataFrame:
        """Cleaned records → warehouse rows: identities replaced by pseudonyms, lineage attached."""
        out = r.drop(columns=[c for c in ("name", "phone", "address", "id_number") if c in r])
        if table == "patients":
            patient = self.pseudo.tokens("patient", (f"{hospital_id}|{p}" for p in r["patient_id"]))
            out["patient_key"] = patient
            out["person_key"] = self._person_keys(r["id_number"], patient)
            out["birth_year_month"] = pd.to_datetime(r["birth_date"]).dt.strftime("%Y-%m")
            out["outside_province"] = r["outside_province"].eq("true") if "outside_province" in r else False
            out = out.drop(columns=["patient_id", "birth_date"])
        if table == "encounters":
            out["patient_key"] = self.pseudo.tokens(
                "patient", (f"{hospital_id}|{p}" for p in r["patient_id"])
            )
            out = out.drop(columns=["patient_id"])
        if table == "case_reports":
            out["person_key"] = self._person_keys(
                r["id_number"], self.pseudo.tokens("case", (f"{source}|{ref}" for ref in r["record_ref"]))
            )
            out["disease_class"] = r["disease"].map(lambda d: CLASS_EN[self.disease[d].klass])
            out["icd10"] = r["disease"].map(lambda d: self.disease[d].icd10)
            out = out.drop(columns=["birth_date"], errors="ignore")
        if hospital_id is not None:
            out["hospital_id"] = hospital_id
        out["source_file"] = source
        return out[[c for c in columns(TARGET[table]) if c in out]]
