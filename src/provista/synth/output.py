"""Writing a synthetic province: the output folder, each source's files, and the truth assembled from
the part files that worker processes write (so that no process holds all of it)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from provista.errors import OutputExistsError
from provista.synth.fhir import write_fhir
from provista.synth.people import EPOCH, Persons
from provista.synth.province import Province
from provista.synth.vendors import KEYS, Vendor
from provista.synth.writers import write_csv, write_xlsx

MARKER = ".provista-synth"  # marks a folder as synth output, so that --force may replace it
OUTPUT_PARTS = ("manifest.json", "registry", "hospitals", "cdc", "truth", MARKER)
TRUTH_PARTS = "truth/.parts"


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
            for column in ("_rid", "_resource_id"):  # the logical id, then a re-send's new id
                if column in frame:
                    ids = frame[column].where(frame[column].notna(), ids).astype(str)
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
        append_csv(
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
            append_csv(
                self.identities,
                pd.DataFrame({"source_file": files, "record_ref": refs, "true_person_id": ids}),
            )


def append_csv(path: Path, frame: pd.DataFrame) -> None:
    if len(frame):
        with open(path, "a", encoding="utf-8", newline="") as f:
            frame.to_csv(f, index=False, header=False, lineterminator="\n")


def write_plain_csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def join_truth_parts(
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


def write_persons(path: Path, persons: Persons, province: Province, chunk: int = 1_000_000) -> None:
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
