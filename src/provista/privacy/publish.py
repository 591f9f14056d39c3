"""`provista publish`: a mart released with differential privacy, its cost entered in the ledger first.

What may be published is declared here (``PUBLISHABLE``): for each mart, the records it counts, the
person each record belongs to, the cells (keys) and the counts. Each person's records are capped at
``max_records_per_person`` (chosen at random among theirs) before counting, which bounds what one
person can change and so sets the noise. The first count decides which cells are released
(threshold mechanism, ε/n and all of δ); further counts of the same cells get their own noise
(ε/n each). Noisy counts below zero are shown as zero (post-processing costs nothing).

Every number goes out with ``<count>_pm95``: the half-width of the 95% interval of its noise.
Counts also lose records beyond the per-person cap and cells below the threshold; the sidecar report
states both.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from provista.engine import DuckDBEngine
from provista.errors import ProvistaError
from provista.privacy.dp import (
    OPENDP_VERSION,
    NoisyCounts,
    release_counts_on_keys,
    release_counts_with_threshold,
)
from provista.privacy.ledger import Ledger, ledger_path

SEP = "\x1f"


@dataclass(frozen=True)
class Publishable:
    source: str  # FROM clause
    where: str
    person: str  # the person each record belongs to
    keys: dict[str, str]  # output column → SQL expression
    counts: dict[str, str]  # output column → SQL expression of 0/1 per record
    max_records_per_person: int
    description: str


_ENCOUNTER_PERSON = "coalesce(person_key, 'encounter:' || hospital_id || '|' || encounter_id)"

PUBLISHABLE: dict[str, Publishable] = {
    "mart_cases_weekly": Publishable(
        source="case_report",
        where="onset_date IS NOT NULL",
        person="person_key",
        keys={
            "county_code": "county_code",
            "disease": "disease",
            "week": "strftime(date_trunc('week', onset_date), '%Y-%m-%d')",
        },
        counts={"cases": "1"},
        max_records_per_person=2,
        description="notifiable-disease cases by county, disease and week of onset",
    ),
    "cases_by_city_year": Publishable(
        source="case_report",
        where="onset_date IS NOT NULL",
        person="person_key",
        keys={
            "city_code": "substr(county_code, 1, 4) || '00'",
            "disease": "disease",
            "year": "year(onset_date)::VARCHAR",
        },
        counts={"cases": "1"},
        max_records_per_person=2,
        description="notifiable-disease cases by city, disease and year of onset (the annual report)",
    ),
    "mart_discharges_monthly": Publishable(
        source="encounter",
        where="type = 'inpatient' AND discharge_ts IS NOT NULL AND admit_ts IS NOT NULL",
        person=_ENCOUNTER_PERSON,
        keys={"hospital_id": "hospital_id", "month": "strftime(date_trunc('month', discharge_ts), '%Y-%m')"},
        counts={"discharges": "1", "deaths": "CASE WHEN outcome = 'died' THEN 1 ELSE 0 END"},
        max_records_per_person=4,
        description="inpatient discharges and deaths by hospital and month",
    ),
    "mart_visits_daily": Publishable(
        source="encounter",
        where="admit_ts IS NOT NULL",
        person=_ENCOUNTER_PERSON,
        keys={
            "hospital_id": "hospital_id",
            "day": "strftime(admit_ts, '%Y-%m-%d')",
            "type": "type",
            "department": "department",
        },
        counts={"visits": "1"},
        max_records_per_person=10,
        description="visits by hospital, day, type and department",
    ),
    "mart_visits_hourly": Publishable(
        source="encounter",
        where="admit_ts IS NOT NULL",
        person=_ENCOUNTER_PERSON,
        keys={"hospital_id": "hospital_id", "department": "department", "hour": "hour(admit_ts)::VARCHAR"},
        counts={"n": "1"},
        max_records_per_person=10,
        description="visits by hospital, department and hour of admission",
    ),
}


def bounded_counts(engine: DuckDBEngine, spec: Publishable) -> tuple[pd.DataFrame, int, int]:
    """The mart's cells counted over at most ``max_records_per_person`` records of each person.

    Returns the cells, the records counted and the records left out by the cap.
    """
    keys = ", ".join(f'{expr} AS "{name}"' for name, expr in spec.keys.items())
    counts = ", ".join(f'{expr} AS "{name}"' for name, expr in spec.counts.items())
    names = ", ".join(f'"{k}"' for k in spec.keys)
    sums = ", ".join(f'sum("{c}")::BIGINT AS "{c}"' for c in spec.counts)
    frame = engine.query(
        f"""WITH records AS (
                SELECT {keys}, {counts},
                       row_number() OVER (PARTITION BY {spec.person} ORDER BY hash(rowid, ?)) AS nth
                FROM {spec.source} WHERE {spec.where})
            SELECT {names}, {sums}, count(*) AS records FROM records WHERE nth <= ? GROUP BY ALL""",
        [secrets.randbits(62), spec.max_records_per_person],  # a fresh random choice each time
    )
    total = engine.query(f"SELECT count(*) AS n FROM {spec.source} WHERE {spec.where}").loc[0, "n"]
    kept = int(frame["records"].sum()) if len(frame) else 0
    return frame.drop(columns=["records"]), kept, int(total) - kept


def publish_table(
    warehouse: Path,
    table: str,
    epsilon: float,
    output: Path,
    release: str = "default",
    budget: tuple[float, float] | None = None,
    delta: float = 1e-6,
) -> dict[str, Any]:
    """Spend (ε, δ) of ``release`` on ``table``, then write its noisy counts to ``output`` (CSV).

    Returns the report also written beside the output.
    """
    spec = PUBLISHABLE.get(table)
    if spec is None:
        raise ProvistaError(
            f"{table!r} cannot be published with differential privacy",
            hint=f"choose one of {', '.join(PUBLISHABLE)}",
        )
    if not warehouse.exists():
        raise ProvistaError(f"no warehouse at {warehouse}", hint="build one with `provista build` first")
    if output.suffix.lower() != ".csv":
        raise ProvistaError(f"{output}: a published table is written as .csv", hint="rename --output")
    if not 0 < epsilon <= 10:
        raise ProvistaError(f"ε = {epsilon} is outside (0, 10]", hint="ε between 0.1 and 2 is usual")
    if not 0 < delta < 1e-3:
        raise ProvistaError(f"δ = {delta} is outside (0, 0.001)", hint="δ = 1e-6 is usual")
    ledger = Ledger(ledger_path(warehouse))
    with ledger.locked():
        with DuckDBEngine(warehouse, read_only=True) as engine:
            cells, counted, capped = bounded_counts(engine, spec)
        entry = ledger.spend(
            release,
            epsilon,
            delta,
            budget,
            {
                "table": table,
                "mechanism": f"discrete Laplace with threshold (OpenDP {OPENDP_VERSION})",
                "max_records_per_person": spec.max_records_per_person,
                "output": str(output),
            },
        )
        frame, noise = _noisy(cells, spec, epsilon, delta)
    output.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(output, index=False, encoding="utf-8")
    report = {
        "table": table,
        "description": spec.description,
        "release": release,
        "ledger_entry": entry["seq"],
        "epsilon": epsilon,
        "delta": delta,
        "unit": "person (records capped per person)",
        "max_records_per_person": spec.max_records_per_person,
        "records_counted": counted,
        "records_left_out_by_the_cap": capped,
        "cells_in_the_data": len(cells),
        "cells_released": len(frame),
        "noise": {
            name: {
                "mechanism": "discrete Laplace",
                "scale": n.scale,
                "epsilon": n.epsilon,
                "delta": n.delta,
                "threshold": n.threshold,
                "half_width_95": n.half_width_95,
            }
            for name, n in noise.items()
        },
        "output_sha256": hashlib.sha256(output.read_bytes()).hexdigest(),
    }
    output.with_name(output.name + ".dp.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return report


def _noisy(
    cells: pd.DataFrame, spec: Publishable, epsilon: float, delta: float
) -> tuple[pd.DataFrame, dict[str, NoisyCounts]]:
    key_columns = list(spec.keys)
    count_columns = list(spec.counts)
    share = epsilon / len(count_columns)
    key = cells[key_columns].astype(str).agg(SEP.join, axis=1) if len(cells) else pd.Series(dtype=str)
    by_key = {name: dict(zip(key, cells[name].astype(int), strict=True)) for name in count_columns}
    first = count_columns[0]
    noise = {first: release_counts_with_threshold(by_key[first], spec.max_records_per_person, share, delta)}
    released = sorted(noise[first].counts)
    for name in count_columns[1:]:
        noise[name] = release_counts_on_keys(
            {k: by_key[name][k] for k in released}, spec.max_records_per_person, share
        )
    rows = [k.split(SEP) for k in released]
    frame = pd.DataFrame(rows, columns=key_columns) if rows else pd.DataFrame(columns=key_columns)
    for name in count_columns:
        frame[name] = [max(noise[name].counts[k], 0) for k in released]
        frame[f"{name}_pm95"] = noise[name].half_width_95
    return frame, noise
