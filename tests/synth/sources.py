"""Test-side readers of the synthetic exports, written with standard tools (pandas, openpyxl, json),
independently of the generator, so that the tests check what a user of the files would see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

from provista.synth.vendors import HEADERS


def read_rows(root: Path, entry: dict[str, Any]) -> pd.DataFrame:
    """One exported file as a frame of strings with canonical column names and a ``record_ref``."""
    path = root / entry["path"]
    table = entry["table"]
    if entry["format"] == "csv":
        frame = pd.read_csv(path, encoding=entry["encoding"], dtype=str, keep_default_na=False)
        names = {zh: col for col, (zh, en) in HEADERS[table].items()} | {
            en: col for col, (zh, en) in HEADERS[table].items()
        }
        frame = frame.rename(columns=names)
        frame["record_ref"] = [str(i + 1) for i in range(len(frame))]
        return frame
    if entry["format"] == "xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        book.close()
        header = [next(c for c, (zh, en) in HEADERS[table].items() if h in (zh, en)) for h in rows[0]]
        frame = pd.DataFrame([["" if v is None else str(v) for v in r] for r in rows[1:]], columns=header)
        frame["record_ref"] = [str(i + 1) for i in range(len(frame))]
        return frame
    resources = fhir_resources(path)
    return pd.DataFrame([_flatten(table, r) for r in resources])


def fhir_resources(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ndjson":
        return [json.loads(line) for line in text.splitlines() if line]
    return [e["resource"] for e in json.loads(text)["entry"]]


def _flatten(table: str, r: dict[str, Any]) -> dict[str, str]:
    """The few canonical fields the tests look at, from a FHIR resource."""
    out = {"record_ref": r["id"]}
    if table == "patients":
        ids = [i["value"] for i in r.get("identifier", []) if i["system"] == "urn:provista:resident-id"]
        out |= {"id_number": ids[0] if ids else "", "name": (r.get("name") or [{}])[0].get("text", "")}
    elif table == "encounters":
        ext = {e["url"]: e for e in r.get("extension", [])}
        cost = ext.get("urn:provista:fhir:encounter-cost")
        out |= {
            "admit_ts": r.get("period", {}).get("start", "")[:19].replace("T", " "),
            "discharge_ts": r.get("period", {}).get("end", "")[:19].replace("T", " "),
            "cost": str(cost["valueMoney"]["value"]) if cost else "",
            "encounter_id": r["id"],
            "type": r["class"]["code"],
        }
    elif table == "diagnoses":
        out |= {
            "icd10": r.get("code", {}).get("coding", [{}])[0].get("code", ""),
            "encounter_id": r["encounter"]["reference"].split("/")[1],
        }
    elif table == "labs":
        q = r.get("valueQuantity", {})
        out |= {
            "code": r["code"]["coding"][0]["code"],
            "value": str(q.get("value", "")),
            "unit": q.get("unit", ""),
        }
    return out
