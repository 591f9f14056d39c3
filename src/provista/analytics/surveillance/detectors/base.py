"""What every outbreak detector (暴发探测方法) shares: parameters, range, baseline windows, output.

A detector declares its parameters (named and defaulted as in R ``surveillance``) and implements
``_score(series, t)``, which returns per evaluated period the ``upperbound``, the ``alarm`` and any
method-specific columns. The base class resolves and checks the range, builds reference windows and
assembles the output table ``t, date, observed, upperbound, alarm, …``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from provista.errors import ConfigError

from .series import CountSeries


class DetectorParameterError(ConfigError):
    """A detector parameter has an unknown name or a value it cannot take."""


class DetectorRangeError(ConfigError):
    """The periods to evaluate are outside the series or lack the history the method needs."""


_TRUE = {"true", "t", "yes", "1"}
_FALSE = {"false", "f", "no", "0"}


def parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in _TRUE | _FALSE:
        return low in _TRUE
    raise ValueError("expected TRUE or FALSE")


def parse_range(text: str) -> tuple[int, int]:
    """``"264:528"`` (R's ``264:528``) or a single period ``"528"``."""
    match = re.fullmatch(r"\s*(\d+)\s*(?::\s*(\d+)\s*)?", text)
    if not match:
        raise ValueError("expected first:last, e.g. 264:528")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if last < first:
        raise ValueError(f"{first}:{last} runs backwards")
    return first, last


def parse_int_pair(text: str) -> tuple[int, int]:
    """``"5,4"`` (R's ``c(5, 4)``)."""
    parts = [p.strip() for p in text.strip().removeprefix("c(").removesuffix(")").split(",")]
    if len(parts) != 2 or not all(p.lstrip("-").isdigit() for p in parts):
        raise ValueError("expected two whole numbers, e.g. 5,4")
    return int(parts[0]), int(parts[1])


@dataclass(frozen=True)
class Param:
    """A detector parameter: R name, default, parser for text values and the rule it must meet."""

    name: str
    default: Any
    parse: Callable[[str], Any]
    rule: str
    check: Callable[[Any], bool] = lambda _: True
    choices: tuple[str, ...] = ()

    def convert(self, value: Any) -> Any:
        if isinstance(value, str) and value.strip().upper() == "NULL" and self.default is None:
            return None  # R's NULL: "use the default rule" (e.g. estimate alpha)
        if isinstance(value, str) and self.parse is not str:
            try:
                value = self.parse(value)
            except ValueError as exc:
                plain: dict[Any, str] = {int: "not a whole number", float: "not a number"}
                raise ValueError(plain.get(self.parse, str(exc))) from None
        if self.choices and value not in self.choices:
            raise ValueError(f"expected one of {', '.join(self.choices)}")
        if value is not None and not self.check(value):
            raise ValueError(f"must be {self.rule}")
        return value


def choice(name: str, default: str, *choices: str) -> Param:
    return Param(name, default, str, "one of " + ", ".join(choices), choices=choices)


RANGE = Param("range", None, parse_range, "first:last within the series")


@dataclass
class Detection:
    """A detector's output: one row per evaluated period, and the parameters as resolved."""

    table: pd.DataFrame
    control: dict[str, Any] = field(default_factory=dict)

    @property
    def alarms(self) -> int:
        return int(self.table["alarm"].fillna(False).astype(bool).sum())


class Detector(ABC):
    """Base of the detectors: ``Detector(**params).detect(series)``."""

    name: ClassVar[str]
    title: ClassVar[str]
    params: ClassVar[tuple[Param, ...]]

    def __init__(self, **params: Any) -> None:
        known = {p.name: p for p in self.params}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise DetectorParameterError(
                f"{self.name}: unknown parameter(s) {', '.join(unknown)}",
                hint=f"{self.name} takes: {', '.join(known)}",
            )
        self.control: dict[str, Any] = {}
        for name, spec in known.items():
            raw = params.get(name, spec.default)
            try:
                self.control[name] = spec.convert(raw)
            except (ValueError, TypeError) as exc:
                raise DetectorParameterError(
                    f"{self.name}: parameter {name}={raw!r} is not valid ({exc})",
                    hint=f"{name} must be {spec.rule}",
                ) from None

    @classmethod
    def from_strings(cls, pairs: list[str]) -> Detector:
        """Build from ``name=value`` texts (the CLI's ``--param``)."""
        params: dict[str, str] = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if not sep or not name.strip():
                raise DetectorParameterError(
                    f"--param {pair!r} is not name=value", hint="write e.g. --param b=3 --param range=264:528"
                )
            params[name.strip()] = value.strip()
        return cls(**params)

    def detect(self, series: CountSeries) -> Detection:
        first, last = self._range(series)
        t = np.arange(first, last + 1)
        self.resolved_: dict[str, Any] = {}
        columns = self._score(series, t)
        table = pd.DataFrame(
            {
                "t": t,
                "date": [series.dates[i - 1].isoformat() for i in t] if series.dates else [""] * len(t),
                "observed": series.y(t).astype(int),
            }
        )
        for name, values in columns.items():
            table[name] = values
        head = ["t", "date", "observed", "upperbound", "alarm"]
        table = table[head + [c for c in table.columns if c not in head]]
        return Detection(table=table, control={**self.control, "range": (first, last), **self.resolved_})

    def _range(self, series: CountSeries) -> tuple[int, int]:
        earliest = self.earliest(series)
        if self.control.get("range") is None:
            first = self.default_first(series)
            if first > series.n:
                raise DetectorRangeError(
                    f"{self.name}: the series has {series.n} periods; the method needs history up to "
                    f"period {first - 1} before it can evaluate one",
                    hint="use a longer series, or parameters that need less history (e.g. a smaller b)",
                )
            return first, series.n
        first, last = self.control["range"]
        if last > series.n:
            raise DetectorRangeError(
                f"{self.name}: range={first}:{last} goes past the last period ({series.n})",
                hint=f"give a range within 1:{series.n}",
            )
        if first < earliest:
            raise DetectorRangeError(
                f"{self.name}: range={first}:{last} starts before period {earliest}, "
                "the first with the history this method needs",
                hint=f"start the range at {earliest} or later",
            )
        return first, last

    def earliest(self, series: CountSeries) -> int:
        """The first period the method can evaluate on this series."""
        return 1

    def default_first(self, series: CountSeries) -> int:
        """Start of the default range (R's default where R has a usable one)."""
        return self.earliest(series)

    @abstractmethod
    def _score(self, series: CountSeries, t: np.ndarray) -> dict[str, Any]:
        """Per period in ``t``: ``upperbound``, ``alarm`` and method-specific columns.

        Values the method estimates on the way (a baseline mean, a dispersion) go into ``self.resolved_``.
        """


def lagged(series: CountSeries, t: np.ndarray, lags: range) -> np.ndarray:
    """Baseline windows: row i holds y[t_i - lag] for each lag (periods before t_i)."""
    return series.y(t[:, None] - np.asarray(list(lags))[None, :])
