"""The measures (numerators and denominators) of the indicators, aggregated by the engine per unit and period.

One Ibis aggregation per source table, grouped by the unit's keys and the period; the small results are
joined here in pandas (aggregate in the engine, compute ratios in Python). Bed view and patient view stay
apart (DOMAIN.md):

- bed view (``bed_census``): a census row counts on its own date, so a stay across a month end adds
  bed-days to both months;
- patient view (``encounter``): a discharged stay counts whole in the period of its discharge, with
  discharge date − admission date bed-days, and 1 for a same-day stay (住院天数);
- operations count per stay (``procedure`` joined to the discharged stay): several in one stay count once;
  the stay's grade is its highest operation's grade.

The days of a period are its calendar days on which the warehouse has a census (the first to the last
census date of the whole warehouse), so that a period reaching past the data does not dilute averages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd
from ibis import _

from provista.errors import ConfigError

if TYPE_CHECKING:
    from provista.engine import DuckDBEngine

# Unit kind -> its key columns.
BY_KEYS: dict[str, tuple[str, ...]] = {
    "hospital": ("hospital_id",),
    "department": ("hospital_id", "department"),
    "city": ("city_code",),
    "county": ("county_code",),
    "province": (),
}
GRAINS = ("period", "month")
# Measure id -> the source whose query computes it (the definitions file is checked against this).
MEASURE_SOURCES: dict[str, str] = {
    "occupied_bed_days": "census",
    "open_bed_days": "census",
    "average_open_beds": "derived",
    "discharges": "discharges",
    "patient_bed_days": "discharges",
    "deaths": "discharges",
    "surgical_discharges": "discharges",
    "grade4_discharges": "discharges",
    "outpatient_visits": "outpatient",
    "exams": "equipment",
    "positive_exams": "equipment",
    "equipment_hours_used": "equipment",
    "equipment_hours_available": "equipment",
    "or_minutes_used": "theatre",
    "or_minutes_available": "derived",
}
HOSPITAL_ONLY = ("equipment", "theatre")  # sources with no department: NULL in department rows


def check_by(by: str) -> tuple[str, ...]:
    if by not in BY_KEYS:
        raise ConfigError(f"--by '{by}' is not one of {', '.join(BY_KEYS)}", hint="use e.g. --by hospital")
    return BY_KEYS[by]


def census_range(engine: DuckDBEngine) -> tuple[dt.date, dt.date] | None:
    """The first and last census date of the warehouse (None without a census)."""
    row = engine.query("SELECT min(date)::DATE AS lo, max(date)::DATE AS hi FROM bed_census")
    lo, hi = row.loc[0, "lo"], row.loc[0, "hi"]
    return None if pd.isna(lo) else (pd.Timestamp(lo).date(), pd.Timestamp(hi).date())


def periods(
    start: dt.date, end: dt.date, grain: str, coverage: tuple[dt.date, dt.date] | None
) -> pd.DataFrame:
    """The periods of [start, end]: period (its label: first day), period_start, period_end, days."""
    if grain not in GRAINS:
        raise ConfigError(f"grain '{grain}' is not one of {', '.join(GRAINS)}", hint="use period or month")
    if grain == "period":
        bounds = [(start, start, end)]
    else:
        bounds = []
        first = start.replace(day=1)
        while first <= end:
            nxt = (first + dt.timedelta(days=32)).replace(day=1)
            bounds.append((first, max(first, start), min(nxt - dt.timedelta(days=1), end)))
            first = nxt
    rows = []
    for label, lo, hi in bounds:
        a, b = (max(lo, coverage[0]), min(hi, coverage[1])) if coverage else (lo, hi)
        rows.append({"period": label, "period_start": lo, "period_end": hi, "days": max(0, (b - a).days + 1)})
    return pd.DataFrame(rows)


def _period(column: Any, grain: str, start: dt.date) -> Any:
    return ibis.literal(start).name("period") if grain == "period" else column.truncate("M").name("period")


# The warehouse columns the measures read (warehouse/schema.py; a test checks they are there), as unbound
# Ibis tables: expressions compile to SQL without touching a connection, so requests can run them at once.
SOURCE_COLUMNS: dict[str, dict[str, str]] = {
    "hospital": {"hospital_id": "string", "city_code": "string", "county_code": "string",
                 "operating_rooms": "int32"},
    "bed_census": {"hospital_id": "string", "department": "string", "date": "date", "occupied_beds": "int32",
                   "open_beds": "int32"},
    "encounter": {"hospital_id": "string", "encounter_id": "string", "type": "string", "department": "string",
                  "admit_ts": "timestamp", "discharge_ts": "timestamp", "outcome": "string"},
    "procedure": {"hospital_id": "string", "encounter_id": "string", "or_room": "string",
                  "start_ts": "timestamp", "end_ts": "timestamp", "level": "int32"},
    "equipment_use": {"hospital_id": "string", "date": "date", "hours_used": "float64",
                      "hours_available": "float64", "exams": "int32", "positives": "int32"},
}  # fmt: skip


def _table(name: str) -> Any:
    return ibis.table(SOURCE_COLUMNS[name], name=name)


def _hospitals(hospitals: Sequence[str] | None) -> Any:
    h = _table("hospital")
    return h if hospitals is None else h.filter(h.hospital_id.isin(list(hospitals)))


def _run(engine: DuckDBEngine, expr: Any) -> pd.DataFrame:
    frame = engine.query(ibis.to_sql(expr, dialect="duckdb"))
    if "period" in frame.columns:
        frame["period"] = pd.to_datetime(frame["period"]).dt.date
    return frame


def source_frames(
    engine: DuckDBEngine,
    keys: tuple[str, ...],
    start: dt.date,
    end: dt.date,
    grain: str,
    hospitals: Sequence[str] | None,
) -> dict[str, pd.DataFrame]:
    """Each source's measures per unit key and period, as computed by the engine."""
    h = _hospitals(hospitals)
    unit_keys = [k for k in keys if k != "department"]
    dept = ["department"] if "department" in keys else []

    census = _table("bed_census").filter(_.date.between(start, end)).inner_join(h, "hospital_id")
    census = census.group_by([*keys, _period(census.date, grain, start)]).aggregate(
        occupied_bed_days=census.occupied_beds.sum(), open_bed_days=census.open_beds.sum()
    )

    proc = _table("procedure")
    per_stay = proc.group_by(["hospital_id", "encounter_id"]).aggregate(
        operations=proc.count(), top_grade=proc.level.max()
    )
    enc = _table("encounter")
    stays = enc.filter(
        (enc.type == "inpatient")
        & enc.admit_ts.notnull()
        & enc.discharge_ts.notnull()
        & enc.discharge_ts.date().between(start, end)
    )
    stays = stays.left_join(per_stay, ["hospital_id", "encounter_id"]).inner_join(h, "hospital_id")
    stays = stays.mutate(
        bed_days=ibis.greatest(
            stays.discharge_ts.date().epoch_days() - stays.admit_ts.date().epoch_days(), 1
        ),
        operated=stays.operations.fill_null(0) > 0,
    )
    discharges = stays.group_by([*keys, _period(stays.discharge_ts.date(), grain, start)]).aggregate(
        discharges=stays.count(),
        patient_bed_days=stays.bed_days.sum(),
        deaths=(stays.outcome == "died").sum(),
        surgical_discharges=stays.operated.sum(),
        grade4_discharges=(stays.operated & (stays.top_grade == 4)).fill_null(False).sum(),
    )

    visits = enc.filter((enc.type == "outpatient") & enc.admit_ts.date().between(start, end))
    visits = visits.inner_join(h, "hospital_id")
    outpatient = visits.group_by([*keys, _period(visits.admit_ts.date(), grain, start)]).aggregate(
        outpatient_visits=visits.count()
    )
    frames = {"census": census, "discharges": discharges, "outpatient": outpatient}
    if not dept:
        equip = _table("equipment_use").filter(_.date.between(start, end)).inner_join(h, "hospital_id")
        frames["equipment"] = equip.group_by([*unit_keys, _period(equip.date, grain, start)]).aggregate(
            exams=equip.exams.sum(),
            positive_exams=equip.positives.sum(),
            equipment_hours_used=equip.hours_used.sum(),
            equipment_hours_available=equip.hours_available.sum(),
        )
        ops = proc.filter(
            proc.or_room.notnull()
            & proc.start_ts.notnull()
            & proc.end_ts.notnull()
            & proc.start_ts.date().between(start, end)
        ).inner_join(h, "hospital_id")
        minutes = ibis.greatest(ops.end_ts.epoch_seconds() - ops.start_ts.epoch_seconds(), 0) / 60.0
        frames["theatre"] = ops.group_by([*unit_keys, _period(ops.start_ts.date(), grain, start)]).aggregate(
            or_minutes_used=minutes.sum()
        )
        rooms = h.operating_rooms.fill_null(0).sum().name("operating_rooms")
        frames["rooms"] = h.group_by(unit_keys).aggregate(rooms) if unit_keys else h.aggregate(rooms)
    return {name: _run(engine, expr) for name, expr in frames.items()}


