"""Benchmark the hospital-operations indicators next to a bare SQL scan of the same tables.

    python bench/bench_indicators.py --warehouse FILE [--label small] [--repeat 3]

For the last year of bed census: every indicator per hospital for the year, per hospital and month, and
per city for the year (``indicator_table``, the code behind `provista indicators` and the API), each the
best of ``--repeat`` runs. The floor, measured in the same run: one bare DuckDB query per source table
that reads the same rows and sums a column per hospital (bed census, inpatient stays by discharge date,
outpatient visits, operations, equipment use) — the scans with none of the indicators' logic. Writes
bench/results/indicators-<label>.json. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from common import save
from provista.analytics.operations.indicators import indicator_table
from provista.analytics.operations.views import default_period
from provista.engine import DuckDBEngine

PERIOD = "BETWEEN $start AND $end"
FLOOR = [
    f"SELECT hospital_id, sum(occupied_beds), sum(open_beds) FROM bed_census WHERE date {PERIOD} GROUP BY 1",
    f"""SELECT hospital_id, count(*), sum(date_diff('day', admit_ts, discharge_ts)) FROM encounter
        WHERE type = 'inpatient' AND discharge_ts::DATE {PERIOD} GROUP BY 1""",
    f"""SELECT hospital_id, count(*) FROM encounter
        WHERE type = 'outpatient' AND admit_ts::DATE {PERIOD} GROUP BY 1""",
    "SELECT hospital_id, count(*), max(level) FROM procedure GROUP BY 1",
    f"SELECT hospital_id, sum(exams), sum(hours_used) FROM equipment_use WHERE date {PERIOD} GROUP BY 1",
]


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--label", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with DuckDBEngine(args.warehouse, read_only=True) as engine:
        period = default_period(engine, 365)
        assert period is not None, "the warehouse has no bed census"
        start, end = period
        encounters = int(engine.scalar("SELECT count(*) FROM encounter"))
        floor_s, _ = best(lambda: [engine.con.execute(q, _params(q, start, end)).fetchall() for q in FLOOR],
                          args.repeat)  # fmt: skip
        rows = []
        for name, by, grain in (
            ("per hospital, one year", "hospital", "period"),
            ("per hospital and month", "hospital", "month"),
            ("per city, one year", "city", "period"),
            ("per department, one year", "department", "period"),
        ):
            seconds, table = best(
                lambda b=by, g=grain: indicator_table(engine, b, start, end, grain=g), args.repeat
            )
            rows.append({"query": name, "seconds": round(seconds, 3), "rows": len(table),
                         "over_floor": round(seconds / floor_s, 1)})  # fmt: skip
    frame = pd.DataFrame(rows)
    print(f"{encounters:,} encounters; period {start} to {end}; floor (bare SQL scans) {floor_s:.3f} s")
    print(frame.to_string(index=False))
    save(
        f"indicators-{args.label or args.warehouse.stem}",
        {
            "benchmark": "indicators",
            "warehouse": str(args.warehouse),
            "encounters": encounters,
            "period": [str(start), str(end)],
            "floor_seconds": round(floor_s, 3),
            "queries": rows,
        },
    )


def _params(query: str, start: dt.date, end: dt.date) -> dict[str, dt.date]:
    return {"start": start, "end": end} if "$start" in query else {}


if __name__ == "__main__":
    main()
