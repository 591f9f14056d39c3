"""DICOM metadata (影像检查元数据): one row per instance with its study, series, modality, body part, dates,
equipment and the patient as sent (pseudonymised later, at load).

Only the header is read (``stop_before_pixels``). Text is decoded with the file's Specific Character Set
(0008,0005), so ``Wang^XiaoDong=王^小東`` keeps its ideographic group. pydicom reads a file cut short
without complaint, so this module checks that every element it read is whole and that the pixel data the
header announces is there; a file that is not DICOM or is truncated is refused whole with a SourceFormatError.
(A header without pixel data cut exactly between two elements cannot be told from a whole one.)
"""

from __future__ import annotations

import datetime as dt
import re
import struct
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue

from provista.ingest.mapping import SourceFormatError

COLUMNS = [
    "source_file",
    "record_ref",
    "study_uid",
    "series_uid",
    "sop_uid",
    "modality",
    "body_part",
    "study_date",
    "series_description",
    "institution",
    "manufacturer",
    "rows",
    "columns",
    "patient_id",
    "patient_name",
    "patient_sex",
    "patient_birth_date",
]
UNDEFINED_LENGTH = 0xFFFFFFFF
DEFLATED = "1.2.840.10008.1.2.1.99"
SEQUENCE_DELIMITER = b"\xfe\xff\xdd\xe0"
UID = re.compile(r"[0-9]+(\.[0-9]+)*")
HINT_NOT_DICOM = "give DICOM Part 10 files (.dcm) as exported by the PACS or the modality"
HINT_DAMAGED = "export or transfer the file again from the PACS or the modality"
META_START = 144  # 128-byte preamble, 'DICM', and the 12-byte (0002,0000) group length element


def read_dicom(path: Path) -> pd.DataFrame:
    """Read the header of one DICOM file into one row (columns as in ``COLUMNS``)."""
    return _frame([_instance(Path(path))])