def measure_table(
    engine: DuckDBEngine,
    by: str,
    start: dt.date,
    end: dt.date,
    *,
    grain: str = "period",
    hospitals: Sequence[str] | None = None,
    or_session_minutes: float = 480.0,
) -> pd.DataFrame:
    """One row per unit and period: the unit's keys, period, period_start, period_end, days, every measure.

    ``hospitals`` limits the hospitals counted (a user's scope). Units are the hospitals' units (every
    hospital, city or county with a hospital, even without data), or for departments those with data.
    A source with no row for a unit gives 0 (no beds: 0 open bed-days); equipment and operating-room
    measures are NULL for departments, which own neither.
    """
    keys = check_by(by)
    if end < start:
        raise ConfigError(f"the period ends ({end}) before it starts ({start})", hint="swap --from and --to")
    spans = periods(start, end, grain, census_range(engine))
    frames = source_frames(engine, keys, start, end, grain, hospitals)
    on = [*keys, "period"]
    if by == "department":
        units = pd.concat([frames[s][list(keys)] for s in ("census", "discharges", "outpatient")])
        units = units.drop_duplicates()
        if hospitals is not None:
            units = units[units["hospital_id"].isin(list(hospitals))]
    else:
        units = frames["rooms"]
    table = units.merge(spans, how="cross")
    for source, frame in frames.items():
        if source == "rooms":
            continue
        table = table.merge(frame, on=on, how="left")
        measure_cols = [c for c in frame.columns if c not in on]
        table[measure_cols] = table[measure_cols].astype(float).fillna(0.0)
    days = table["days"].astype(float)
    table["average_open_beds"] = (table["open_bed_days"] / days).where(days > 0)
    if by == "department":
        for measure, source in MEASURE_SOURCES.items():
            if source in HOSPITAL_ONLY or measure == "or_minutes_available":
                table[measure] = float("nan")
    else:
        table["or_minutes_available"] = table.pop("operating_rooms").astype(float) * days * or_session_minutes
    table = table.sort_values(on).reset_index(drop=True)
    return table[[*keys, "period", "period_start", "period_end", "days", *MEASURE_SOURCES]]
