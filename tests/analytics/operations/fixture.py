"""A small warehouse written row by row, so that every indicator can be computed by hand.

Three hospitals, January and February 2025 (59 census days):

- HA, tertiary (三级), county 330102 (Hangzhou), 2 operating rooms.
  Census: MED 20 open beds, 16 occupied every January day and 19 (95 %, not above) every February day;
  SUR 10 open, 7 occupied every day.
  Inpatient stays: E1 MED 30 Jan → 2 Feb (3 bed-days, across the month end, counted in February);
  E2 MED same-day stay on 10 Jan (1 bed-day); E3 SUR 5 → 12 Jan (7) with two operations, grades 3 and 4;
  E4 SUR 3 → 8 Feb (5), one grade-2 operation, died; E5 MED admitted 20 Feb, not discharged;
  E6 SUR 25 Feb → 2 Mar (discharged after the period).
  Outpatient: 10 MED in January, 6 SUR in February; 5 emergency visits (not outpatient).
  One outpatient operation (45 min) on 20 Jan: theatre time, not a discharged patient's operation.
  Equipment: CT01 15 Jan 12 of 24 h, 50 exams, 20 positive; MRI01 10 Feb 8 of 16 h, 20 exams, 15 positive.
- HB, tertiary, county 330106 (Hangzhou), 1 operating room.
  Census: SUR 4 open, 3 occupied, but 4 (100 %) on 10–12 Feb (a 3-day run) and 20–21 Feb (2 days only);
  MED 2 open, 1 occupied, but 3 (150 %) on 24–27 Feb (a 4-day run, critical).
  Stays: E7 SUR 15 → 20 Jan (5), one grade-4 operation; E8 SUR 10 → 14 Feb (4), three grade-3 operations.
  Outpatient: 4 in February. Equipment: DR01 1 Feb 6 of 12 h, 30 exams, 6 positive.
- HC, secondary (二级), county 330203 (Ningbo), no operating room and zero beds (census rows with 0 open).
  Stays: E9 MED 1 → 3 Feb (2), died. Outpatient: 3 in January.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from provista.engine import DuckDBEngine
from provista.warehouse.schema import create_all

JAN1 = dt.date(2025, 1, 1)
DAYS = [JAN1 + dt.timedelta(days=i) for i in range(59)]  # 1 Jan – 28 Feb 2025


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def _lineage(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(source_file="fixture", record_ref=[str(i) for i in range(len(frame))])


def hospitals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "hospital_id": ["HA", "HB", "HC"],
            "name_zh": ["甲医院", "乙医院", "丙医院"],
            "name_en": ["Hospital A", "Hospital B", "Hospital C"],
            "level": ["三级", "三级", "二级"],
            "level_en": ["tertiary", "tertiary", "secondary"],
            "county_code": ["330102", "330106", "330203"],
            "city_code": ["330100", "330100", "330200"],
            "operating_rooms": [2, 1, 0],
            "beds_open": [30, 6, 0],
        }
    )


def regions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": ["330000", "330100", "330200", "330102", "330106", "330203"],
            "name_zh": ["浙江省", "杭州市", "宁波市", "上城区", "西湖区", "江北区"],
            "name_en": ["Zhejiang", "Hangzhou", "Ningbo", "Shangcheng", "Xihu", "Jiangbei"],
            "level": ["province", "city", "city", "county", "county", "county"],
            "parent_code": [None, "330000", "330000", "330100", "330100", "330200"],
            "population": [1, 1, 1, 1, 1, 1],
        }
    )


def census() -> pd.DataFrame:
    rows = []
    for day in DAYS:
        feb = day.month == 2
        rows.append(("HA", "MED", day, 19 if feb else 16, 20))
        rows.append(("HA", "SUR", day, 7, 10))
        run = feb and (10 <= day.day <= 12 or 20 <= day.day <= 21)
        rows.append(("HB", "SUR", day, 4 if run else 3, 4))
        rows.append(("HB", "MED", day, 3 if feb and 24 <= day.day <= 27 else 1, 2))
        rows.append(("HC", "MED", day, 0, 0))
    frame = pd.DataFrame(rows, columns=["hospital_id", "department", "date", "occupied_beds", "open_beds"])
    return _lineage(frame)


def encounters() -> pd.DataFrame:
    stays = [
        ("HA", "E1", "MED", "2025-01-30 10:00", "2025-02-02 09:00", "improved"),
        ("HA", "E2", "MED", "2025-01-10 08:00", "2025-01-10 17:00", "cured"),
        ("HA", "E3", "SUR", "2025-01-05 09:00", "2025-01-12 10:00", "cured"),
        ("HA", "E4", "SUR", "2025-02-03 11:00", "2025-02-08 02:00", "died"),
        ("HA", "E5", "MED", "2025-02-20 08:00", None, None),
        ("HA", "E6", "SUR", "2025-02-25 08:00", "2025-03-02 08:00", "cured"),
        ("HB", "E7", "SUR", "2025-01-15 08:00", "2025-01-20 08:00", "cured"),
        ("HB", "E8", "SUR", "2025-02-10 08:00", "2025-02-14 08:00", "improved"),
        ("HC", "E9", "MED", "2025-02-01 08:00", "2025-02-03 20:00", "died"),
    ]
    rows = [(h, e, "inpatient", d, _ts(a), _ts(b) if b else None, o) for h, e, d, a, b, o in stays]
    visits = (
        [
            ("HA", f"OA{i}", "outpatient", "MED", _ts(f"2025-01-{2 + i:02d} 09:00"), None, None)
            for i in range(10)
        ]
        + [
            ("HA", f"OB{i}", "outpatient", "SUR", _ts(f"2025-02-{2 + i:02d} 09:00"), None, None)
            for i in range(6)
        ]
        + [
            ("HA", f"EM{i}", "emergency", "MED", _ts(f"2025-01-{2 + i:02d} 23:00"), None, None)
            for i in range(5)
        ]
        + [
            ("HB", f"OC{i}", "outpatient", "SUR", _ts(f"2025-02-{2 + i:02d} 10:00"), None, None)
            for i in range(4)
        ]
        + [
            ("HC", f"OD{i}", "outpatient", "MED", _ts(f"2025-01-{2 + i:02d} 10:00"), None, None)
            for i in range(3)
        ]
    )
    frame = pd.DataFrame(
        rows + visits,
        columns=["hospital_id", "encounter_id", "type", "department", "admit_ts", "discharge_ts", "outcome"],
    )
    return _lineage(frame.assign(patient_key=frame["encounter_id"] + "-p"))


def procedures() -> pd.DataFrame:
    ops = [
        ("HA", "E3", "OP1", "OR01", "2025-01-06 08:00", "2025-01-06 10:00", 3),
        ("HA", "E3", "OP2", "OR02", "2025-01-08 09:00", "2025-01-08 13:30", 4),
        ("HA", "E4", "OP3", "OR01", "2025-02-04 08:00", "2025-02-04 09:30", 2),
        ("HA", "OA3", "OP4", "OR02", "2025-01-20 13:00", "2025-01-20 13:45", 1),
        ("HB", "E7", "OP5", "OR01", "2025-01-16 08:00", "2025-01-16 12:00", 4),
        ("HB", "E8", "OP6", "OR01", "2025-02-11 08:00", "2025-02-11 09:00", 3),
        ("HB", "E8", "OP7", "OR01", "2025-02-11 09:30", "2025-02-11 10:00", 3),
        ("HB", "E8", "OP8", "OR01", "2025-02-12 14:00", "2025-02-12 15:00", 3),
    ]
    frame = pd.DataFrame(
        [(h, e, o, r, _ts(a), _ts(b), lv, "X") for h, e, o, r, a, b, lv in ops],
        columns=[
            "hospital_id",
            "encounter_id",
            "operation_id",
            "or_room",
            "start_ts",
            "end_ts",
            "level",
            "code",
        ],
    )
    return _lineage(frame)


def equipment() -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            ("HA", "HA-CT01", "CT", dt.date(2025, 1, 15), 12.0, 24.0, 50, 20),
            ("HA", "HA-MRI01", "MRI", dt.date(2025, 2, 10), 8.0, 16.0, 20, 15),
            ("HB", "HB-DR01", "DR", dt.date(2025, 2, 1), 6.0, 12.0, 30, 6),
        ],
        columns=["hospital_id", "device_id", "device_type", "date", "hours_used", "hours_available", "exams",
                 "positives"],
    )  # fmt: skip
    return _lineage(frame)


def write(path: Path, tables: dict[str, pd.DataFrame] | None = None) -> Path:
    """A warehouse file with the schema of ``create_all`` and the fixture's rows (or ``tables``)."""
    tables = tables or {
        "hospital": hospitals(),
        "region": regions(),
        "bed_census": census(),
        "encounter": encounters(),
        "procedure": procedures(),
        "equipment_use": equipment(),
    }
    with DuckDBEngine(path) as engine:
        create_all(engine)
        for name, frame in tables.items():
            engine.append(name, frame)
    return path


def peer_warehouse(path: Path) -> Path:
    """Six secondary hospitals, January 2025, 100 open beds each: occupancy 80, 81, 82, 83, 84 and 20 %."""
    occupied = {"P1": 80, "P2": 81, "P3": 82, "P4": 83, "P5": 84, "P6": 20}
    hosp = pd.DataFrame(
        {
            "hospital_id": list(occupied),
            "name_zh": [f"医院{h}" for h in occupied],
            "name_en": [f"Hospital {h}" for h in occupied],
            "level": "二级",
            "level_en": "secondary",
            "county_code": "330102",
            "city_code": "330100",
            "operating_rooms": 1,
        }
    )
    rows = [(h, "MED", JAN1 + dt.timedelta(days=i), n, 100) for h, n in occupied.items() for i in range(31)]
    census_rows = pd.DataFrame(
        rows, columns=["hospital_id", "department", "date", "occupied_beds", "open_beds"]
    )
    return write(path, {"hospital": hosp, "region": regions(), "bed_census": _lineage(census_rows)})
