"""Compare a table of two warehouses: the same columns and types, the same rows in any order.

Rows are sorted by every column (floats last, rounded for the sort only); floats are then compared with
a relative tolerance, everything else exactly. Lists (the identity table's token arrays) compare as
tuples; NULL equals NULL.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from provista.engine import DuckDBEngine

# Integers compare by value: DuckDB sums integers to HUGEINT and extracts hours as BIGINT, Spark to
# BIGINT and INT. Every other type must be the same.
INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}


def column_types(engine: DuckDBEngine, table: str) -> list[tuple[str, str]]:
    described = engine.frame(f"DESCRIBE {table}")
    types = ["integer" if t in INTEGERS else t for t in described["column_type"]]
    return list(zip(described["column_name"], types, strict=True))


def _canonical(frame: pd.DataFrame, floats: Sequence[str]) -> pd.DataFrame:
    out = frame.copy()
    for c in out.columns:
        if c in floats:
            out[c] = out[c].astype("float64")
        elif out[c].dtype == object and out[c].map(lambda v: isinstance(v, list | np.ndarray)).any():
            out[c] = out[c].map(lambda v: tuple(v) if isinstance(v, list | np.ndarray) else None)
    keys = [c for c in out.columns if c not in floats]
    order = out[keys].astype(str) if keys else pd.DataFrame(index=out.index)
    for c in floats:  # a tie on every other column is broken by the float, rounded past its noise
        order[f"__{c}"] = out[c].map(lambda v: "" if pd.isna(v) else f"{v:.6e}")
    ranked = order.sort_values(list(order.columns), kind="mergesort").index
    return out.loc[ranked].reset_index(drop=True)


def table_differences(
    a: DuckDBEngine, b: DuckDBEngine, table: str, rtol: float, ignore: Sequence[str] = ()
) -> list[str]:
    """What differs in ``table`` between warehouses ``a`` and ``b`` (empty: identical)."""
    types_a, types_b = column_types(a, table), column_types(b, table)
    if types_a != types_b:
        return [f"{table}: columns differ: {types_a} vs {types_b}"]
    floats = [c for c, t in types_a if t in ("DOUBLE", "FLOAT") and c not in ignore]
    columns = [c for c, _ in types_a if c not in ignore]
    select = ", ".join(f'"{c}"' for c in columns)
    fa, fb = a.frame(f"SELECT {select} FROM {table}"), b.frame(f"SELECT {select} FROM {table}")
    if len(fa) != len(fb):
        return [f"{table}: {len(fa)} rows vs {len(fb)}"]
    ca, cb = _canonical(fa, floats), _canonical(fb, floats)
    problems = []
    for c in columns:
        x, y = ca[c], cb[c]
        if c in floats:
            same = np.isclose(x.to_numpy(), y.to_numpy(), rtol=rtol, atol=0.0, equal_nan=True)
        else:
            same = ((x == y) | (x.isna() & y.isna())).to_numpy()
        if not same.all():
            i = int(np.flatnonzero(~same)[0])
            problems.append(
                f"{table}.{c}: {int((~same).sum())} rows differ, e.g. {x.iloc[i]!r} vs {y.iloc[i]!r}"
            )
    return problems
