"""CSV and Excel sources: encoding detection, header matching, and records in batches.

Each batch is a frame of strings with canonical column names ('' where empty), ``record_ref`` (1-based
data-row number, as in the synthetic truth files), ``raw`` (the record verbatim, for the quarantine) and
``malformed`` (the record does not have the header's number of fields).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from provista.ingest.mapping import SourceFormatError, TableMapping, match_table

# Records per batch: with the loader's collector tuned (pipeline.BATCH_GC_THRESHOLDS) 50,000 reads as fast
# as 200,000 did, and a worker holds a quarter of the batch in flight.
BATCH_ROWS = 50_000
SNIFF_BYTES = 4 << 20


def detect_encoding(path: Path) -> str:
    """utf-8-sig, utf-8 or gb18030 (a superset of GBK), judged on the file's bytes."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    if not head:
        raise SourceFormatError(f"{path}: the file is empty", hint="ask the hospital to export it again")
    if b"\x00" in head[:8192]:
        raise SourceFormatError(
            f"{path}: this is a binary file, not CSV text",
            hint="check that the right file was sent (Excel files must end in .xlsx)",
        )
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    cut = len(head) if len(head) < SNIFF_BYTES else head.rfind(b"\n") + 1
    for encoding in ("utf-8", "gb18030"):
        try:
            head[:cut].decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    guess = from_bytes(head[:65536]).best()
    raise SourceFormatError(
        f"{path}: the text is neither UTF-8 nor GBK/GB18030"
        + (f" (it looks like {guess.encoding})" if guess else ""),
        hint="ask for the export in UTF-8 or GBK",
    )


def _frame(
    mapping: TableMapping,
    header: list[str],
    cells: Callable[[int], Sequence[str] | np.ndarray],
    malformed: Sequence[bool] | np.ndarray,
    raw: list[str],
    refs: list[int],
) -> pd.DataFrame:
    """The batch's canonical columns; ``cells(i)``: the stripped values of header position ``i``."""
    position = {h.strip().lstrip("\ufeff"): i for i, h in enumerate(header)}
    data: dict[str, Sequence[str] | np.ndarray] = {}
    for source, field in mapping.columns.items():
        data[field] = cells(position[source])
    for field, codes in mapping.values.items():
        data[field] = [codes.get(v, v) for v in data[field]]
    data["record_ref"] = [str(r) for r in refs]
    data["raw"] = raw
    # Python strings (object), not pandas' Arrow-backed default: the loader reads them value by value.
    frame = pd.DataFrame(data, dtype=object)
    frame["malformed"] = list(malformed)
    return frame


def _rows_frame(
    mapping: TableMapping, header: list[str], rows: list[list[str]], raw: list[str], refs: list[int]
) -> pd.DataFrame:
    """A batch from records split into fields by Python's csv module (or read from a sheet)."""
    width = len(header)
    return _frame(
        mapping,
        header,
        lambda i: [r[i].strip() if i < len(r) else "" for r in rows],
        [len(r) != width for r in rows],
        raw,
        refs,
    )


