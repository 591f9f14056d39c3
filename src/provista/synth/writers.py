"""Write vendor-styled records as files: CSV (GBK or UTF-8, with or without BOM), Excel, FHIR R4.

Every writer returns, for each record, the file it went to and its ``record_ref`` (1-based data-row
number in a CSV file or Excel sheet, resource id in FHIR), which the ground truth uses.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import xlsxwriter

from provista.synth.vendors import DATE_COLUMNS, HEADERS, Vendor

EXCEL_MAX_ROWS = 1_000_000  # rows per workbook (Excel allows 1,048,575 data rows)
FIXED_TIMESTAMP = dt.datetime(2026, 1, 1)  # workbook metadata, so that the same seed gives the same bytes


def _text_columns(table: str, frame: pd.DataFrame, vendor: Vendor) -> pa.Table:
    """The visible columns as strings, dates in the vendor's format, missing values as nulls."""
    arrays = []
    for col in HEADERS[table]:
        series = frame[col]
        if str(series.dtype).startswith("datetime"):
            fmt = vendor.date_format if col in DATE_COLUMNS else vendor.datetime_format
            arr = pc.strftime(pa.array(series.to_numpy("datetime64[s]")), format=fmt)
        elif series.dtype == object:
            arr = pa.array(
                [
                    None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)
                    for v in series.tolist()
                ],
                type=pa.string(),
            )
        else:
            arr = pa.array(series.to_numpy(), from_pandas=True).cast(pa.string())
        arrays.append(arr)
    return pa.table(arrays, names=list(HEADERS[table]))


def write_csv(
    path: Path, table: str, frame: pd.DataFrame, vendor: Vendor, bom: bool = False, append: bool = False
) -> None:
    """CSV with the vendor's headers, dates and encoding; malformed rows are cut short.

    With ``append`` the rows are added to an existing file (written by an earlier chunk), without header.
    """
    lang = 0 if vendor.language == "zh" else 1
    header = "" if append else ",".join(h[lang] for h in HEADERS[table].values()) + "\n"
    buf = io.BytesIO()
    if len(frame):
        pacsv.write_csv(
            _text_columns(table, frame, vendor),
            buf,
            pacsv.WriteOptions(include_header=False, quoting_style="needed"),
        )
    body = buf.getvalue().decode("utf-8")
    malformed: np.ndarray = (
        np.flatnonzero(frame["_malformed"].to_numpy()) if "_malformed" in frame else np.zeros(0, np.int64)
    )
    if len(malformed):
        lines = body.split("\n")
        for row in malformed:
            fields = next(csv.reader([lines[row]]))
            cut = io.StringIO()
            csv.writer(cut, lineterminator="").writerow(fields[: max(1, len(fields) // 2)])
            lines[row] = cut.getvalue()  # the export cut the record short
        body = "\n".join(lines)
    encoding = "gbk" if vendor.encoding == "gbk" else ("utf-8-sig" if bom and not append else "utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab" if append else "wb") as f:
        f.write((header + body).encode(encoding))


def _excel_column(series: pd.Series) -> tuple[list[object], bool]:
    """Cell values of a column (None for missing); datetimes become Excel serial day numbers."""
    if str(series.dtype).startswith("datetime"):
        values = series.to_numpy("datetime64[s]")
        serial = (values - np.datetime64("1899-12-30T00:00:00")).astype(np.float64) / 86_400
        return [None if np.isnat(v) else float(x) for v, x in zip(values, serial, strict=True)], True
    out: list[object] = []
    for v in series.tolist():
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
            out.append(None)
        elif isinstance(v, bool | np.bool_):
            out.append(str(v))
        else:
            out.append(v.item() if isinstance(v, np.generic) else v)
    return out, False


def write_xlsx(folder: Path, table: str, frame: pd.DataFrame, vendor: Vendor) -> list[tuple[str, int]]:
    """Excel workbooks of one sheet each (split past EXCEL_MAX_ROWS); returns (file name, rows) per part."""
    lang = 0 if vendor.language == "zh" else 1
    columns = list(HEADERS[table])
    parts = []
    folder.mkdir(parents=True, exist_ok=True)
    n_parts = max(1, -(-len(frame) // EXCEL_MAX_ROWS))
    for part in range(n_parts):
        name = f"{table}.xlsx" if part == 0 else f"{table}_{part + 1}.xlsx"
        chunk = frame.iloc[part * EXCEL_MAX_ROWS : (part + 1) * EXCEL_MAX_ROWS]
        book = xlsxwriter.Workbook(
            str(folder / name),
            {
                "constant_memory": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        book.set_properties({"created": FIXED_TIMESTAMP, "author": "Provista synth"})
        sheet = book.add_worksheet(table)
        formats = [
            book.add_format({"num_format": "yyyy-mm-dd" if c in DATE_COLUMNS else "yyyy-mm-dd hh:mm:ss"})
            for c in columns
        ]
        sheet.write_row(0, 0, [h[lang] for h in HEADERS[table].values()])
        malformed = chunk["_malformed"].to_numpy() if "_malformed" in chunk else np.zeros(len(chunk), bool)
        prepared = [_excel_column(chunk[c]) for c in columns]
        for r in range(len(chunk)):
            if malformed[r]:  # a broken export: the whole record in the first cell
                sheet.write_string(r + 1, 0, ",".join("" if v[r] is None else str(v[r]) for v, _ in prepared))
                continue
            for c, (values, is_date) in enumerate(prepared):
                v = values[r]
                if v is None:
                    continue
                if is_date:
                    sheet.write_number(r + 1, c, v, formats[c])
                elif isinstance(v, str):
                    sheet.write_string(r + 1, c, v)
                else:
                    sheet.write_number(r + 1, c, v)
        book.close()
        parts.append((name, len(chunk)))
    return parts
