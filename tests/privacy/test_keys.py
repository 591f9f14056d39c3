"""Key rotation, end to end through the command line: `provista keygen --rotate`, a rebuild of the tiny
province with the new key, `provista rekey`. Every pseudonym changes, the links between records do not,
and neither key is anywhere in the warehouse."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from provista.engine import DuckDBEngine
from tests.conftest import CACHE, KEY, ROOT


@dataclass
class Rotation:
    key_file: Path
    retired: list[Path]
    warehouse: Path
    log: str


def _cli(*args: str, key_file: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROVISTA_PSEUDONYM_KEY_FILE": str(key_file)}
    return subprocess.run(
        [sys.executable, "-m", "provista", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=900,
    )


@pytest.fixture(scope="module")
def rotation(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Rotation:
    """The tests' key rotated by the CLI, and the tiny province rebuilt with the new key."""
    base = CACHE / "rotated" if CACHE is not None else tmp_path_factory.mktemp("rotated")
    key_file = base / "secrets" / "pseudonym.key"
    warehouse = base / "provista.duckdb"
    log = ""
    if not warehouse.exists():
        shutil.rmtree(base / "secrets", ignore_errors=True)
        key_file.parent.mkdir(parents=True)
        key_file.write_text(KEY.hex() + "\n", encoding="ascii")
        done = _cli("keygen", "--rotate", key_file=key_file)
        assert done.returncode == 0, done.stderr
        log = done.stdout
        built = _cli("build", "--sources", str(tiny), "--warehouse", str(warehouse), key_file=key_file)
        assert built.returncode == 0, built.stderr
    return Rotation(key_file, sorted((key_file.parent / "retired").iterdir()), warehouse, log)


def _column_values(path: Path) -> dict[tuple[str, str], set[str]]:
    """Every value of every column of every table, as text."""
    out: dict[tuple[str, str], set[str]] = {}
    with DuckDBEngine(Path(path), read_only=True) as engine, engine.con as con:
        tables = [r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()]
        for table in tables:
            cols = con.sql(f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'")
            for (column,) in cols.fetchall():
                rows = con.sql(
                    f'SELECT DISTINCT "{column}"::VARCHAR FROM "{table}" WHERE "{column}" IS NOT NULL'
                )
                out[(table, column)] = {r[0] for r in rows.fetchall()}
    return out


def test_rotation_keeps_the_old_key_aside_and_writes_a_new_one(rotation: Rotation) -> None:
    assert len(rotation.retired) == 1
    retired = rotation.retired[0]
    assert retired.read_text(encoding="ascii").strip() == KEY.hex()
    assert stat.S_IMODE(retired.stat().st_mode) == 0o600
    assert stat.S_IMODE(rotation.key_file.stat().st_mode) == 0o600
    new = bytes.fromhex(rotation.key_file.read_text(encoding="ascii").strip())
    assert len(new) == 32 and new != KEY
    again = _cli("keygen", key_file=rotation.key_file)  # without --rotate a key is never replaced
    assert again.returncode == 2 and "already holds a key" in again.stderr


def test_rotation_refuses_when_there_is_no_key(tmp_path: Path) -> None:
    done = _cli("keygen", "--rotate", key_file=tmp_path / "missing.key")
    assert done.returncode == 2 and "no pseudonymisation key" in done.stderr
    assert not (tmp_path / "missing.key").exists()


def test_every_pseudonym_changes_and_every_link_holds(
    rotation: Rotation, warehouse: Path, tmp_path: Path
) -> None:
    mapping = tmp_path / "rekey.csv"
    done = _cli(
        "rekey", "--old-warehouse", str(warehouse), "--new-warehouse", str(rotation.warehouse),
        "--output", str(mapping), key_file=rotation.key_file,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(mapping.stat().st_mode) == 0o600
    pairs = pd.read_csv(mapping, dtype=str)
    assert pairs["old_person_key"].is_unique and pairs["new_person_key"].is_unique  # one to one
    assert not set(pairs["old_person_key"]) & set(pairs["new_person_key"])  # nothing kept its pseudonym
    to_new = dict(zip(pairs["old_person_key"], pairs["new_person_key"], strict=True))
    for table, key in (("encounter", ["hospital_id", "encounter_id"]), ("case_report", ["report_id"])):
        query = f"SELECT {', '.join(key)}, person_key FROM {table} WHERE person_key IS NOT NULL"
        with DuckDBEngine(Path(warehouse), read_only=True) as engine, engine.con as con:
            old = con.sql(query).df()
        with DuckDBEngine(Path(rotation.warehouse), read_only=True) as engine, engine.con as con:
            new = con.sql(query).df()
        both = old.merge(new, on=key, suffixes=("_old", "_new"), validate="one_to_one")
        assert len(both) == len(old) == len(new)
        assert (both["person_key_old"] != both["person_key_new"]).all()
        # the same records belong to the same person: the old person mapped is the new person
        linked = both["person_key_old"].map(to_new)
        in_index = linked.notna()  # encounter keys of persons the index holds
        assert in_index.mean() > 0.95
        assert (linked[in_index] == both.loc[in_index, "person_key_new"]).all(), table
        # and records that were one person stay one person, whether the index holds them or not
        grouped = both.groupby("person_key_old")["person_key_new"].nunique()
        assert (grouped == 1).all() and both.groupby("person_key_new")["person_key_old"].nunique().max() == 1


def test_neither_key_nor_any_old_pseudonym_is_in_the_new_warehouse(
    rotation: Rotation, warehouse: Path
) -> None:
    new_key = bytes.fromhex(rotation.key_file.read_text(encoding="ascii").strip())
    raw = rotation.warehouse.read_bytes()
    for key in (KEY, new_key):
        assert key.hex().encode() not in raw and key.hex().upper().encode() not in raw
    assert new_key not in raw  # (the tests' old key, bytes 0…31, is too plain a run to look for raw)
    old_values = _column_values(warehouse)
    old_pseudonyms = set().union(
        *(v for (t, c), v in old_values.items() if c in ("person_key", "patient_key", "id_person_key"))
    )
    assert len(old_pseudonyms) > 1000
    hits = {
        (t, c): len(values & old_pseudonyms)
        for (t, c), values in _column_values(rotation.warehouse).items()
        if values & old_pseudonyms
    }
    assert hits == {}
