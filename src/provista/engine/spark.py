"""The distributed engine: Apache Spark (PySpark), in local mode by default, on a cluster by configuration.

Design: the parse / normalise / validate workers stay Python and hand their rows to the engine as Parquet
files (``append_files``), as they do for DuckDB. A warehouse is a directory (``layout.py``): each build
writes a new version, one Parquet folder per table, and swaps a pointer when it succeeds. Inside a build,
every table is a temporary view over its folder, so the pipeline's SQL (portable between DuckDB and Spark
SQL) and the marts' Ibis expressions (compiled by Ibis's PySpark backend) run unchanged. The engine accepts
DuckDB's table DDL (``CREATE [OR REPLACE] [TEMP] TABLE t (cols)`` / ``... AS query``, ``INSERT INTO t [BY
NAME] query``, ``DELETE FROM t``, ``DROP TABLE``) and translates it to Parquet writes; it has no ``UPDATE``
(``set_from`` says what to set instead). Appended rows are cast by DuckDB's own rules and written as
Parquet files of the table's folder by this process (not through the driver's heap), so that both engines
store the same values. The warehouse holds no time zones: every
timestamp is a wall-clock ``timestamp_ntz``.

Configuration (environment): ``PROVISTA_SPARK_MASTER`` (default ``local[2]``) or ``PROVISTA_SPARK_REMOTE``
(a Spark Connect URL, ``sc://host:15002``), ``PROVISTA_SPARK_DRIVER_MEMORY`` (``2g``),
``PROVISTA_SPARK_SHUFFLE_PARTITIONS`` (4 in local mode, Spark's default on a cluster). Anything else goes
in Spark's own ``spark-defaults.conf`` (``SPARK_CONF_DIR``). The warehouse directory must be on a file
system the driver and the executors share (local disk in local mode; a shared mount on a cluster); with
Spark Connect the provista process shares it too, since it writes the loaded rows there as Parquet files.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from provista.engine import layout
from provista.engine.base import EngineError
from provista.engine.duckdb import DuckDBEngine, parquet_scan
from provista.engine.sampling import spark_hash_bucket

_SESSION: SparkSession | None = None

_CREATE = re.compile(
    r"^\s*CREATE\s+(?P<replace>OR\s+REPLACE\s+)?(?P<temp>TEMP(?:ORARY)?\s+)?TABLE\s+"
    r"(?P<ifnot>IF\s+NOT\s+EXISTS\s+)?(?P<name>\w+)\s*(?P<rest>.*?)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_INSERT = re.compile(
    r"^\s*INSERT\s+INTO\s+(?P<name>\w+)\s+(?P<byname>BY\s+NAME\s+)?(?P<query>(SELECT|WITH)\b.*?)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_DELETE_ALL = re.compile(r"^\s*DELETE\s+FROM\s+(?P<name>\w+)\s*;?\s*$", re.IGNORECASE)
_DROP = re.compile(r"^\s*DROP\s+TABLE\s+(?P<ifexists>IF\s+EXISTS\s+)?(?P<name>\w+)\s*;?\s*$", re.IGNORECASE)
_UPDATE = re.compile(r"^\s*UPDATE\b", re.IGNORECASE)
_CONSTRAINT = re.compile(r"\s+(PRIMARY\s+KEY|NOT\s+NULL|NULL|UNIQUE|DEFAULT|CHECK|REFERENCES)\b.*$", re.I)

# DuckDB's type names (as the warehouse schema writes them) → Spark's, and back for casting.
_SPARK_TYPES: dict[str, T.DataType] = {
    "VARCHAR": T.StringType(),
    "TEXT": T.StringType(),
    "STRING": T.StringType(),
    "BIGINT": T.LongType(),
    "INTEGER": T.IntegerType(),
    "INT": T.IntegerType(),
    "SMALLINT": T.ShortType(),
    "TINYINT": T.ByteType(),
    "DOUBLE": T.DoubleType(),
    "FLOAT": T.FloatType(),
    "REAL": T.FloatType(),
    "BOOLEAN": T.BooleanType(),
    "BOOL": T.BooleanType(),
    "TIMESTAMP": T.TimestampNTZType(),
    "DATE": T.DateType(),
    "BLOB": T.BinaryType(),
}


def spark_type(duck: str) -> T.DataType:
    """The Spark type of a DuckDB column type (``VARCHAR``, ``INTEGER[]``, ``DECIMAL(10,2)`` ...)."""
    text = duck.strip().upper()
    if text.endswith("[]"):
        return T.ArrayType(spark_type(text[:-2]))
    decimal = re.fullmatch(r"(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)", text)
    if decimal:
        return T.DecimalType(int(decimal[1]), int(decimal[2]))
    if text not in _SPARK_TYPES:
        raise EngineError(f"the Spark engine has no mapping for the column type {duck!r}")
    return _SPARK_TYPES[text]


def duckdb_type(spark: T.DataType) -> str:
    """The DuckDB type whose values Spark stores as ``spark`` (used to cast incoming frames)."""
    if isinstance(spark, T.ArrayType):
        return duckdb_type(spark.elementType) + "[]"
    if isinstance(spark, T.DecimalType):
        return f"DECIMAL({spark.precision},{spark.scale})"
    if isinstance(spark, T.TimestampType):
        return "TIMESTAMPTZ"
    names = {
        T.StringType: "VARCHAR",
        T.LongType: "BIGINT",
        T.IntegerType: "INTEGER",
        T.ShortType: "SMALLINT",
        T.ByteType: "TINYINT",
        T.DoubleType: "DOUBLE",
        T.FloatType: "FLOAT",
        T.BooleanType: "BOOLEAN",
        T.TimestampNTZType: "TIMESTAMP",
        T.DateType: "DATE",
        T.BinaryType: "BLOB",
    }
    for kind, name in names.items():
        if isinstance(spark, kind):
            return name
    raise EngineError(f"the Spark engine cannot cast pandas values to {spark.simpleString()}")


def schema_of(definitions: Sequence[str]) -> T.StructType:
    """A Spark schema from DuckDB column definitions (``name TYPE [PRIMARY KEY] [NOT NULL]``)."""
    fields = []
    for definition in definitions:
        name, _, rest = definition.strip().partition(" ")
        fields.append(T.StructField(name, spark_type(_CONSTRAINT.sub("", rest)), nullable=True))
    return T.StructType(fields)


def _split_columns(text: str) -> list[str]:
    """Column definitions of ``(a INT, b DECIMAL(10, 2))``: commas inside parentheses do not split."""
    inner = text.strip()
    if not (inner.startswith("(") and inner.endswith(")")):
        raise EngineError(f"expected column definitions in parentheses, got: {text[:200]}")
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in inner[1:-1]:
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _java_available() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java")) or bool(home and (Path(home) / "bin/java").exists())


def _remote() -> str | None:
    return os.environ.get("PROVISTA_SPARK_REMOTE") or None


def spark_session() -> SparkSession:
    """The process's Spark session, started on first use (about 10 s) and shared by every engine."""
    global _SESSION
    if _SESSION is not None:
        return _SESSION
    # PySpark logs every failed query's stack trace itself; the engine raises it as an EngineError.
    from pyspark.logger import PySparkLogger

    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)
    remote = _remote()
    master = os.environ.get("PROVISTA_SPARK_MASTER", "local[2]")
    local = remote is None and master.startswith("local")
    conf = {
        "spark.app.name": "provista",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "true",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }
    if remote is None:  # static settings, which a Spark Connect client cannot change (the server's own)
        conf["spark.ui.showConsoleProgress"] = "false"
        conf["spark.sql.warehouse.dir"] = str(Path(tempfile.gettempdir()) / "provista-spark-catalog")
    partitions = os.environ.get("PROVISTA_SPARK_SHUFFLE_PARTITIONS") or ("4" if local else None)
    if partitions:
        conf["spark.sql.shuffle.partitions"] = partitions
    builder = SparkSession.builder
    if remote is not None:
        builder = builder.remote(remote)
    else:
        if not _java_available():
            raise EngineError(
                "the Spark engine needs Java 17 or 21, and none was found (no `java` on PATH, no JAVA_HOME)",
                hint="run `make java` (Debian's openjdk-17-jre-headless), or set JAVA_HOME",
            )
        if local:
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            # Python workers run this interpreter (the venv's, with pandas and pyarrow), not whatever
            # `python3` is first on PATH on a fresh machine
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            conf["spark.ui.enabled"] = "false"
        conf["spark.driver.memory"] = os.environ.get("PROVISTA_SPARK_DRIVER_MEMORY", "2g")
        conf["spark.log.structuredLogging.enabled"] = "false"
        builder = builder.master(master)
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start, or the cluster did not answer
        raise EngineError(
            f"Spark did not start ({remote or master}): {str(exc).splitlines()[0] if str(exc) else exc!r}",
            hint="check Java (`java -version`), PROVISTA_SPARK_MASTER / PROVISTA_SPARK_REMOTE",
        ) from None
    if remote is None:
        session.sparkContext.setLogLevel("ERROR")
    _SESSION = session
    return session


