"""The embedded engine: a DuckDB file, written by builds and swapped in atomically."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from provista.engine import layout
from provista.engine.base import EngineError
from provista.engine.sampling import duckdb_hash_bucket

# DuckDB's own memory (it spills to disk beyond it); by default it would take 80 % of the machine.
MEMORY_LIMIT = os.environ.get("PROVISTA_DUCKDB_MEMORY", "2GB")


def parquet_scan(files: Sequence[Path], by_name: bool = False) -> str:
    """SQL reading the Parquet ``files`` as one relation; ``by_name``: files whose columns differ (in
    order, or a column absent or all NULL in some) are matched by column name."""
    quoted = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    # hive_partitioning off: a folder named key=value in the path must not become a column
    return f"read_parquet([{quoted}], hive_partitioning = false{', union_by_name = true' if by_name else ''})"


def memory_bytes(text: str) -> int:
    """Bytes of a DuckDB memory setting such as ``2GB``, ``1.5GiB`` or ``512MB``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?)B?\s*", text, re.IGNORECASE)
    if not match:  # another spelling DuckDB accepts ("2 gigabytes"): as DuckDB reads it
        try:
            with duckdb.connect(":memory:", config={"memory_limit": text}) as con:
                shown = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        except duckdb.Error:
            raise EngineError(
                f"PROVISTA_DUCKDB_MEMORY={text!r} is not an amount of memory",
                hint="write it as 2GB or 512MB",
            ) from None
        return memory_bytes(shown)
    number, prefix, binary = match.groups()
    power = "KMGT".find(prefix.upper()) + 1 if prefix else 0
    return int(float(number) * (1024 if binary else 1000) ** power)


def linkage_backend(work_dir: Path | None = None, memory: str = MEMORY_LIMIT) -> Any:
    """Splink's DuckDB backend on a scratch in-memory database (spilling to ``work_dir``).

    It samples records for u by the MD5 rule the Spark backend shares (``splink_dialects``).
    """
    from splink.backends.duckdb import DuckDBAPI

    from provista.engine.splink_dialects import SampledDuckDBDialect

    class _DuckDBAPI(DuckDBAPI):
        sql_dialect = SampledDuckDBDialect()

    config: dict[str, Any] = {"memory_limit": memory}
    if work_dir is not None:
        config["temp_directory"] = str(work_dir)
    return _DuckDBAPI(connection=duckdb.connect(":memory:", config=config))


