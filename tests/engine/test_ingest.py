"""Incremental loads on both engines through `provista build / ingest --engine`: one hospital built, a
second one ingested, the result identical.

A small province (the registry and two hospitals of the tiny one: too few people to train the linkage
model, so valid ID numbers link) keeps the Spark side to a minute. Rows compare in any order; doubles
within a relative 1e-9.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provista.cli import app
from provista.engine import DuckDBEngine
from tests.conftest import KEY
from tests.engine.compare import table_differences

runner = CliRunner()
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
    """Each engine's warehouse, built and then added to through the `provista` command."""
    folder, later = two_hospitals
    out = tmp_path_factory.mktemp("loaded")
    (out / "key").write_text(KEY.hex() + "\n", encoding="ascii")
    readers = {}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PROVISTA_PSEUDONYM_KEY_FILE", str(out / "key"))
        for engine, target in (("duckdb", out / "w.duckdb"), ("spark", out / "w.spark")):
            common = ["--warehouse", str(target), "--engine", engine]
            done = runner.invoke(app, ["build", "--sources", str(folder), "--jobs", "1", *common])
            assert done.exit_code == 0, done.output
            files = [str(f) for f in later]
            done = runner.invoke(app, ["ingest", *files, "--root", str(folder.parent / "later"), *common])
            assert done.exit_code == 0 and "Added to" in done.output, done.output
            again = runner.invoke(app, ["ingest", files[0], "--root", str(folder.parent / "later"), *common])
            assert again.exit_code == 0 and "Already loaded, nothing changed" in again.output, again.output
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
    assert files == int(duck.scalar("SELECT count(DISTINCT sha256) FROM ingest_log"))  # none loaded twice


def test_the_command_refuses_a_warehouse_of_the_other_engine(tmp_path: Path) -> None:
    duckdb_file, spark_dir = tmp_path / "w.duckdb", tmp_path / "w.spark"
    duckdb_file.write_bytes(b"")
    (tmp_path / "k").write_text(KEY.hex(), encoding="ascii")
    (spark_dir / "versions").mkdir(parents=True)
    (spark_dir / "CURRENT").write_text("v1", encoding="utf-8")
    for args, message in (
        (["serve", "--engine", "spark", "--warehouse", str(duckdb_file)], "is not a Spark warehouse"),
        (["serve", "--warehouse", str(spark_dir)], "--engine spark"),
        (["build", "--sources", str(tmp_path), "--warehouse", str(spark_dir)], "--engine spark"),
        (["build", "--sources", str(tmp_path), "--engine", "nope"], "no engine 'nope'"),
    ):
        done = runner.invoke(app, args, env={"PROVISTA_PSEUDONYM_KEY_FILE": str(tmp_path / "k")})
        assert done.exit_code == 2 and message in " ".join(done.output.split()), (args, done.output)
