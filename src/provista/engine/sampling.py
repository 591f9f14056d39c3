"""One hash for both engines, so that samples and chunks drawn by it hold the same records on each.

Each engine's own ``hash()`` differs (DuckDB's and Spark's murmur3): a sample drawn by it would hold
different records on DuckDB and on Spark. These expressions give the same number on both: the first 60
bits of the MD5 of the value's text (a non-negative BIGINT).
"""

from __future__ import annotations


def duckdb_hash(expr: str) -> str:
    """SQL (DuckDB): the first 60 bits of the MD5 of ``expr``'s text, as a BIGINT."""
    return f"('0x' || substr(md5(CAST({expr} AS VARCHAR)), 1, 15))::BIGINT"


def spark_hash(expr: str) -> str:
    """SQL (Spark): the same number as ``duckdb_hash``."""
    return f"CAST(conv(substr(md5(CAST({expr} AS STRING)), 1, 15), 16, 10) AS BIGINT)"


def duckdb_hash_bucket(expr: str, modulus: int) -> str:
    """SQL (DuckDB): a number in [0, modulus) from ``duckdb_hash``."""
    return f"({duckdb_hash(expr)} % {modulus})"


def spark_hash_bucket(expr: str, modulus: int) -> str:
    """SQL (Spark): the same number as ``duckdb_hash_bucket``."""
    return f"pmod({spark_hash(expr)}, {modulus})"
