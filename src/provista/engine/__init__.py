"""THE SEAM: the only package that imports a database driver (DuckDB by default; Spark later)."""

from provista.engine.duckdb import DuckDBEngine, atomic_build, linkage_backend

__all__ = ["DuckDBEngine", "atomic_build", "linkage_backend"]
