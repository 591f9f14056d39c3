"""Incremental loads on both engines: one hospital built, a second one ingested, the result identical.

A small province (the registry and two hospitals of the tiny one: too few people to train the linkage
model, so valid ID numbers link) keeps the Spark side to a minute. Rows compare in any order; doubles
within a relative 1e-9.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from provista.engine import DuckDBEngine
from provista.ingest.pipeline import build, ingest
from tests.conftest import KEY
from tests.engine.compare import table_differences

RUN_TIMES = {"ingest_log": ("loaded_at", "run_started"), "link_model": ("trained_at", "model_json")}


@pytest.fixture(scope="module")
def two_hospitals(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A folder with the registry and the first hospital; the second hospital's files (elsewhere)."""
    root = tmp_path_factory.mktemp("two")
    folder = root / "province"
    shutil.copytree(tiny / "registry", folder / "registry")
    first, second = sorted(p for p in (tiny / "hospitals").iterdir() if p.is_dir())[:2]
    shutil.copytree(first, folder / "hospitals" / first.name)
    shutil.copytree(second, root / "later" / "hospitals" / second.name)
    return folder, sorted((root / "later" / "hospitals" / second.name).iterdir())


@pytest.fixture(scope="module")
def loaded(
    two_hospitals: tuple[Path, list[Path]], tmp_path_factory: pytest.TempPathFactory, spark_ready: None
) -> Iterator[dict[str, DuckDBEngine]]:
    folder, later = two_hospitals
    out = tmp_path_factory.mktemp("loaded")
    readers = {}
    for engine, target in (("duckdb", out / "w.duckdb"), ("spark", out / "w.spark")):
        assert not build(folder, target, KEY, engine=engine, jobs=1).failed
        summary = ingest(later, target, KEY, root=folder.parent / "later", engine=engine)
        assert summary.files == len(later) and not summary.failed
        again = ingest(later[:1], target, KEY, root=folder.parent / "later", engine=engine)
        assert again.files == 0 and len(again.skipped) == 1  # loaded before: nothing changes
        readers[engine] = DuckDBEngine(target, read_only=True)
    yield readers
    for reader in readers.values():
        reader.close()


def test_an_ingest_on_spark_gives_the_warehouse_it_gives_on_duckdb(loaded: dict[str, DuckDBEngine]) -> None:
    duck, spark = loaded["duckdb"], loaded["spark"]
    assert spark.tables() == duck.tables()
    problems = [
        d for t in duck.tables() for d in table_differences(duck, spark, t, 1e-9, RUN_TIMES.get(t, ()))
    ]
    assert not problems, "\n".join(problems)
    hospitals = duck.frame("SELECT DISTINCT hospital_id FROM encounter")["hospital_id"]
    assert len(hospitals) == 2
    files = int(duck.scalar("SELECT count(*) FROM ingest_log"))
    assert files == int(duck.scalar("SELECT count(DISTINCT sha256) FROM ingest_log"))