def _new_session() -> SparkSession:
    """A session of its own (temporary views are per session) on the shared Spark context."""
    base = spark_session()
    remote = _remote()
    if remote is not None:
        return SparkSession.builder.remote(remote).create()
    return base.newSession()


def _message(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return "\n".join(lines[:6]) or repr(exc)


@contextmanager
def _errors(sql: str) -> Iterator[None]:
    from py4j.protocol import Py4JError

    try:
        yield
    except (PySparkException, Py4JError) as exc:
        raise EngineError(f"{_message(exc)}\n  in: {sql[:500]}") from exc


class SparkEngine:
    """Spark SQL over the Parquet tables of one warehouse version (see the module's docstring)."""

    dialect = "spark"

    def __init__(self, version: Path, scratch: Path | None = None) -> None:
        self.path = version
        self.spark = _new_session()
        self._own_scratch = scratch is None
        self._scratch = scratch or Path(tempfile.mkdtemp(prefix="provista-spark-"))
        self._scratch.mkdir(parents=True, exist_ok=True)
        self._schemas: dict[str, T.StructType] = {}
        self._folders: dict[str, Path] = {}
        self._temporary: set[str] = set()
        for name, folder in layout.table_folders(version).items():
            with _errors(f"read {folder}"):
                self._register(name, folder, self.spark.read.parquet(str(folder)).schema)

    # -- the engine's interface (the same as DuckDBEngine's) ---------------------------------------

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        """Run a statement; DuckDB's table DDL is translated to Parquet writes (module docstring)."""
        if m := _CREATE.match(sql):
            self._create(m, sql, params)
        elif m := _INSERT.match(sql):
            self._insert(m["name"], self._sql(m["query"], params), by_name=bool(m["byname"]), sql=sql)
        elif m := _DELETE_ALL.match(sql):
            self._require(m["name"])
            self._store_empty(m["name"], self._schemas[m["name"]], m["name"] in self._temporary)
        elif m := _DROP.match(sql):
            if m["name"] not in self._schemas and not m["ifexists"]:
                raise EngineError(f"no table {m['name']} to drop\n  in: {sql[:500]}")
            self._drop(m["name"])
        elif _UPDATE.match(sql):
            raise EngineError(
                "the Spark engine has no UPDATE (Parquet files are written whole)",
                hint="use engine.set_from(table, column, source, keys), which both engines run",
            )
        else:
            with _errors(sql):
                self._sql(sql, params).collect()

    def frame(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        with _errors(sql):
            return self._sql(sql, params).toPandas()

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        return self.frame(sql, params)

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        with _errors(sql):
            rows = self._sql(sql, params).take(1)
        return rows[0][0] if rows else None

    def append(self, table: str, frame: pd.DataFrame) -> None:
        """Insert the frame's columns into ``table`` by name; absent columns become NULL.

        The values are cast by DuckDB (the other engine's ``INSERT ... BY NAME`` rules) before Spark
        stores them, so a string '3' in an integer column means 3 on both engines.
        """
        if not frame.empty:
            self._append_cast(table, lambda con: con.register("_batch", frame))

    def append_files(self, table: str, files: Sequence[Path]) -> None:
        """Insert the rows of Parquet files into ``table`` by name, cast as ``append`` casts them."""
        if files:
            scan = parquet_scan(files, by_name=True)
            self._append_cast(table, lambda con: con.execute(f"CREATE VIEW _batch AS SELECT * FROM {scan}"))

    def _append_cast(self, table: str, batch: Callable[[Any], object]) -> None:
        """Append view ``_batch`` (made by ``batch`` on a DuckDB connection) to ``table``: each column
        cast to the table's type by DuckDB, absent ones NULL."""
        self._require(table)
        schema = self._schemas[table]
        con = duckdb.connect(":memory:")
        try:
            batch(con)
            names = con.sql("SELECT * FROM _batch").columns
            unknown = [c for c in names if c not in schema.fieldNames()]
            if unknown:
                raise EngineError(f"table {table} has no column {unknown[0]!r} (frame columns: {names})")
            cast = ", ".join(
                f'CAST("{f.name}" AS {duckdb_type(f.dataType)}) AS "{f.name}"'
                if f.name in names
                else f'CAST(NULL AS {duckdb_type(f.dataType)}) AS "{f.name}"'
                for f in schema.fields
            )
            rows = con.sql(f"SELECT {cast} FROM _batch").to_arrow_table()
        except duckdb.Error as exc:
            raise EngineError(f"rows for {table} do not fit its columns: {exc}") from exc
        finally:
            con.close()
        # Written as a Parquet file of the table's folder by this process, not through createDataFrame:
        # that ships the rows inside Spark's tasks through the driver's heap, and the loading workers' spool
        # (16 files of 100,000 rows at a time) ran the default 2 GB driver out of memory at the small
        # province even a few megabytes at a time. The folder is what the executors read (on a cluster it
        # is on the shared file system, as the whole warehouse must be).
        with _errors(f"append to {table}"):
            _write_rows(self._folders[table], schema, rows)
        self._register(table, self._folders[table], schema, table in self._temporary)

    def set_from(self, table: str, column: str, source: str, keys: Sequence[str]) -> None:
        """Set ``table.column`` from ``source`` (a query of ``keys`` and ``column``, at most one row per
        key) where the keys match; other rows keep their value. Spark rewrites the table."""
        self._require(table)
        schema = self._schemas[table]
        kind = next(f.dataType for f in schema.fields if f.name == column)
        outputs = ", ".join(
            f"CASE WHEN s.__matched THEN CAST(s.{c} AS {kind.simpleString()}) ELSE t.{c} END AS {c}"
            if c == column
            else f"t.{c}"
            for c in schema.fieldNames()
        )
        on = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        sql = (
            f"SELECT {outputs} FROM {table} t LEFT JOIN "
            f"(SELECT *, true AS __matched FROM ({source}) src) s ON {on}"
        )
        self._store(table, self._sql(sql), table in self._temporary, sql)

    def ibis(self) -> Any:
        """An Ibis backend on this engine's session, for the warehouse's portable expressions."""
        import ibis

        return ibis.pyspark.from_connection(self.spark)

    def tables(self) -> list[str]:
        """Every table, temporary ones included (as DuckDB lists them)."""
        return sorted(self._schemas)

    def hash_bucket(self, expr: str, modulus: int) -> str:
        """SQL: a number in [0, modulus) from ``expr``, the same on both engines (for sampling)."""
        return spark_hash_bucket(expr, modulus)

    @contextmanager
    def memory_share(self, fraction: float) -> Iterator[int]:
        """Nothing to share: the driver's memory is Spark's own (``PROVISTA_SPARK_DRIVER_MEMORY``)."""
        yield 0

    @contextmanager
    def linkage_backend(self, work_dir: Path | None = None) -> Iterator[Any]:
        """Splink's Spark backend on this session, sampling records as the DuckDB backend does."""
        yield self._linkage_backend(work_dir)

    def _linkage_backend(self, work_dir: Path | None) -> Any:
        from splink.backends.spark import SparkAPI

        from provista.engine.splink_dialects import SampledSparkDialect

        class _SparkAPI(SparkAPI):
            sql_dialect = SampledSparkDialect()

        if _remote() is not None or (self.spark.sparkContext.master or "").startswith("local"):
            # in memory: no checkpoint directory to share (Connect), or one machine's small data (local)
            return _SparkAPI(
                spark_session=self.spark, break_lineage_method="persist", register_udfs_automatically=False
            )
        checkpoints = (work_dir or self._scratch) / "splink"
        self.spark.sparkContext.setCheckpointDir(str(checkpoints))
        return _SparkAPI(
            spark_session=self.spark, break_lineage_method="parquet", register_udfs_automatically=False
        )

    def linkage_table(self, db: Any, sql: str, name: str, work_dir: Path) -> str:
        """Materialise the query's rows as table ``name`` where the linkage backend ``db`` reads them."""
        self._store(name, self._sql(sql), temporary=True, sql=sql)
        return name

    @contextmanager
    def analytics(self, *derived: str) -> Iterator[DuckDBEngine]:
        """An embedded DuckDB over this version's tables, for analytics written in DuckDB's SQL; the
        ``derived`` tables it creates are written back to this warehouse when the block ends."""
        for name in derived:
            self._drop(name)
        with DuckDBEngine.over_parquet(self.path) as reader:
            yield reader
            for name in derived:
                self._adopt(reader, name)

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for name in list(self._schemas):
            self.spark.catalog.dropTempView(name)
        self._schemas.clear()
        self.spark.catalog.clearCache()  # what Splink persisted
        if self._own_scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)

    # -- storage -------------------------------------------------------------------------------------

    def _sql(self, sql: str, params: list[Any] | None = None) -> DataFrame:
        with _errors(sql):
            return self.spark.sql(sql, args=list(params)) if params else self.spark.sql(sql)

    def _require(self, table: str) -> None:
        if table not in self._schemas:
            raise EngineError(f"no table {table} in the Spark warehouse {self.path}")

    def _register(self, name: str, folder: Path, schema: T.StructType, temporary: bool = False) -> None:
        self._schemas[name], self._folders[name] = schema, folder
        if temporary:
            self._temporary.add(name)
        with _errors(f"read {folder}"):
            self.spark.read.schema(schema).parquet(str(folder)).createOrReplaceTempView(name)

    def _drop(self, name: str) -> None:
        if name in self._schemas:
            self.spark.catalog.dropTempView(name)
            shutil.rmtree(self._folders.pop(name), ignore_errors=True)
            del self._schemas[name]
            self._temporary.discard(name)

    def _store(self, name: str, df: DataFrame, temporary: bool, sql: str) -> None:
        """Write ``df`` as the whole content of table ``name`` (into a new folder, then swapped in)."""
        fields = []
        for f in df.schema.fields:  # wall-clock times only: the session's zone is UTC, so values stay
            kind = T.TimestampNTZType() if isinstance(f.dataType, T.TimestampType) else f.dataType
            fields.append(T.StructField(f.name, kind, nullable=True))
        schema = T.StructType(fields)
        if schema != df.schema:
            from pyspark.sql import functions as F

            df = df.select([F.col(f"`{f.name}`").cast(f.dataType).alias(f.name) for f in schema.fields])
        staging = self._staging(name, temporary)
        with _errors(sql):
            df.write.parquet(str(staging))
        if not layout.parquet_files(staging):  # an empty result wrote no file: keep the schema
            _write_empty(staging, schema)
        self._swap_in(name, staging, schema, temporary)

    def _store_empty(self, name: str, schema: T.StructType, temporary: bool) -> None:
        """An empty table: one Parquet file with the schema, written here (no Spark job needed)."""
        staging = self._staging(name, temporary)
        staging.mkdir(parents=True)
        _write_empty(staging, schema)
        self._swap_in(name, staging, schema, temporary)

    def _staging(self, name: str, temporary: bool) -> Path:
        return (self._scratch if temporary else self.path) / f".staging-{name}-{uuid.uuid4().hex[:8]}"

    def _swap_in(self, name: str, staging: Path, schema: T.StructType, temporary: bool) -> None:
        self._drop(name)
        final = staging.with_name(name)
        shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)
        self._register(name, final, schema, temporary)

    def _create(self, m: re.Match[str], sql: str, params: list[Any] | None) -> None:
        name, rest, temporary = m["name"], m["rest"], bool(m["temp"])
        if name in self._schemas and not m["replace"]:
            if m["ifnot"]:
                return
            raise EngineError(f"table {name} exists already\n  in: {sql[:500]}")
        if rest[:2].upper() == "AS" and not rest[2:3].isalnum():
            self._store(name, self._sql(rest[2:], params), temporary, sql)
        else:
            self._store_empty(name, schema_of(_split_columns(rest)), temporary)

    def _insert(self, name: str, df: DataFrame, by_name: bool, sql: str) -> None:
        from pyspark.sql import functions as F

        self._require(name)
        schema = self._schemas[name]
        if by_name:
            columns = [
                (F.col(f"`{f.name}`") if f.name in df.columns else F.lit(None)).cast(f.dataType).alias(f.name)
                for f in schema.fields
            ]
        else:
            columns = [
                F.col(f"`{c}`").cast(f.dataType).alias(f.name)
                for c, f in zip(df.columns, schema.fields, strict=True)
            ]
        with _errors(sql):
            df.select(columns).write.mode("append").parquet(str(self._folders[name]))
        self._register(name, self._folders[name], schema, name in self._temporary)

    def _adopt(self, reader: DuckDBEngine, name: str) -> None:
        """Copy table ``name`` of an embedded DuckDB (its rows and column types) into this warehouse."""
        described = reader.frame(f"DESCRIBE {name}")
        schema = schema_of([f"{r.column_name} {r.column_type}" for r in described.itertuples()])
        self._store_empty(name, schema, temporary=False)
        self.append(name, reader.frame(f"SELECT * FROM {name}"))


