"""What the build's outbreak detection runs: ``detection.yaml`` (shipped) or the file in
``PROVISTA_DETECTION_CONFIG``, read into typed settings and checked against the detectors' own parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from provista.analytics.surveillance.detectors import DETECTORS, DetectorParameterError, detector
from provista.errors import ConfigError

CONFIG_FILE = Path(__file__).parent / "detection.yaml"
FREQUENCIES = {"daily": 365, "weekly": 52}
_TOP = {"case_classes", "daily", "weekly", "severity"}
_ENTRY = {"method", "params", "min_count"}
_SEVERITY = {"critical_classes", "critical_ratio"}


class DetectionConfigError(ConfigError):
    """The detection configuration file is malformed; says which file and entry."""


@dataclass(frozen=True)
class MethodConfig:
    """One detector run on every series of one frequency."""

    method: str
    frequency: str  # daily | weekly
    params: tuple[tuple[str, Any], ...]
    min_count: int

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.params)


@dataclass(frozen=True)
class DetectionConfig:
    methods: tuple[MethodConfig, ...]
    case_classes: tuple[str, ...]
    critical_classes: tuple[str, ...]
    critical_ratio: float
    source: str

    def method(self, frequency: str, method: str) -> MethodConfig | None:
        return next((m for m in self.methods if m.frequency == frequency and m.method == method), None)


def load_config(path: Path | None = None) -> DetectionConfig:
    """Read and check a detection configuration (default: the shipped ``detection.yaml``)."""
    path = path or CONFIG_FILE
    name = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DetectionConfigError(
            f"{name}: file not found", hint="check PROVISTA_DETECTION_CONFIG or --config"
        ) from None
    except yaml.YAMLError as exc:
        raise DetectionConfigError(f"{name}: not valid YAML ({exc})", hint="fix the YAML syntax") from None
    if not isinstance(raw, dict):
        raise DetectionConfigError(f"{name}: expected a mapping at the top", hint=f"see {CONFIG_FILE}")
    _no_unknown(raw, _TOP, name, "the top level")
    methods: list[MethodConfig] = []
    for frequency in FREQUENCIES:
        entries = raw.get(frequency) or []
        if not isinstance(entries, list):
            raise DetectionConfigError(
                f"{name}: '{frequency}' must be a list of method entries", hint=f"see {CONFIG_FILE}"
            )
        for i, entry in enumerate(entries, start=1):
            methods.append(_method(entry, frequency, f"{name}: {frequency} entry {i}"))
    keys = [(m.frequency, m.method) for m in methods]
    if len(set(keys)) != len(keys):
        raise DetectionConfigError(
            f"{name}: a method appears twice under one frequency",
            hint="give each method once per frequency (daily, weekly)",
        )
    severity = raw.get("severity") or {}
    _no_unknown(severity, _SEVERITY, name, "severity")
    ratio = severity.get("critical_ratio", 2.0)
    if not isinstance(ratio, int | float) or ratio <= 1:
        raise DetectionConfigError(
            f"{name}: severity.critical_ratio={ratio!r} is not a number > 1", hint="e.g. critical_ratio: 2.0"
        )
    return DetectionConfig(
        methods=tuple(methods),
        case_classes=tuple(str(c) for c in raw.get("case_classes") or ()),
        critical_classes=tuple(str(c) for c in severity.get("critical_classes") or ()),
        critical_ratio=float(ratio),
        source=name,
    )


def _no_unknown(raw: Any, known: set[str], name: str, where: str) -> None:
    if not isinstance(raw, dict):
        raise DetectionConfigError(f"{name}: {where} must be a mapping", hint=f"see {CONFIG_FILE}")
    unknown = sorted(set(raw) - known)
    if unknown:
        raise DetectionConfigError(
            f"{name}: unknown key(s) {', '.join(map(str, unknown))} in {where}",
            hint=f"{where} takes: {', '.join(sorted(known))}",
        )


def _method(entry: Any, frequency: str, where: str) -> MethodConfig:
    _no_unknown(entry, _ENTRY, where, "a method entry")
    method = entry.get("method")
    if method not in DETECTORS:
        raise DetectionConfigError(
            f"{where}: unknown method {method!r}", hint=f"choose one of {', '.join(DETECTORS)}"
        )
    params = dict(entry.get("params") or {})
    if "range" in params:
        raise DetectionConfigError(
            f"{where}: {method} sets range",
            hint="leave range out: the build evaluates every period the method has the history for",
        )
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    try:
        detector(method, **params)
    except DetectorParameterError as exc:
        raise DetectionConfigError(f"{where}: {exc.message}", hint=exc.hint) from None
    min_count = entry.get("min_count", 1)
    if not isinstance(min_count, int) or min_count < 1:
        raise DetectionConfigError(
            f"{where}: min_count={min_count!r} is not a whole number >= 1", hint="e.g. min_count: 3"
        )
    return MethodConfig(method, frequency, tuple(sorted(params.items())), min_count)
