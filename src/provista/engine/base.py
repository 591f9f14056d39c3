"""What the pipeline asks of an engine: the methods DuckDBEngine and SparkEngine both provide."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from provista.errors import ProvistaError

if TYPE_CHECKING:
    from provista.engine.duckdb import DuckDBEngine


class EngineError(ProvistaError, RuntimeError):
    """The database refused a statement (the message carries the statement), or a warehouse is unusable."""


class Engine(Protocol):
    """A warehouse being built or read. SQL given to it must mean the same on DuckDB and Spark SQL."""

    dialect: str  # "duckdb" or "spark" (Splink's name for it)
    path: Path

    def execute(self, sql: str, params: list[Any] | None = None) -> None: ...

    def frame(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame: ...

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame: ...

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any: ...

    def append(self, table: str, frame: pd.DataFrame) -> None: ...

    def append_files(self, table: str, files: Sequence[Path]) -> None: ...

    def set_from(self, table: str, column: str, source: str, keys: Sequence[str]) -> None: ...

    def hash_bucket(self, expr: str, modulus: int) -> str: ...

    def ibis(self) -> Any: ...

    def tables(self) -> list[str]: ...

    def memory_share(self, fraction: float) -> AbstractContextManager[int]: ...

    def linkage_backend(self, work_dir: Path | None = None) -> AbstractContextManager[Any]: ...

    def linkage_table(self, db: Any, sql: str, name: str, work_dir: Path) -> str: ...

    def analytics(self, *derived: str) -> AbstractContextManager[DuckDBEngine]: ...

    def close(self) -> None: ...
