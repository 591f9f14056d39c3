"""Rotating the pseudonym key (密钥轮换), and the re-keying map that carries old pseudonyms over.

Pseudonyms are HMACs of identifiers (``pseudonym.py``); they cannot be converted from one key to
another without the identifiers, which only the sources hold. So a rotation is:

1. ``provista keygen --rotate``: the current key moves to ``<key folder>/retired/<name>.<UTC time>``
   (mode 600, kept, never in the warehouse) and a new key takes its place;
2. ``provista build`` with the new key, from the same sources: every pseudonym changes, the links
   between records do not (the person index is rebuilt from keyed tokens that compare equal exactly
   when the values do, under any key);
3. if pseudonyms are held elsewhere (an extract sent to researchers, a note naming a person key),
   ``provista rekey`` maps old person keys to new ones through the records both warehouses hold
   (source file and row), without any key or identifier. The map links the two pseudonym spaces, so it
   is kept like a key and destroyed once used;
4. when nothing refers to the old pseudonyms any more, the retired key is destroyed.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd

from provista.engine import DuckDBEngine
from provista.errors import ConfigError, ProvistaError
from provista.privacy.pseudonym import create_key, load_key


def rotate_key(path: Path) -> Path:
    """Retire the key at ``path`` (kept under ``retired/``) and write a new one there; returns where the
    old key went."""
    load_key(path)  # refuse to retire a missing or damaged key
    retired = path.parent / "retired"
    retired.mkdir(mode=0o700, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = retired / f"{path.name}.{stamp}"
    if target.exists():
        raise ConfigError(f"{target} exists already", hint="run the rotation again in a moment")
    os.rename(path, target)
    os.chmod(target, 0o600)
    try:
        create_key(path)
    except BaseException:
        os.rename(target, path)  # put the old key back: never leave the platform without a key
        raise
    return target


def rekeying_map(old_warehouse: Path, new_warehouse: Path) -> pd.DataFrame:
    """Old person key → new person key, through the person records both warehouses hold.

    Raises when the two do not pair one to one (they were not built from the same sources, or the
    person index differs): the map would then send a pseudonym to the wrong person.
    """
    frames = []
    for name, path in (("old", old_warehouse), ("new", new_warehouse)):
        if not path.exists():
            raise ProvistaError(f"no warehouse at {path}", hint="give the warehouses built before and after")
        with DuckDBEngine(path, read_only=True) as engine:
            frames.append(
                engine.query(
                    "SELECT kind, source_file, record_ref, person_key FROM identity "
                    "WHERE person_key IS NOT NULL"
                ).rename(columns={"person_key": name})
            )
    both = frames[0].merge(frames[1], on=["kind", "source_file", "record_ref"], how="outer", indicator=True)
    unmatched = int((both["_merge"] != "both").sum())
    if unmatched:
        raise ProvistaError(
            f"{unmatched:,} person records are in only one of the two warehouses",
            hint="build both from the same sources (the rotation changes only the key)",
        )
    pairs = both[["old", "new"]].drop_duplicates()
    if pairs["old"].duplicated().any() or pairs["new"].duplicated().any():
        split = int(pairs["old"].duplicated().sum() + pairs["new"].duplicated().sum())
        raise ProvistaError(
            f"{split:,} persons are grouped differently in the two warehouses, so no one-to-one map exists",
            hint="compare the person indexes (provista empi) before re-keying",
        )
    return pairs.rename(columns={"old": "old_person_key", "new": "new_person_key"}).reset_index(drop=True)


def write_map(frame: pd.DataFrame, output: Path) -> None:
    """Write the map readable only by its owner (it is as sensitive as a key)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        frame.to_csv(handle, index=False)
