"""THE SEAM: the only package that imports a database driver (DuckDB by default, Apache Spark at scale).

``atomic_build(target, engine=...)`` writes a new warehouse version with either engine: a DuckDB file, or
a Spark warehouse directory of Parquet tables (``spark.py``, ``layout.py``). Readers open either with
``DuckDBEngine(path, read_only=True)``; PySpark is imported only when the Spark engine is asked for.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from provista.engine.base import Engine, EngineError
from provista.engine.duckdb import DuckDBEngine, linkage_backend
from provista.engine.duckdb import atomic_build as _duckdb_build
from provista.engine.layout import is_spark_warehouse

ENGINES = ("duckdb", "spark")


def atomic_build(
    target: Path, start_from_current: bool = False, engine: str = "duckdb"
) -> AbstractContextManager[Engine]:
    """A new version of the warehouse ``target``, swapped in when the block succeeds (see each engine)."""
    if engine not in ENGINES:
        raise EngineError(f"no engine {engine!r}", hint=f"choose one of {', '.join(ENGINES)}")
    if engine == "spark":
        from provista.engine.spark import atomic_build as spark_build

        return spark_build(target, start_from_current)
    if target.is_dir():
        raise EngineError(
            f"{target} is a directory{' (a Spark warehouse)' if is_spark_warehouse(target) else ''}",
            hint="a DuckDB warehouse is a file; to write a Spark warehouse use --engine spark",
        )
    return _duckdb_build(target, start_from_current)


__all__ = [
    "ENGINES",
    "DuckDBEngine",
    "Engine",
    "EngineError",
    "atomic_build",
    "is_spark_warehouse",
    "linkage_backend",
]
