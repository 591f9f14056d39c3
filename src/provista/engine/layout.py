"""A Spark warehouse on disk: a directory of versions, one Parquet folder per table, and a pointer.

::

    <warehouse>/CURRENT                           the version readers open (a file, replaced atomically)
    <warehouse>/versions/<version>/<table>/       Parquet files of one table (Spark's part-*.parquet)
    <warehouse>/.lock                             while a build or an ingest writes a new version

A build writes a new version beside the current one and only then replaces ``CURRENT`` (a rename, atomic
on POSIX file systems): readers keep the version they opened, and nobody sees a half build. The last
``KEEP`` versions stay on disk so that a reader opened before two further builds still finds its files.
Pure Python: the DuckDB reader (serving a Spark-built warehouse) uses it without starting Spark.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from provista.engine.base import EngineError

POINTER = "CURRENT"
VERSIONS = "versions"
KEEP = 3


class LayoutError(EngineError):
    """The directory is not a Spark warehouse, or another build holds it."""


def is_spark_warehouse(path: Path) -> bool:
    """Whether ``path`` is a directory written by the Spark engine (it has a ``CURRENT`` pointer)."""
    return path.is_dir() and (path / POINTER).is_file()


def current_version(root: Path) -> Path:
    """The folder of the version ``CURRENT`` names."""
    pointer = root / POINTER
    if not pointer.is_file():
        raise LayoutError(
            f"{root} is not a Spark warehouse (no {POINTER} file in it)",
            hint="build one with `provista build --engine spark --warehouse DIR`",
        )
    version = root / VERSIONS / pointer.read_text(encoding="utf-8").strip()
    if not version.is_dir():
        raise LayoutError(
            f"{root}: {POINTER} names {version.name}, which is not there",
            hint="rebuild the warehouse; a version folder was removed by hand",
        )
    return version


def table_folders(version: Path) -> dict[str, Path]:
    """Each table of a version and its Parquet folder (folders starting with '.' or '_' are not tables)."""
    return {p.name: p for p in sorted(version.iterdir()) if p.is_dir() and not p.name.startswith((".", "_"))}


def parquet_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.parquet"))


@contextmanager
def new_version(root: Path, start_from_current: bool = False) -> Iterator[Path]:
    """A new version folder; ``CURRENT`` points to it only if the block ends without an exception."""
    if root.exists() and not root.is_dir():
        raise LayoutError(
            f"{root} is a file, not a Spark warehouse directory",
            hint="a DuckDB warehouse is a file: use --engine duckdb, or give a directory for Spark",
        )
    (root / VERSIONS).mkdir(parents=True, exist_ok=True)
    lock = root / ".lock"
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        raise LayoutError(
            f"another build of {root} is running ({lock} exists)",
            hint="wait for it, or remove the lock file if that build died",
        ) from None
    os.close(fd)
    version = root / VERSIONS / f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{os.getpid()}"
    try:
        if start_from_current and is_spark_warehouse(root):
            shutil.copytree(current_version(root), version)
        else:
            version.mkdir()
        try:
            yield version
        except BaseException:
            shutil.rmtree(version, ignore_errors=True)
            raise
        staged = root / f".{POINTER}.{os.getpid()}"
        staged.write_text(version.name, encoding="utf-8")
        os.replace(staged, root / POINTER)
        _prune(root, version)
    finally:
        lock.unlink(missing_ok=True)


def _prune(root: Path, current: Path) -> None:
    """Remove all but the ``KEEP`` newest versions (the current one always stays)."""
    versions = sorted((p for p in (root / VERSIONS).iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in versions[:-KEEP]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)