def read_dicom_folder(folder: Path) -> pd.DataFrame:
    """Read every ``*.dcm`` file under ``folder`` (subfolders included, sorted by path), one row each."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceFormatError(f"{folder}: not a folder", hint="give the folder that holds the .dcm files")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() == ".dcm")
    return _frame([_instance(p) for p in files])


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS, dtype=object)
    return frame.astype(
        {
            "study_date": "datetime64[s]",
            "patient_birth_date": "datetime64[s]",
            "rows": "Int64",
            "columns": "Int64",
        }
    )


def _instance(path: Path) -> dict[str, Any]:
    try:
        fp = path.open("rb")
    except OSError as exc:
        raise SourceFormatError(
            f"{path}: cannot open the file ({exc.strerror})", hint="check the path and the read permission"
        ) from None
    with fp:
        size = path.stat().st_size
        forced, row = False, None
        try:
            ds, forced = _parse(fp)
            problem = _header_problem(ds, forced, fp, size)
            row = None if problem else _fields(ds, path)
        except Exception as exc:  # pydicom raises many kinds; none may reach the user as a traceback
            what = "is not a DICOM file" if forced else "is truncated or damaged"
            problem = f"{what} (cannot parse it: {type(exc).__name__}: {str(exc)[:160]})"
    if row is None:
        raise SourceFormatError(f"{path}: {problem}", hint=HINT_NOT_DICOM if forced else HINT_DAMAGED)
    return row


def _parse(fp: BinaryIO) -> tuple[Dataset, bool]:
    """The header as a Dataset, and whether it had to be read without the 'DICM' prefix (old files)."""
    try:
        return pydicom.dcmread(fp, stop_before_pixels=True), False
    except InvalidDicomError:
        fp.seek(0)
        return pydicom.dcmread(fp, stop_before_pixels=True, force=True), True


def _header_problem(ds: Dataset, forced: bool, fp: BinaryIO, size: int) -> str | None:
    """Why this header cannot be trusted as one whole DICOM instance, or None."""
    if forced and size == 0:
        return "is empty, not a DICOM file"
    if forced and not UID.fullmatch(str(ds.get("SOPInstanceUID", ""))):
        return "is not a DICOM file (no 'DICM' prefix and no DICOM data set)"
    meta_length = ds.file_meta.get("FileMetaInformationGroupLength")
    if isinstance(meta_length, int) and ds.preamble is not None and META_START + meta_length > size:
        return (
            f"is truncated (its file meta information needs {META_START + meta_length} bytes, it has {size})"
        )
    problem = _truncation(ds, fp, size)
    if problem:
        return f"is truncated or damaged ({problem})"
    if "SOPInstanceUID" not in ds:
        return "holds no SOP Instance UID (0008,0018): a fragment, a DICOMDIR or a file cut short"
    return None


def _truncation(ds: Dataset, fp: BinaryIO, size: int) -> str | None:
    """What is missing from a file cut short, or None when it is whole."""
    tags = list(ds.keys())  # iterating the Dataset itself would convert every raw element
    for tag in tags:
        elem = ds.get_item(tag, keep_deferred=True)
        if not isinstance(elem, RawDataElement) or elem.length == UNDEFINED_LENGTH or elem.value is None:
            continue  # already parsed (sequences of undefined length raise when cut), or not read
        if len(elem.value) < elem.length:
            return f"element {elem.tag} holds {len(elem.value)} of its {elem.length} bytes"
    if ds.file_meta.get("TransferSyntaxUID") == DEFLATED:
        return None  # positions refer to the inflated stream
    at = fp.tell()
    if at < size:
        return _pixel_data_truncation(ds, fp, at, size)
    last = ds.get_item(max(tags), keep_deferred=True) if tags else None
    if isinstance(last, RawDataElement) and last.length != UNDEFINED_LENGTH:
        end = last.value_tell + last.length
        if end < size:
            return f"{size - end} stray byte(s) after the last element, part of an element header"
    return None


def _pixel_data_truncation(ds: Dataset, fp: BinaryIO, at: int, size: int) -> str | None:
    """Reading stopped at the pixel data element: is all of its announced length in the file?"""
    implicit, little = ds.original_encoding
    header = fp.read(12)
    has_vr = not implicit and header[4:6].isalpha()  # some writers leave the VR out even in explicit VR
    start = at + (12 if has_vr else 8)
    if len(header) < start - at:
        return "the pixel data element header is cut off"
    length = struct.unpack("<L" if little else ">L", header[start - at - 4 : start - at])[0]
    if length == UNDEFINED_LENGTH:
        fp.seek(max(start, size - 4096))
        return None if SEQUENCE_DELIMITER in fp.read() else "the encapsulated pixel data has no end delimiter"
    if start + length > size:
        return f"the pixel data needs {length} bytes, the file holds {size - start}"
    return None


def _fields(ds: Dataset, path: Path) -> dict[str, Any]:
    sop_uid = _text(ds, "SOPInstanceUID")
    sex = (_text(ds, "PatientSex") or "").upper()
    return {
        "source_file": str(path),
        "record_ref": sop_uid,
        "study_uid": _text(ds, "StudyInstanceUID"),
        "series_uid": _text(ds, "SeriesInstanceUID"),
        "sop_uid": sop_uid,
        "modality": _text(ds, "Modality"),
        "body_part": _text(ds, "BodyPartExamined"),
        "study_date": _timestamp(_text(ds, "StudyDate"), _text(ds, "StudyTime")),
        "series_description": _text(ds, "SeriesDescription"),
        "institution": _text(ds, "InstitutionName"),
        "manufacturer": _text(ds, "Manufacturer"),
        "rows": ds.get("Rows"),
        "columns": ds.get("Columns"),
        "patient_id": _text(ds, "PatientID"),
        "patient_name": _text(ds, "PatientName"),
        "patient_sex": sex if sex in ("M", "F") else None,
        "patient_birth_date": _timestamp(_text(ds, "PatientBirthDate")),
    }


def _text(ds: Dataset, keyword: str) -> str | None:
    """An element as decoded text (values of a multi-valued element joined by '\\'); None when empty."""
    value = ds.get(keyword)
    if value is None:
        return None
    text = "\\".join(str(v) for v in value) if isinstance(value, MultiValue) else str(value)
    return text.strip() or None


def _timestamp(date: str | None, time: str | None = None) -> pd.Timestamp | None:
    """DICOM DA (YYYYMMDD, or the old YYYY.MM.DD) and TM (HH, HHMM, HHMMSS[.F], or HH:MM:SS) → timestamp."""
    day = (date or "").replace(".", "")
    clock = (time or "").replace(":", "").split(".")[0]
    clock = clock if clock.isdigit() and len(clock) in (2, 4, 6) else ""
    if not (day.isdigit() and len(day) == 8):
        return None
    try:
        return pd.Timestamp(dt.datetime.strptime(day + clock.ljust(6, "0"), "%Y%m%d%H%M%S"))
    except ValueError:
        return None
