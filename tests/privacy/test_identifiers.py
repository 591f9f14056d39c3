"""The warehouse holds no direct identifier: every value of every column of every table of the built tiny
province is searched for the names, ID numbers, phone numbers, street addresses and hospital patient
numbers that its source files really contain (read here from the files themselves: CSV in UTF-8 or GBK,
Excel, FHIR JSON and NDJSON), and for anything shaped like an ID number or a mobile number."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from provista.engine import DuckDBEngine

NAME = ("姓名", "患者姓名", "name")
ID_NUMBER = ("身份证号", "有效证件号", "id_number")
PHONE = ("联系电话", "phone")
ADDRESS = ("现住址", "现住详细地址", "address")
MRN = ("患者编号", "patient_id")
KINDS = {"name": NAME, "id_number": ID_NUMBER, "phone": PHONE, "address": ADDRESS, "mrn": MRN}

# standing alone: digits inside a hexadecimal pseudonym or after a decimal point are no one's number
ID_SHAPE = re.compile(r"(?<![0-9A-Za-z.])\d{17}[\dXx](?![0-9A-Za-z]|\.\d)")
MOBILE_SHAPE = re.compile(r"(?<![0-9A-Za-z.])1[3-9]\d{9}(?![0-9A-Za-z]|\.\d)")
STREET = re.compile(r"[\u4e00-\u9fff]{1,10}(?:路|街|道|巷|弄)\d+号")
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def _valid_id(text: str) -> bool:
    """GB 11643 check character."""
    total = sum(int(d) * w for d, w in zip(text[:17], ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == text[17].upper()


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def _records(province: Path) -> Iterator[dict[str, str]]:
    """Every source record as column → text (FHIR patients flattened to the same names)."""
    for path in sorted(province.rglob("*")):
        if "truth" in path.parts or not path.is_file():
            continue
        if path.suffix == ".csv":
            yield from csv.DictReader(io.StringIO(_decode(path.read_bytes())))
        elif path.suffix == ".xlsx":
            frame = pd.read_excel(path, dtype=str, engine="openpyxl").fillna("")
            yield from frame.to_dict("records")
        elif path.suffix in (".json", ".ndjson"):
            docs = []
            chunks = [path.read_bytes()] if path.suffix == ".json" else path.read_bytes().splitlines()
            for chunk in chunks:
                try:
                    docs.append(json.loads(_decode(chunk)))
                except json.JSONDecodeError:
                    continue  # a damaged file (an injected error): nothing of it reaches the warehouse
            docs = [e["resource"] for d in docs for e in d.get("entry", [])] + docs
            for r in docs:
                if r.get("resourceType") == "Patient":
                    yield {
                        "name": " ".join(n.get("text", "") for n in r.get("name", [])),
                        "id_number": " ".join(
                            i["value"] for i in r.get("identifier", []) if "resident-id" in i["system"]
                        ),
                        "patient_id": " ".join(
                            i["value"] for i in r.get("identifier", []) if "mrn" in i["system"]
                        ),
                        "phone": " ".join(t.get("value", "") for t in r.get("telecom", [])),
                        "address": " ".join(a.get("text", "") for a in r.get("address", [])),
                    }


@pytest.fixture(scope="module")
def identifiers(tiny: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for record in _records(tiny):
        for column, value in record.items():
            for kind, columns in KINDS.items():
                if column in columns and isinstance(value, str):
                    found[kind].update(v.strip() for v in value.split(" ") if v.strip())
    found["street"] = {m for a in found["address"] for m in STREET.findall(a)}
    return found


@pytest.fixture(scope="module")
def columns(warehouse: Path) -> dict[tuple[str, str, str], set[str]]:
    """Every distinct value of every column of every table, as text (by table, column, type)."""
    out: dict[tuple[str, str, str], set[str]] = {}
    with DuckDBEngine(Path(warehouse), read_only=True) as engine, engine.con as con:
        tables = [r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()]
        for table in tables:
            names = con.sql(
                f"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '{table}'"
            )
            for column, kind in names.fetchall():
                rows = con.sql(
                    f'SELECT DISTINCT "{column}"::VARCHAR FROM "{table}" WHERE "{column}" IS NOT NULL'
                )
                out[(table, column, kind)] = {r[0] for r in rows.fetchall()}
    return out


def test_the_sources_really_hold_identifiers(identifiers: dict[str, set[str]]) -> None:
    """The search looks for real values: thousands of each kind, in the shapes expected."""
    assert len(identifiers["name"]) > 1000 and len(identifiers["id_number"]) > 1000
    assert len(identifiers["phone"]) > 1000 and len(identifiers["address"]) > 1000
    assert len(identifiers["street"]) > 500 and len(identifiers["mrn"]) > 1000
    assert sum(bool(ID_SHAPE.fullmatch(i)) for i in identifiers["id_number"]) > 1000


def test_every_table_and_column_is_searched(columns: dict[tuple[str, str, str], set[str]]) -> None:
    tables = {t for t, _, _ in columns}
    assert {"person", "patient_record", "encounter", "case_report", "identity", "quarantine"} <= tables
    assert len(columns) > 150


def _hits(
    identifiers: dict[str, set[str]], columns: dict[tuple[str, str, str], set[str]]
) -> list[tuple[str, str, str, str]]:
    """Every value that is, or holds, a source's identifier: (table, column, what, value)."""
    names3 = {n for n in identifiers["name"] if len(n) >= 3}
    name_chars = set().union(*names3)  # a value with none of these characters holds no name
    hits: list[tuple[str, str, str, str]] = []
    for (table, column, kind_of_column), values in columns.items():
        text = kind_of_column == "VARCHAR"  # (linkage tokens are 64-bit integers: digits, not numbers)
        for value in values:
            for kind in ("name", "id_number", "phone", "address", "mrn"):
                if value in identifiers[kind]:
                    hits.append((table, column, kind, value))
            for match in ID_SHAPE.findall(value):
                if match in identifiers["id_number"] or (text and _valid_id(match)):
                    hits.append((table, column, "id_number inside", match))
            for match in MOBILE_SHAPE.findall(value):
                if match in identifiers["phone"]:
                    hits.append((table, column, "phone inside", match))
            for match in STREET.findall(value):
                if match in identifiers["street"]:
                    hits.append((table, column, "street address inside", match))
            if (
                len(value) > 3
                and not name_chars.isdisjoint(value)
                and any(value[i : i + n] in names3 for n in (3, 4) for i in range(len(value) - n + 1))
            ):
                hits.append((table, column, "name inside", value))
    return hits


def test_no_direct_identifier_anywhere_in_the_warehouse(
    identifiers: dict[str, set[str]], columns: dict[tuple[str, str, str], set[str]]
) -> None:
    hits = _hits(identifiers, columns)
    assert hits == [], hits[:20]


def test_the_search_finds_identifiers_where_they_are(
    identifiers: dict[str, set[str]], warehouse: Path
) -> None:
    """The quarantine store beside the warehouse keeps rejected records verbatim, for the data centre's
    staff to repair (schema.py): the same search finds every kind of identifier there."""
    store = pd.read_parquet(warehouse.with_name(warehouse.name + ".quarantine.parquet"))
    found = {
        what.split()[0]
        for _, _, what, _ in _hits(identifiers, {("store", "raw", "VARCHAR"): set(store["raw"])})
    }
    assert {"id_number", "phone", "street", "name"} <= found