class DuckDBEngine:
    """A connection to one warehouse file; or, read-only, to a Spark-built warehouse directory (its
    Parquet tables as views in an in-memory database: the API and the analytics read it unchanged)."""

    dialect = "duckdb"

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        if path.is_dir():
            if not read_only:
                raise EngineError(
                    f"{path} is a Spark warehouse (a directory); DuckDB opens it read-only",
                    hint="write it with the Spark engine: `provista build --engine spark`",
                )
            self._open_parquet(layout.current_version(path))
            return
        try:
            self.con = duckdb.connect(str(path), read_only=read_only, config={"memory_limit": MEMORY_LIMIT})
        except duckdb.Error as exc:
            raise EngineError(
                f"cannot open the warehouse {path}: {exc}",
                hint="check the path; run `provista build` to create a warehouse",
            ) from None

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        try:
            self.con.execute(sql, params or []).fetchall()
        except duckdb.Error as exc:
            raise EngineError(f"{exc}\n  in: {sql[:500]}") from exc

    def frame(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        try:
            return self.con.execute(sql, params or []).df()
        except duckdb.Error as exc:
            raise EngineError(f"{exc}\n  in: {sql[:500]}") from exc

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Like ``frame`` on a cursor of its own: safe from many threads at once (the API's requests)."""
        cur = self.con.cursor()
        try:
            return cur.execute(sql, params or []).df()
        except duckdb.Error as exc:
            raise EngineError(f"{exc}\n  in: {sql[:500]}") from exc
        finally:
            cur.close()

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        try:
            rows = self.con.execute(sql, params or []).fetchall()
        except duckdb.Error as exc:
            raise EngineError(f"{exc}\n  in: {sql[:500]}") from exc
        return rows[0][0] if rows else None

    def append(self, table: str, frame: pd.DataFrame) -> None:
        """Insert the frame's columns into ``table`` by name; absent columns become NULL."""
        if frame.empty:
            return
        self.con.register("_batch", frame)
        try:
            self.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _batch")
        finally:
            self.con.unregister("_batch")

    def append_files(self, table: str, files: Sequence[Path]) -> None:
        """Insert the rows of Parquet files into ``table`` by name (DuckDB reads them itself, in parallel,
        without a round trip through Python); absent columns become NULL."""
        if files:
            self.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {parquet_scan(files, by_name=True)}")

    @classmethod
    def over_parquet(cls, version: Path) -> DuckDBEngine:
        """An in-memory database with a view over each Parquet table of a Spark warehouse version."""
        engine = cls.__new__(cls)
        engine.path = version
        engine._open_parquet(version)
        return engine

    def _open_parquet(self, version: Path) -> None:
        self.con = duckdb.connect(":memory:", config={"memory_limit": MEMORY_LIMIT})
        for name, folder in layout.table_folders(version).items():
            files = layout.parquet_files(folder)
            if files:
                self.execute(f'CREATE VIEW "{name}" AS SELECT * FROM {parquet_scan(files)}')

    def set_from(self, table: str, column: str, source: str, keys: Sequence[str]) -> None:
        """Set ``table.column`` from ``source`` (a query of ``keys`` and ``column``, at most one row per
        key) where the keys match; other rows keep their value."""
        # Rewritten, not UPDATEd: DuckDB updates a column of most rows of a large table very slowly (minutes
        # for 300,000 patient records), while writing the table anew takes a second. Same DDL, same order.
        where = "table_name = ? AND schema_name = 'main' AND database_name = current_database()"
        ddl = self.scalar(f"SELECT sql FROM duckdb_tables() WHERE {where} AND NOT temporary", [table])
        if ddl is None:  # a temporary table: few rows, and its DDL is not kept
            on = " AND ".join(f"{table}.{k} = s.{k}" for k in keys)
            self.execute(f"UPDATE {table} SET {column} = s.{column} FROM ({source}) s WHERE {on}")
            return
        kind = self.scalar(
            f"SELECT data_type FROM duckdb_columns() WHERE {where} AND column_name = ?", [table, column]
        )
        on = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        old = f"{table}__before_set"
        # the source first: it may read the table itself
        self.execute(
            f"CREATE OR REPLACE TEMP TABLE set_source AS SELECT *, true AS __matched FROM ({source}) s"
        )
        # The new values in the table's own row order, sorted narrow (row number, keys, the value); the
        # rows are then rewritten side by side with them (a positional join keeps the scan's order). Sorting
        # the joined rows whole spilled three times the identity table to disk at 50 million encounters.
        self.execute(
            f"CREATE OR REPLACE TEMP TABLE set_value AS SELECT CASE WHEN s.__matched THEN "
            f"CAST(s.{column} AS {kind}) ELSE t.{column} END AS __value FROM (SELECT rowid AS __row, "
            f"{', '.join(dict.fromkeys([*keys, column]))} FROM {table}) t LEFT JOIN set_source s ON {on} "
            "ORDER BY t.__row"
        )
        self.execute(f"ALTER TABLE {table} RENAME TO {old}")
        self.execute(ddl)
        self.execute(
            f"INSERT INTO {table} SELECT t.* REPLACE (v.__value AS {column}) "
            f"FROM {old} t POSITIONAL JOIN set_value v"
        )
        self.execute(f"DROP TABLE {old}")
        self.execute("DROP TABLE set_source")
        self.execute("DROP TABLE set_value")

    def hash_bucket(self, expr: str, modulus: int) -> str:
        """SQL: a number in [0, modulus) from ``expr``, the same on both engines (for sampling)."""
        return duckdb_hash_bucket(expr, modulus)

    @contextmanager
    def memory_share(self, fraction: float) -> Iterator[int]:
        """Within the block the warehouse's connection keeps ``fraction`` of the memory budget
        (``PROVISTA_DUCKDB_MEMORY``); yields the bytes left for others (the loading workers, Splink)."""
        budget = memory_bytes(MEMORY_LIMIT)
        kept = int(budget * fraction)
        self.execute(f"SET memory_limit = '{kept >> 20}MiB'")
        try:
            yield budget - kept
        finally:
            self.execute(f"SET memory_limit = '{budget >> 20}MiB'")

    @contextmanager
    def linkage_backend(self, work_dir: Path | None = None) -> Iterator[Any]:
        """Splink's DuckDB backend: a scratch database of its own, not the warehouse, closed at the end.

        The two databases share the memory budget: while Splink works, the warehouse's connection keeps a
        quarter of it and Splink's database gets the rest.
        """
        with self.memory_share(0.25) as rest:
            backend = linkage_backend(work_dir, f"{rest >> 20}MiB")
            try:
                yield backend
            finally:
                backend._con.close()

    def linkage_table(self, db: Any, sql: str, name: str, work_dir: Path) -> str:
        """Materialise the query's rows as table ``name`` in the linkage backend ``db`` (via Parquet)."""
        file = work_dir / f"{name}.parquet"
        self.execute(f"COPY ({sql}) TO '{file}' (FORMAT PARQUET)")
        db._con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{file}')")
        return name

    @contextmanager
    def analytics(self, *derived: str) -> Iterator[DuckDBEngine]:
        """This engine itself: analytics written in DuckDB's SQL run here and write ``derived`` here."""
        yield self

    def ibis(self) -> Any:
        """An Ibis backend on this connection, for the warehouse's portable expressions."""
        import ibis

        return ibis.duckdb.from_connection(self.con)

    def tables(self) -> list[str]:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
        return [r[0] for r in self.con.execute(sql).fetchall()]

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()


@contextmanager
def atomic_build(target: Path, start_from_current: bool = False) -> Iterator[DuckDBEngine]:
    """Write a new warehouse version beside ``target`` and swap it in only when the build succeeds.

    Readers that opened ``target`` keep the version they opened; nobody sees a half build. With
    ``start_from_current`` the new version starts as a copy of the current one (incremental loads).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = target.with_name(target.name + ".lock")
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        raise EngineError(
            f"another build of {target} is running ({lock} exists)",
            hint="wait for it, or remove the lock file if that build died",
        ) from None
    os.close(fd)
    building = target.with_name(f"{target.name}.{os.getpid()}.building")
    if start_from_current and target.exists():
        shutil.copyfile(target, building)
    engine = DuckDBEngine(building)
    try:
        yield engine
        engine.execute("CHECKPOINT")
        engine.close()
        os.replace(building, target)
    except BaseException:
        engine.close()
        building.unlink(missing_ok=True)
        raise
    finally:
        building.with_name(building.name + ".wal").unlink(missing_ok=True)
        lock.unlink(missing_ok=True)
