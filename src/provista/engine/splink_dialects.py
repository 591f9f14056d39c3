"""Splink's DuckDB and Spark dialects with one hash, so that both engines train on the same records.

Splink draws records for estimating u, samples for EM and chunks of work by a hash of their ids. Its
DuckDB and Spark dialects use each engine's own ``hash()``, which differ, so the two engines would learn
from different samples and reach (slightly) different models. Here both use ``sampling.py``'s hash.
"""

from __future__ import annotations

from splink.internals.dialects import DuckDBDialect, SparkDialect

from provista.engine.sampling import duckdb_hash, spark_hash


class SampledDuckDBDialect(DuckDBDialect):
    def hash_function_expression(self, col_expression: str) -> str:
        return duckdb_hash(col_expression)


class SampledSparkDialect(SparkDialect):
    def hash_function_expression(self, col_expression: str) -> str:
        return spark_hash(col_expression)