def _write_empty(folder: Path, schema: T.StructType) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql.pandas.types import to_arrow_schema

    pq.write_table(pa.Table.from_pylist([], to_arrow_schema(schema)), folder / "part-empty.parquet")


def _write_rows(folder: Path, schema: T.StructType, rows: Any) -> None:
    """Rows (an Arrow table whose columns are already of the table's types) as a new Parquet file of the
    table's folder, in the Arrow types Spark itself gives the table's schema (``to_arrow_schema``)."""
    import pyarrow.parquet as pq
    from pyspark.sql.pandas.types import to_arrow_schema

    folder.mkdir(parents=True, exist_ok=True)
    name = f"part-{uuid.uuid4().hex}.parquet"
    pq.write_table(rows.cast(to_arrow_schema(schema)), folder / f".{name}.tmp")
    (folder / f".{name}.tmp").rename(folder / name)  # a reader never lists half a file


@contextmanager
def atomic_build(target: Path, start_from_current: bool = False) -> Iterator[SparkEngine]:
    """Write a new version of the Spark warehouse ``target`` and make it current only when the build
    succeeds (``layout.new_version``); with ``start_from_current`` the new version starts as a copy."""
    with layout.new_version(target, start_from_current) as version:
        scratch = target / f".scratch-{version.name}"
        engine = SparkEngine(version, scratch=scratch)
        try:
            yield engine
        finally:
            engine.close()
            shutil.rmtree(scratch, ignore_errors=True)