def _arrow_frame(
    mapping: TableMapping, header: list[str], lines: list[str], refs: list[int]
) -> pd.DataFrame | None:
    """A batch parsed by Arrow's CSV reader (C++, several times faster than the csv module); None where
    a line has an odd number of quotes, which only the csv module's parse judges (a field may span lines),
    or is longer than the csv module's field limit.

    Arrow passes over a line without the header's number of fields; such lines are parsed by the csv
    module and put back in their place, marked malformed.
    """
    if any(line.count('"') % 2 for line in lines) or max(map(len, lines)) > csv.field_size_limit():
        return None  # the csv module refuses a field over its limit; Arrow would take it
    width = len(header)
    skipped: list[int] = []

    def skip(row: pa_csv.InvalidRow) -> str:
        skipped.append(-1 if row.number is None else row.number - 1)
        return "skip"

    names = [f"c{i}" for i in range(width)]
    try:
        table = pa_csv.read_csv(
            io.BytesIO("\n".join(lines).encode()),
            read_options=pa_csv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=skip, newlines_in_values=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    if -1 in skipped or table.num_rows + len(skipped) != len(lines):
        return None
    malformed = np.zeros(len(lines), dtype=bool)
    malformed[skipped] = True
    short = [next(csv.reader([lines[k]])) for k in skipped]

    def cells(i: int) -> np.ndarray:
        values = np.empty(len(lines), dtype=object)
        values[~malformed] = pc.utf8_trim_whitespace(table.column(i)).to_numpy(zero_copy_only=False)
        values[malformed] = [r[i].strip() if i < len(r) else "" for r in short]
        return values

    return _frame(mapping, header, cells, malformed, lines, refs)


def read_csv_batches(
    path: Path, source: str, mappings_dir: str | None = None
) -> tuple[TableMapping, str, Iterator[pd.DataFrame]]:
    """The file's table format, its encoding, and its records in batches."""
    encoding = detect_encoding(path)
    handle = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by the batch generator
    try:
        header_line = handle.readline()
        header = next(csv.reader([header_line]))
    except (UnicodeDecodeError, StopIteration):
        handle.close()
        raise SourceFormatError(f"{source}: cannot read the header row", hint="check the file") from None
    mapping = match_table(header, source, mappings_dir)

    def batches() -> Iterator[pd.DataFrame]:
        ref = 1
        try:
            while True:
                lines, refs = [], []
                line = ""
                for _ in range(BATCH_ROWS):
                    line = handle.readline()
                    if not line:
                        break
                    if line.strip():  # a blank line is not a record, but keeps its row number
                        lines.append(line.rstrip("\r\n"))
                        refs.append(ref)
                    ref += 1
                if lines:
                    fast = _arrow_frame(mapping, header, lines, refs)
                    if fast is not None:
                        yield fast
                        if not line:
                            return
                        continue
                    try:
                        rows = list(csv.reader(lines))
                    except csv.Error as exc:
                        raise SourceFormatError(
                            f"{source}, near data row {refs[0]}: {exc}",
                            hint="fields with line breaks or stray quotes must be quoted",
                        ) from None
                    if len(rows) != len(lines):
                        raise SourceFormatError(
                            f"{source}, near data row {refs[0]}: a quoted field spans lines",
                            hint="export without line breaks inside fields",
                        )
                    yield _rows_frame(mapping, header, rows, lines, refs)
                if not line:
                    return
        except UnicodeDecodeError as exc:
            raise SourceFormatError(
                f"{source}, data row {ref}: the text is not {encoding} ({exc.reason})",
                hint="ask for the export in one encoding throughout",
            ) from None
        finally:
            handle.close()

    return mapping, encoding, batches()


# json.dumps(..., ensure_ascii=False) builds an encoder per call; the same encoder, made once.
_to_json = json.JSONEncoder(ensure_ascii=False).encode
_json_text = json.encoder.encode_basestring  # one string as _to_json writes it (C)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx_batches(
    path: Path, source: str, mappings_dir: str | None = None
) -> tuple[TableMapping, str, Iterator[pd.DataFrame]]:
    """The sheet of an Excel workbook that holds data: its table format and its records (one batch).

    A cover or notes sheet without data rows is passed over; a workbook with data on several sheets is
    refused, because every table must arrive in its own file.
    """
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        sheets = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    except Exception as exc:  # calamine raises its own error types for damaged workbooks
        raise SourceFormatError(
            f"{source}: not a readable Excel workbook ({exc})",
            hint="open it in Excel and save it again as .xlsx",
        ) from None
    with_data = [name for name, rows in sheets.items() if len(rows) > 1]
    if len(with_data) > 1:
        raise SourceFormatError(
            f"{source}: sheets {', '.join(with_data)} all hold data",
            hint="export one table per workbook (one sheet with data)",
        )
    sheet = sheets[with_data[0]] if with_data else next(iter(sheets.values()), [])
    if not sheet:
        raise SourceFormatError(
            f"{source}: the workbook is empty", hint="ask the hospital to export it again"
        )
    header = [_cell(v) for v in sheet[0]]
    while header and not header[-1]:
        header.pop()
    mapping = match_table(header, source, mappings_dir)
    body = sheet[1:]
    if not body:
        return mapping, "xlsx", iter([])
    return mapping, "xlsx", iter([_sheet_frame(mapping, header, body)])


def _sheet_frame(mapping: TableMapping, header: list[str], body: list[list[Any]]) -> pd.DataFrame:
    """A sheet's data rows as a batch, column by column (a sheet is rectangular): each distinct date or
    number is written as text once, and each record's ``raw`` is its cells as a JSON list."""
    width, n = len(header), len(body)
    if any(len(r) < width for r in body):  # calamine's sheets are rectangular; if not, empty cells
        body = [[*r, *[None] * (width - len(r))] for r in body]
    columns: list[list[Any]] = [list(c) for c in itertools.islice(zip(*body, strict=False), width)]
    memo: dict[tuple[type, object], str] = {}
    for k, col in enumerate(columns):
        if set(map(type, col)) != {str}:
            columns[k] = [v if type(v) is str else _memo_cell(memo, v) for v in col]
    # A record pasted into one cell (its only filled cell, holding the commas): malformed, one field.
    filled = np.zeros(n, dtype=np.int64)
    for col in columns:
        filled += np.fromiter(map(bool, col), dtype=bool, count=n)
    commas = np.fromiter((c.count(",") >= 2 for c in columns[0]), dtype=bool, count=n)
    pasted: list[int] = np.flatnonzero((filled == 1) & commas).tolist()
    raw = ["[" + ", ".join(map(_json_text, cells)) + "]" for cells in zip(*columns, strict=True)]
    malformed = np.zeros(n, dtype=bool)
    malformed[pasted] = True
    for k in pasted:
        raw[k] = _to_json([columns[0][k]])

    def cells(i: int) -> list[str]:
        values = [c.strip() for c in columns[i]]
        if i:
            for k in pasted:
                values[k] = ""
        return values

    return _frame(mapping, header, cells, malformed, raw, list(range(1, n + 1)))


def _memo_cell(memo: dict[tuple[type, object], str], value: object) -> str:
    key = (type(value), value)
    text = memo.get(key)
    if text is None:
        text = memo[key] = _cell(value)
    return text


def read_tabular(
    path: Path, source: str, mappings_dir: str | None = None
) -> tuple[TableMapping, str, Iterator[pd.DataFrame]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx_batches(path, source, mappings_dir)
    return read_csv_batches(path, source, mappings_dir)
