"""`provista link` on files: read person records in a known layout, link them, write the clusters."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from provista.errors import ProvistaError
from provista.linkage.cluster import cluster
from provista.linkage.encode import Encoder
from provista.linkage.model import MATCH_THRESHOLD, train_and_score


class LinkInputError(ProvistaError, ValueError):
    """A file given to `provista link` cannot be read as the schema it was said to have."""


# FEBRL's layout (../shared/data/linkage/README.md) → the linker's canonical fields.
FEBRL = {
    "rec_id": "unique_id",
    "given_name": "given_name",
    "surname": "surname",
    "street_number": "street_number",
    "address_1": "address",
    "suburb": "locality",
    "postcode": "region",
    "state": "state",
    "date_of_birth": "birth_date",
    "soc_sec_id": "id_number",
}
# The person layout: a hospital's or registry's export with the canonical names (aliases accepted).
PERSON = {
    "rec_id": "unique_id",
    "name": "name",
    "surname": "surname",
    "given_name": "given_name",
    "id_number": "id_number",
    "birth_date": "birth_date",
    "sex": "sex",
    "phone": "phone",
    "region": "region",
    "county_code": "region",
    "address": "address",
}
SCHEMAS = {"febrl": FEBRL, "person": PERSON}


@dataclass
class LinkOutcome:
    clusters: pd.DataFrame  # rec_id, cluster_id (and input when ids repeat across files)
    pairs_scored: int
    links: int


def read_records(path: Path, schema: str) -> pd.DataFrame:
    """The file's records with canonical column names; every field read as text."""
    mapping = SCHEMAS[schema]
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig"
        )
    except FileNotFoundError:
        raise LinkInputError(f"{path}: no such file", hint="check the path given to --input") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise LinkInputError(
            f"{path}: not a readable CSV file ({str(exc).splitlines()[0]})",
            hint="give a UTF-8 CSV with a header row",
        ) from None
    frame.columns = [c.strip() for c in frame.columns]
    if "rec_id" not in frame.columns:
        raise LinkInputError(
            f"{path}, header: no column 'rec_id' (found {', '.join(frame.columns[:8])})",
            hint=f"the {schema} schema needs rec_id and some of: {', '.join(list(mapping)[1:])}",
        )
    known, taken = [], set()
    for c in frame.columns:  # the first column for each field (county_code and region are one field)
        if c in mapping and mapping[c] not in taken:
            known.append(c)
            taken.add(mapping[c])
    if len(known) < 3:
        raise LinkInputError(
            f"{path}: only {', '.join(known)} of the {schema} schema's columns are present",
            hint=f"the {schema} schema reads: {', '.join(mapping)}",
        )
    out = frame[known].rename(columns=mapping)
    ids = out["unique_id"].str.strip()
    blank = ids.eq("")
    if blank.any():
        row = int(blank.to_numpy().argmax()) + 2
        raise LinkInputError(f"{path}, row {row}, field rec_id: empty", hint="give every record an id")
    dup = ids.duplicated()
    if dup.any():
        row = int(dup.to_numpy().argmax()) + 2
        raise LinkInputError(
            f"{path}, row {row}, field rec_id: {ids[dup].iloc[0]!r} appears twice",
            hint="record ids must be unique within a file",
        )
    out["unique_id"] = ids
    return out.apply(lambda s: s.str.strip().replace("", None)).astype(object)


def link_files(paths: list[Path], schema: str) -> LinkOutcome:
    """De-duplicate one file or link two; a fresh random key (the output holds no tokens)."""
    if schema not in SCHEMAS:
        raise LinkInputError(f"unknown schema {schema!r}", hint=f"use one of: {', '.join(SCHEMAS)}")
    if not 1 <= len(paths) <= 2:
        raise LinkInputError(
            f"{len(paths)} inputs given", hint="give one --input to de-duplicate, two to link"
        )
    frames = [read_records(p, schema) for p in paths]
    clash = len(frames) == 2 and bool(set(frames[0]["unique_id"]) & set(frames[1]["unique_id"]))
    for i, f in enumerate(frames):
        f["rec_id"] = f["unique_id"]
        if clash:
            f["unique_id"] = f"{i + 1}:" + f["unique_id"]
    encoder = Encoder(secrets.token_bytes(32))
    features = [encoder.encode(f.drop(columns=["rec_id"])) for f in frames]
    result = train_and_score(features)
    ids = pd.concat([f["unique_id"] for f in frames], ignore_index=True)
    clusters = cluster(ids.tolist(), result.pairs, MATCH_THRESHOLD)
    out = pd.DataFrame(
        {
            "rec_id": pd.concat([f["rec_id"] for f in frames], ignore_index=True),
            "cluster_id": clusters["cluster_id"],
        }
    )
    if clash:  # the same rec_id in both files: say which file each row is from
        out["input"] = [i + 1 for i, f in enumerate(frames) for _ in range(len(f))]
    links = int((result.pairs["match_probability"] >= MATCH_THRESHOLD).sum())
    return LinkOutcome(out, len(result.pairs), links)
