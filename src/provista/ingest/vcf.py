"""VCF variant calls (基因变异检测结果), read in pure Python: one row per (variant record, sample).

Reads VCF 4.x text, plain or gzip/bgzip-compressed (``.vcf.gz``). Each row keeps ``record_ref``
("<data line number>:<sample>", the data line counted from 1 after the header) and the genotype as
written, with its zygosity (hom_ref / het / hom_alt / missing; a call with any allele missing is
'missing', a haploid call counts as homozygous). A sites-only VCF (no samples) gives no rows. A malformed
data line is refused whole, naming the file, the line and the field.
"""

from __future__ import annotations

import gzip
import math
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from provista.ingest.mapping import SourceFormatError

COLUMNS = [
    "source_file",
    "record_ref",
    "chrom",
    "pos",
    "variant_id",
    "ref",
    "alt",
    "qual",
    "filter",
    "sample",
    "genotype",
    "zygosity",
    "phased",
    "depth",
]
FIXED = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]
GZIP_MAGIC = b"\x1f\x8b"
ALLELE_SPLIT = re.compile(r"[/|]")
DIGITS = re.compile(r"[0-9]+")  # str.isdigit() would also accept digits that int() refuses, such as "²"
HINT = "give a VCF 4.x file (tab-separated, '##' meta lines, a '#CHROM' header line), plain or .vcf.gz"


def read_vcf_header(path: Path) -> dict[str, Any]:
    """The header: ``fileformat``, ``reference`` (None when absent), ``contigs`` (ids) and ``samples``."""
    path = Path(path)
    lines = _lines(path)
    try:
        return _header(lines, path)[0]
    finally:
        lines.close()


def read_vcf(path: Path) -> pd.DataFrame:
    """Every genotype call, one row per (variant record, sample); columns as in ``COLUMNS``."""
    path = Path(path)
    lines = _lines(path)
    header, width = _header(lines, path)
    samples: list[str] = header["samples"]
    rows: list[tuple[Any, ...]] = []
    record = 0
    for line_no, line in lines:
        if not line.strip():
            continue
        record += 1
        fields = line.split("\t")
        if len(fields) != width:
            _fail(path, line_no, "columns", f"{len(fields)} tab-separated fields, the header has {width}")
        chrom, pos, vid, ref, alt, qual, flt = fields[:7]
        position, quality = _position(pos, path, line_no), _quality(qual, path, line_no)
        n_alleles = 1 if alt == "." else 2 + alt.count(",")
        keys = fields[8].split(":") if samples else []
        for sample, value in zip(samples, fields[9:], strict=True):
            call = dict(zip(keys, value.split(":"), strict=False))  # trailing fields may be dropped
            where = f"sample {sample}"
            zygosity, phased = _zygosity(call.get("GT"), n_alleles, path, line_no, where)
            rows.append(
                (
                    str(path),
                    f"{record}:{sample}",
                    chrom,
                    position,
                    None if vid == "." else vid,
                    ref,
                    None if alt == "." else alt,
                    quality,
                    None if flt in ("PASS", ".") else flt,
                    sample,
                    call.get("GT"),
                    zygosity,
                    phased,
                    _depth(call.get("DP"), path, line_no, where),
                )
            )
    frame = pd.DataFrame(rows, columns=COLUMNS, dtype=object)
    return frame.astype({"pos": "int64", "qual": "float64", "phased": "bool", "depth": "float64"})


def _lines(path: Path) -> Generator[tuple[int, str]]:
    """(line number, text without the line end), decoding UTF-8 line by line so errors name the line."""
    try:
        with path.open("rb") as probe:
            compressed = probe.read(2) == GZIP_MAGIC
        with gzip.open(path, "rb") if compressed else path.open("rb") as fp:
            for line_no, raw in enumerate(fp, start=1):
                try:
                    yield line_no, raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:
                    _fail(path, line_no, "text", "not UTF-8 text (a binary file?)")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise SourceFormatError(
            f"{path}: cannot read the file ({exc})",
            hint="check the path; a .vcf.gz must be complete gzip or bgzip output",
        ) from None


def _header(lines: Iterator[tuple[int, str]], path: Path) -> tuple[dict[str, Any], int]:
    """Consume the meta lines and the '#CHROM' line; the header and the number of columns a record has."""
    header: dict[str, Any] = {"fileformat": None, "reference": None, "contigs": [], "samples": []}
    for line_no, line in lines:
        if line.startswith("##"):
            key, _, value = line[2:].partition("=")
            if key in ("fileformat", "reference"):
                header[key] = value
            elif key == "contig" and (found := re.search(r"[<,]ID=([^,>]+)", value)):
                header["contigs"].append(found.group(1))
        elif line.startswith("#CHROM"):
            columns = line.split("\t")
            if columns[:8] != FIXED:
                _fail(
                    path,
                    line_no,
                    "#CHROM",
                    "the header line must be " + "\\t".join(FIXED) + " [FORMAT sample ...]",
                )
            header["samples"] = columns[9:]
            return header, len(columns)
        elif line.strip():
            _fail(path, line_no, "header", "a data line before the '#CHROM' header line, or not a VCF file")
    raise SourceFormatError(
        f"{path}: no '#CHROM' header line, so not a VCF file (or an empty one)", hint=HINT
    )


def _position(text: str, path: Path, line_no: int) -> int:
    if not DIGITS.fullmatch(text):
        _fail(path, line_no, "POS", f"{text!r} is not a non-negative integer")
    return int(text)


def _quality(text: str, path: Path, line_no: int) -> float:
    try:
        value = math.nan if text == "." else float(text)
    except ValueError:
        _fail(path, line_no, "QUAL", f"{text!r} is not a number or '.'")
    return value


def _depth(text: str | None, path: Path, line_no: int, where: str) -> float:
    if text is None or text == ".":
        return math.nan
    if not DIGITS.fullmatch(text):
        _fail(path, line_no, "DP", f"{text!r} ({where}) is not a non-negative integer")
    return float(text)


def _zygosity(genotype: str | None, n_alleles: int, path: Path, line_no: int, where: str) -> tuple[str, bool]:
    """GT → (zygosity, phased): '0/0' hom_ref, '0|1' het, '1/1' or '2|2' hom_alt, './.' or '1/.' missing."""
    if genotype is None:
        return "missing", False
    alleles = ALLELE_SPLIT.split(genotype)
    if not all(a == "." or (DIGITS.fullmatch(a) and int(a) < n_alleles) for a in alleles):
        _fail(path, line_no, "GT", f"{genotype!r} ({where}) is not a genotype of the {n_alleles} alleles")
    phased = "|" in genotype and "/" not in genotype
    if "." in alleles:
        return "missing", phased
    distinct = {int(a) for a in alleles}
    if len(distinct) > 1:
        return "het", phased
    return ("hom_ref" if distinct == {0} else "hom_alt"), phased


def _fail(path: Path, line_no: int, field: str, problem: str) -> NoReturn:
    raise SourceFormatError(f"{path}, line {line_no}, field {field}: {problem}", hint=HINT)
