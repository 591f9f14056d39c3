"""Engine tests run on DuckDB and on Spark local mode (local[2]); Spark needs Java (`make java`).

The Spark warehouse of the tiny province is built once per session (about as long as the DuckDB one;
kept with PROVISTA_TEST_CACHE like the other). Without Java the Spark side is skipped with a message;
`make test` installs Java first, so in CI a missing Java fails the make target instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CACHE, KEY

NO_JAVA = (
    "Spark needs Java 17 or 21 and none was found: run `make java` (Debian's openjdk-17-jre-headless) "
    "or set JAVA_HOME"
)


def java_found() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java")) or bool(home and (Path(home) / "bin/java").exists())


@pytest.fixture(scope="session")
def spark_ready() -> None:
    """The session's Spark (started once, about 10 s); skips when there is no Java."""
    if not java_found():
        pytest.skip(NO_JAVA)
    from provista.engine.spark import spark_session

    spark_session()


@pytest.fixture(scope="session")
def spark_warehouse(tiny: Path, tmp_path_factory: pytest.TempPathFactory, spark_ready: None) -> Path:
    """The tiny province built by the Spark engine (a warehouse directory; read it with DuckDBEngine)."""
    from provista.engine import is_spark_warehouse
    from provista.ingest.pipeline import build

    if CACHE is not None and is_spark_warehouse(CACHE / "provista.spark"):
        return CACHE / "provista.spark"
    path = (CACHE or tmp_path_factory.mktemp("spark")) / "provista.spark"
    summary = build(tiny, path, KEY, engine="spark")
    assert not summary.failed
    return path


@pytest.fixture(params=["duckdb", "spark"])
def engine_name(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each engine in turn (the Spark one skips without Java)."""
    if request.param == "spark":
        request.getfixturevalue("spark_ready")
    yield request.param
