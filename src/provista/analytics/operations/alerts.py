"""Operational alerts: the rules of ``alert_rules.yaml`` evaluated on a warehouse, as rows of the alert list.

``operational_alerts`` is a producer of ``provista.warehouse.alerts`` (every build runs it). Two kinds of
rule: ``census_run`` (midnight-census occupancy above a threshold on consecutive days) and ``peer_range``
(an indicator outside Tukey's fences of the hospitals of the same level, in the last complete month).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from provista.analytics.operations.definitions import DefinitionError, load_definitions, unit_label
from provista.analytics.operations.indicators import indicator_table
from provista.analytics.operations.measures import census_range
from provista.warehouse.alerts import columns as alert_columns

if TYPE_CHECKING:
    from provista.engine import DuckDBEngine

RULES_FILE = Path(__file__).with_name("alert_rules.yaml")
SEVERITIES = ("info", "warning", "critical")
OUTPUT = tuple(alert_columns()[1:])  # the alert table's columns but its id, which derive_alerts adds


@dataclass(frozen=True)
class CensusRunRule:
    id: str
    unit: str  # department | hospital
    above: float
    days: int
    lookback_days: int
    severity: str
    critical_above: float | None
    zh: str
    en: str


@dataclass(frozen=True)
class PeerRangeRule:
    id: str
    indicators: tuple[str, ...]
    fence: float
    min_peers: int
    min_denominator: float
    severity: str
    zh: str
    en: str


Rule = CensusRunRule | PeerRangeRule


def load_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    """Read and check the rules (kinds, units, severities, indicators that exist)."""
    defs = load_definitions()
    rules: list[Rule] = []
    for n, item in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")) or []):
        where = f"{path.name}, rule {n + 1} ({item.get('id', '?')})"
        try:
            kind = item.pop("kind")
            if kind == "census_run":
                run = CensusRunRule(**{"critical_above": None, **item})
                if run.unit not in ("department", "hospital"):
                    raise DefinitionError(f"{where}: unit '{run.unit}' is not department or hospital")
                rule: Rule = run
            elif kind == "peer_range":
                rule = PeerRangeRule(**{**item, "indicators": tuple(item["indicators"])})
                for ind in rule.indicators:
                    defs.indicator(ind)
            else:
                raise DefinitionError(f"{where}: kind '{kind}' is not census_run or peer_range")
        except (KeyError, TypeError) as exc:
            raise DefinitionError(
                f"{where}: {exc}", hint="see the comment at the top of the rules file for each kind's keys"
            ) from None
        if rule.severity not in SEVERITIES:
            raise DefinitionError(f"{where}: severity '{rule.severity}' is not one of {SEVERITIES}")
        rules.append(rule)
    return tuple(rules)


def operational_alerts(
    engine: DuckDBEngine,
    report: Callable[[str, int, int], None] | None = None,
    *,
    rules_file: Path = RULES_FILE,
) -> pd.DataFrame:
    """Every rule's alerts (the alert list's columns less ``alert_id``); empty on a warehouse without data."""
    rules = load_rules(rules_file)
    frames = []
    for done, rule in enumerate(rules):
        if isinstance(rule, CensusRunRule):
            frames.append(census_run_alerts(engine, rule))
        else:
            frames.append(peer_range_alerts(engine, rule))
        if report is not None:
            report("operations", done + 1, len(rules))
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(OUTPUT))


def _department_names() -> dict[str, tuple[str, str]]:
    from provista.synth.catalogue import DEPARTMENTS  # the platform's department code list

    return DEPARTMENTS


def census_run_alerts(engine: DuckDBEngine, rule: CensusRunRule) -> pd.DataFrame:
    """Runs of at least ``rule.days`` consecutive census days with occupancy above ``rule.above`` %."""
    span = census_range(engine)
    if span is None:
        return pd.DataFrame(columns=list(OUTPUT))
    first = max(span[0], span[1] - dt.timedelta(days=rule.lookback_days - 1))
    dept = "b.department" if rule.unit == "department" else "NULL"
    daily = engine.query(
        f"""SELECT b.hospital_id, {dept} AS department, b.date::DATE AS day,
                   sum(b.occupied_beds)::DOUBLE AS occupied, sum(b.open_beds)::DOUBLE AS open,
                   any_value(h.city_code) AS city_code, any_value(h.county_code) AS county_code,
                   any_value(h.name_zh) AS hospital_zh, any_value(h.name_en) AS hospital_en
            FROM bed_census b JOIN hospital h USING (hospital_id)
            WHERE b.date BETWEEN ? AND ?
            GROUP BY 1, 2, 3 HAVING sum(b.open_beds) > 0 ORDER BY 1, 2, 3""",
        [first, span[1]],
    )
    daily["day"] = pd.to_datetime(daily["day"]).dt.date
    rows = []
    names = _department_names()
    for (hospital, department), unit in daily.groupby(
        ["hospital_id", "department"], dropna=False, sort=False
    ):
        unit = unit.sort_values("day")
        rate = unit["occupied"] / unit["open"] * 100.0
        over = (rate > rule.above).to_numpy()
        days = pd.to_datetime(unit["day"]).to_numpy()
        gap = np.diff(days, prepend=days[:1] - np.timedelta64(1, "D")) != np.timedelta64(1, "D")
        run = np.cumsum(~over | gap)
        for _, positions in pd.Series(np.arange(len(unit)))[over].groupby(run[over]):
            idx = positions.to_numpy()
            if len(idx) < rule.days:
                continue
            peak = float(rate.iloc[idx].max())
            head = unit.iloc[idx[0]]
            zh_dept, en_dept = names.get(str(department), (str(department), str(department)))
            where_zh = head["hospital_zh"] + ("" if pd.isna(department) else zh_dept)
            where_en = head["hospital_en"] + ("" if pd.isna(department) else f", {en_dept}")
            fill = {"above": f"{rule.above:g}", "days": rule.days, "run_days": len(idx),
                    "peak": f"{peak:.1f}", "unit_zh": where_zh, "unit_en": where_en}  # fmt: skip
            rows.append(
                {
                    "source": "operations",
                    "rule": rule.id,
                    "city_code": head["city_code"],
                    "county_code": head["county_code"],
                    "hospital_id": hospital,
                    "subject": "bed_occupancy_rate" if pd.isna(department) else str(department),
                    "frequency": "daily",
                    "period_start": unit["day"].iloc[idx[0]],
                    "period_end": unit["day"].iloc[idx[-1]],
                    "observed": peak,
                    "threshold": rule.above,
                    "severity": "critical"
                    if rule.critical_above is not None and peak > rule.critical_above
                    else rule.severity,
                    "detail_zh": rule.zh.format(**fill),
                    "detail_en": rule.en.format(**fill),
                }
            )
    return pd.DataFrame(rows, columns=list(OUTPUT))


def last_complete_month(span: tuple[dt.date, dt.date]) -> tuple[dt.date, dt.date] | None:
    """The last calendar month the census covers from its first to its last day (None if none)."""
    last = span[1]
    month_end = (last.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    end = last if last == month_end else last.replace(day=1) - dt.timedelta(days=1)
    start = end.replace(day=1)
    return (start, end) if start >= span[0] else None


def peer_range_alerts(engine: DuckDBEngine, rule: PeerRangeRule) -> pd.DataFrame:
    """Hospitals whose indicator lies beyond Tukey's fences of their level's hospitals (last whole month)."""
    span = census_range(engine)
    month = last_complete_month(span) if span else None
    if month is None:
        return pd.DataFrame(columns=list(OUTPUT))
    defs = load_definitions()
    table = indicator_table(engine, "hospital", month[0], month[1])
    rows: list[dict[str, Any]] = []
    for ind in (defs.indicator(i) for i in rule.indicators):
        judged = table[(table[ind.denominator] >= rule.min_denominator) & table[ind.id].notna()]
        for _, peers in judged.groupby("level"):
            if len(peers) < rule.min_peers:
                continue
            q1, q3 = np.quantile(peers[ind.id].to_numpy(float), [0.25, 0.75])
            low, high = q1 - rule.fence * (q3 - q1), q3 + rule.fence * (q3 - q1)
            check_low = ind.direction != "lower"
            check_high = ind.direction != "higher"
            for r in peers.itertuples(index=False):
                value = float(getattr(r, ind.id))
                if check_low and value < low:
                    threshold = low
                elif check_high and value > high:
                    threshold = high
                else:
                    continue
                unit = unit_label(ind)
                fill = {"indicator_zh": ind.name_zh, "indicator_en": ind.name_en, "peers": len(peers),
                        "value": f"{value:.2f}{unit}", "low": f"{low:.2f}",
                        "high": f"{high:.2f}"}  # fmt: skip
                rows.append(
                    {
                        "source": "operations",
                        "rule": rule.id,
                        "city_code": r.city_code,
                        "county_code": r.county_code,
                        "hospital_id": r.hospital_id,
                        "subject": ind.id,
                        "frequency": "monthly",
                        "period_start": month[0],
                        "period_end": month[1],
                        "observed": value,
                        "threshold": threshold,
                        "severity": rule.severity,
                        "detail_zh": f"{r.name_zh}：" + rule.zh.format(**fill),
                        "detail_en": f"{r.name_en}: " + rule.en.format(**fill),
                    }
                )
    return pd.DataFrame(rows, columns=list(OUTPUT))
