"""The indicator definitions, loaded once from ``indicators.yaml`` into frozen dataclasses.

The same objects drive the CLI's columns, the API's payloads, the page's labels and the README's table
(``definitions_markdown``): an indicator is never described anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from provista.errors import ProvistaError

DEFINITIONS_FILE = Path(__file__).with_name("indicators.yaml")
UNITS = {"percent": 100.0, "times": 1.0, "days": 1.0, "ratio": 1.0}
UNIT_LABELS = {"percent": ("%", "%"), "times": ("次", "times"), "days": ("日", "days"), "ratio": (":1", ":1")}
DIRECTIONS = ("higher", "lower", "band", "neutral")
VIEWS = ("bed", "patient", "equipment", "theatre", "activity")


class DefinitionError(ProvistaError, ValueError):
    """The indicator definitions file is malformed."""


@dataclass(frozen=True)
class Measure:
    """A numerator or denominator, computed by the engine (measures.py)."""

    id: str
    name_zh: str
    name_en: str
    view: str
    description: str
    people: bool = False  # counts people or their days: small values are hidden from the public role


@dataclass(frozen=True)
class Indicator:
    """value = numerator ÷ denominator × scale."""

    id: str
    name_zh: str
    name_en: str
    formula_zh: str
    formula_en: str
    numerator: str
    denominator: str
    unit: str
    direction: str
    view: str
    source: str
    band: tuple[float, float] | None = None

    @property
    def scale(self) -> float:
        return UNITS[self.unit]

    def better(self, value: float, other: float) -> bool:
        """Whether ``value`` is better than ``other`` by this indicator's direction (neutral: never)."""
        if self.direction == "higher":
            return value > other
        if self.direction == "lower":
            return value < other
        if self.direction == "band" and self.band is not None:
            return self.distance_from_band(value) < self.distance_from_band(other)
        return False

    def distance_from_band(self, value: float) -> float:
        """0 inside the band, else how far outside it (band indicators only)."""
        assert self.band is not None
        low, high = self.band
        return max(low - value, value - high, 0.0)


@dataclass(frozen=True)
class Definitions:
    parameters: dict[str, float]
    measures: tuple[Measure, ...]
    indicators: tuple[Indicator, ...]

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise DefinitionError(
            f"unknown indicator '{indicator_id}'",
            hint=f"use one of {', '.join(i.id for i in self.indicators)}",
        )

    def measure(self, measure_id: str) -> Measure:
        return next(m for m in self.measures if m.id == measure_id)


MEASURE_KEYS = ("id", "name_zh", "name_en", "view", "en", "people")
INDICATOR_KEYS = (
    "id",
    "name_zh",
    "name_en",
    "formula_zh",
    "formula_en",
    "numerator",
    "denominator",
    "unit",
    "direction",
    "view",
    "source",
)


def _keys(item: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(item) - set(allowed))
    if unknown:
        raise DefinitionError(
            f"{where}: unknown keys {unknown}",
            hint="quote values that contain commas or colons; the keys are " + ", ".join(allowed),
        )


def _need(item: dict[str, Any], key: str, where: str) -> Any:
    if key not in item or item[key] in (None, ""):
        raise DefinitionError(f"{where}: '{key}' is missing", hint="see the comment at the top of the file")
    return item[key]


@lru_cache(maxsize=4)
def load_definitions(path: Path = DEFINITIONS_FILE) -> Definitions:
    """Read and check the definitions: known units, directions and views; measures that exist."""
    from provista.analytics.operations.measures import MEASURE_SOURCES

    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    params = {str(k): float(v) for k, v in (raw.get("parameters") or {}).items()}
    fill = {k: f"{v:g}" for k, v in params.items()}
    measures = []
    for n, item in enumerate(raw["measures"]):
        where = f"{path.name}, measure {n + 1}"
        _keys(item, MEASURE_KEYS, where)
        measure = Measure(
            _need(item, "id", where),
            _need(item, "name_zh", where),
            _need(item, "name_en", where),
            _need(item, "view", where),
            str(_need(item, "en", where)).format(**fill),
            bool(item.get("people", False)),
        )
        if measure.id not in MEASURE_SOURCES:
            raise DefinitionError(
                f"{where}: measure '{measure.id}' has no query in measures.py",
                hint="add it to MEASURE_SOURCES or remove it from the file",
            )
        measures.append(measure)
    known = {m.id for m in measures}
    indicators = []
    for n, item in enumerate(raw["indicators"]):
        where = f"{path.name}, indicator {n + 1} ({item.get('id', '?')})"
        _keys(item, (*INDICATOR_KEYS, "band"), where)
        fields = {k: str(_need(item, k, where)).format(**fill) for k in INDICATOR_KEYS}
        band = item.get("band")
        indicator = Indicator(**fields, band=(float(band[0]), float(band[1])) if band else None)
        checks = [
            (indicator.unit in UNITS, f"unit '{indicator.unit}' is not one of {', '.join(UNITS)}"),
            (
                indicator.direction in DIRECTIONS,
                f"direction '{indicator.direction}' is not one of {DIRECTIONS}",
            ),
            (indicator.view in VIEWS, f"view '{indicator.view}' is not one of {', '.join(VIEWS)}"),
            (indicator.numerator in known, f"numerator '{indicator.numerator}' is not a measure"),
            (indicator.denominator in known, f"denominator '{indicator.denominator}' is not a measure"),
            ((indicator.direction == "band") == (band is not None), "band goes with direction band only"),
        ]
        for ok, message in checks:
            if not ok:
                raise DefinitionError(f"{where}: {message}", hint="fix the definition")
        indicators.append(indicator)
    ids = [i.id for i in indicators]
    if len(set(ids)) != len(ids):
        raise DefinitionError(f"{path.name}: an indicator id appears twice", hint="give each its own id")
    return Definitions(params, tuple(measures), tuple(indicators))


def unit_label(indicator: Indicator, lang: str = "en") -> str:
    zh, en = UNIT_LABELS[indicator.unit]
    return zh if lang == "zh" else en


def _direction_text(ind: Indicator) -> str:
    if ind.direction == "band" and ind.band is not None:
        return f"within {ind.band[0]:g}–{ind.band[1]:g}"
    return {"higher": "higher ↑", "lower": "lower ↓", "neutral": "monitored"}[ind.direction]


def definitions_markdown(defs: Definitions | None = None) -> str:
    """The README's indicator table and measure list, generated from the definitions."""
    defs = defs or load_definitions()
    lines = [
        "| id | 指标 | indicator | formula | unit | better |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for i in defs.indicators:
        lines.append(
            f"| `{i.id}` | {i.name_zh} | {i.name_en} | {i.formula_zh}<br>{i.formula_en} | "
            f"{unit_label(i)} | {_direction_text(i)} |"
        )
    lines += ["", "| measure | 名称 | name | view | definition |", "| --- | --- | --- | --- | --- |"]
    for m in defs.measures:
        lines.append(f"| `{m.id}` | {m.name_zh} | {m.name_en} | {m.view} | {m.description} |")
    return "\n".join(lines) + "\n"
