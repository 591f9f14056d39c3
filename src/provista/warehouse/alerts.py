"""The alert list: signals raised by every build, from surveillance detectors and operational rules alike.

Each producer is a function ``(engine, report) -> DataFrame`` with the columns of ``ALERT_COLUMNS`` except
``alert_id`` (derived here). An alert's id is a digest of what it is about (source, rule, unit, subject,
period), so the same signal keeps its id across rebuilds and the inbox state kept in the app database
(status, assignee, notes) stays attached to it. Producers are named by import path so that the build does
not import analytics it is not configured to run.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from provista.engine import DuckDBEngine

ALERT_COLUMNS = (
    "alert_id VARCHAR PRIMARY KEY",
    "source VARCHAR NOT NULL",  # surveillance | operations
    "rule VARCHAR NOT NULL",  # detector method (ears-c1, mpm ...) or operational rule id
    "city_code VARCHAR",
    "county_code VARCHAR",
    "hospital_id VARCHAR",  # NULL for area alerts
    "subject VARCHAR NOT NULL",  # disease code, or indicator / department the rule watched
    "frequency VARCHAR",  # daily | weekly | NULL
    "period_start DATE NOT NULL",
    "period_end DATE NOT NULL",
    "observed DOUBLE",
    "threshold DOUBLE",
    "severity VARCHAR NOT NULL",  # info | warning | critical
    "detail_zh VARCHAR",
    "detail_en VARCHAR",
)
_IDENTITY = (
    "source",
    "rule",
    "city_code",
    "county_code",
    "hospital_id",
    "subject",
    "frequency",
    "period_start",
)

# "module:function" of every producer the build runs, in order. Each must tolerate a warehouse with no
# rows for it (return an empty frame).
PRODUCERS: list[str] = [
    "provista.analytics.operations.alerts:operational_alerts",
    "provista.analytics.surveillance.outbreak_alerts:surveillance_alerts",
]

Producer = Callable[["DuckDBEngine", Callable[[str, int, int], None]], pd.DataFrame]


def columns() -> list[str]:
    return [c.split(" ")[0] for c in ALERT_COLUMNS]


def alert_id(row: pd.Series) -> str:
    """A stable id: the same signal (source, rule, unit, subject, frequency, start) has it in every build."""
    text = "|".join("" if pd.isna(row[c]) else str(row[c]) for c in _IDENTITY)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def with_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with ``alert_id`` and every column of the table, in order; duplicate ids keep the first."""
    names = columns()
    missing = [c for c in names[1:] if c not in frame.columns and c not in ("hospital_id", "frequency")]
    if missing:
        raise ValueError(f"an alert producer left out columns {missing}")
    out = frame.reindex(columns=names[1:]).copy()
    out["period_start"] = pd.to_datetime(out["period_start"]).dt.date
    out["period_end"] = pd.to_datetime(out["period_end"]).dt.date
    out.insert(0, "alert_id", out.apply(alert_id, axis=1) if len(out) else pd.Series(dtype=str))
    return out.drop_duplicates("alert_id")


def derive_alerts(
    engine: DuckDBEngine,
    report: Callable[[str, int, int], None],
    producers: list[str] | None = None,
) -> int:
    """Recreate the ``alert`` table from every producer; return the number of alerts."""
    engine.execute(f"CREATE OR REPLACE TABLE alert ({', '.join(ALERT_COLUMNS)})")
    names = PRODUCERS if producers is None else producers
    total = 0
    for done, path in enumerate(names):
        module, _, function = path.partition(":")
        produce: Producer = getattr(importlib.import_module(module), function)
        frame = produce(engine, report)
        if len(frame):
            frame = with_ids(frame)
            engine.append("alert", frame)
            total += len(frame)
        report("alerts", done + 1, len(names))
    return total
