"""The operations page's hospital-level views: occupancy heat map, equipment use, operating-room schedule.

Each takes the hospitals in the caller's scope (the API resolves a user's scope to hospital ids in SQL) and
returns plain frames or dicts; the API shapes them, the page draws them.

Operating-room utilisation on the schedule (手术室利用率, no official definition — DOMAIN.md): per room and
day, the minutes between each operation's start and end that fall inside the day, ÷ the session minutes
(``or_session_minutes`` of indicators.yaml, 480: one 8-hour session); a room can exceed 100 % when its
list overruns. The hospital's figure divides by its registered operating rooms, as the indicator does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from provista.analytics.operations.definitions import load_definitions

if TYPE_CHECKING:
    from provista.engine import DuckDBEngine


def _in(hospitals: Sequence[str], column: str) -> tuple[str, list[Any]]:
    return f"list_contains(?::VARCHAR[], {column})", [list(hospitals)]


def default_period(engine: DuckDBEngine, days: int) -> tuple[dt.date, dt.date] | None:
    """The last ``days`` census days of the warehouse (None without a census)."""
    last = engine.query("SELECT max(date)::DATE AS d FROM bed_census").loc[0, "d"]
    if pd.isna(last):
        return None
    end = pd.Timestamp(last).date()
    return end - dt.timedelta(days=days - 1), end


def occupancy_heatmap(
    engine: DuckDBEngine, hospitals: Sequence[str], start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Department × day: occupied beds, open beds and occupancy (%) of the hospitals' midnight census."""
    where, params = _in(hospitals, "hospital_id")
    frame = engine.query(
        f"""SELECT department, date::DATE AS day, sum(occupied_beds)::DOUBLE AS occupied,
                   sum(open_beds)::DOUBLE AS open
            FROM bed_census WHERE {where} AND date BETWEEN ? AND ?
            GROUP BY 1, 2 ORDER BY 1, 2""",
        [*params, start, end],
    )
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    frame["occupancy"] = (frame["occupied"] / frame["open"].where(frame["open"] > 0)) * 100.0
    return frame


def equipment_use(
    engine: DuckDBEngine, hospitals: Sequence[str], start: dt.date, end: dt.date, *, by_device: bool
) -> pd.DataFrame:
    """Per device (or per device type): hours used and available, utilisation, exams and positive rate."""
    where, params = _in(hospitals, "hospital_id")
    unit = "device_id, any_value(device_type) AS device_type, any_value(hospital_id) AS hospital_id"
    group = "device_id" if by_device else "device_type"
    select = unit if by_device else "device_type AS device_id, device_type, NULL AS hospital_id"
    frame = engine.query(
        f"""SELECT {select}, count(DISTINCT device_id) AS devices,
                   sum(hours_used)::DOUBLE AS hours_used, sum(hours_available)::DOUBLE AS hours_available,
                   sum(exams)::DOUBLE AS exams, sum(positives)::DOUBLE AS positives
            FROM equipment_use WHERE {where} AND date BETWEEN ? AND ?
            GROUP BY {group} ORDER BY 2, 1""",
        [*params, start, end],
    )
    frame["utilisation"] = (
        frame["hours_used"] / frame["hours_available"].where(frame["hours_available"] > 0) * 100
    )
    frame["positive_rate"] = frame["positives"] / frame["exams"].where(frame["exams"] > 0) * 100
    return frame


def last_operating_day(engine: DuckDBEngine, hospital: str) -> dt.date | None:
    day = engine.query(
        "SELECT max(start_ts)::DATE AS d FROM procedure WHERE hospital_id = ? AND or_room IS NOT NULL",
        [hospital],
    ).loc[0, "d"]
    return None if pd.isna(day) else pd.Timestamp(day).date()


def theatre_schedule(engine: DuckDBEngine, hospital: str, day: dt.date) -> dict[str, Any]:
    """The hospital's operations on ``day`` by room, with each room's and the hospital's utilisation (%)."""
    session = load_definitions().parameters.get("or_session_minutes", 480.0)
    day_start = dt.datetime.combine(day, dt.time())
    day_end = day_start + dt.timedelta(days=1)
    ops = engine.query(
        """SELECT or_room AS room, operation_id, encounter_id, code, level, start_ts, end_ts
           FROM procedure
           WHERE hospital_id = ? AND or_room IS NOT NULL AND start_ts IS NOT NULL AND end_ts IS NOT NULL
             AND start_ts < ? AND end_ts > ?
           ORDER BY room, start_ts""",
        [hospital, day_end, day_start],
    )
    rooms_seen = engine.query(
        "SELECT DISTINCT or_room AS room FROM procedure "
        "WHERE hospital_id = ? AND or_room IS NOT NULL ORDER BY 1",
        [hospital],
    )["room"].tolist()
    registered = engine.query("SELECT operating_rooms FROM hospital WHERE hospital_id = ?", [hospital])
    n_rooms = int(registered.iloc[0, 0]) if len(registered) and pd.notna(registered.iloc[0, 0]) else 0
    start = pd.to_datetime(ops["start_ts"]).clip(lower=pd.Timestamp(day_start))
    end = pd.to_datetime(ops["end_ts"]).clip(upper=pd.Timestamp(day_end))
    ops["minutes"] = ((end - start).dt.total_seconds() / 60.0).clip(lower=0)
    used = ops.groupby("room")["minutes"].sum()
    rooms = sorted(set(rooms_seen) | set(ops["room"]))
    return {
        "day": day,
        "session_minutes": session,
        "operating_rooms": n_rooms,
        "rooms": [
            {
                "room": r,
                "minutes": float(used.get(r, 0.0)),
                "utilisation": float(used.get(r, 0.0)) / session * 100,
            }
            for r in rooms
        ],
        "operations": ops.to_dict("records"),
        "utilisation": float(used.sum()) / (n_rooms * session) * 100 if n_rooms else None,
    }
