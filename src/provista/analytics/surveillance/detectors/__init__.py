"""Outbreak detectors (暴发探测) sharing one interface: ``DETECTORS[method](**params).detect(series)``.

EARS C1-C3, classic Farrington, farringtonFlexible, CUSUM and GLR reproduce R ``surveillance`` 1.20.3;
the moving percentile method follows China's CIDARS (see ``mpm``).

>>> import numpy as np
>>> from provista.analytics.surveillance.detectors import CountSeries, detect_outbreaks
>>> series = CountSeries(observed=np.array([2, 3, 2, 4, 3, 2, 3, 12]))
>>> detect_outbreaks(series, "ears-c1").table[["t", "observed", "alarm"]].to_dict("records")
[{'t': 8, 'observed': 12, 'alarm': True}]
"""

from __future__ import annotations

from typing import Any

from .base import Detection, Detector, DetectorParameterError, DetectorRangeError
from .cusum import Cusum
from .ears import EarsC1, EarsC2, EarsC3
from .farrington import Farrington
from .flexible import FarringtonFlexible
from .glr import GlrNegBin, GlrPoisson
from .mpm import MovingPercentile
from .series import CountSeries, CountSeriesError, read_count_csv

DETECTORS: dict[str, type[Detector]] = {
    d.name: d
    for d in (
        EarsC1,
        EarsC2,
        EarsC3,
        Farrington,
        FarringtonFlexible,
        Cusum,
        GlrPoisson,
        GlrNegBin,
        MovingPercentile,
    )
}


def detector(method: str, /, **params: Any) -> Detector:
    """The detector called ``method`` (``ears-c1``, ``farrington-flexible``, ``glr-nb``, ``mpm``, …)."""
    if method not in DETECTORS:
        raise DetectorParameterError(
            f"unknown method '{method}'", hint=f"choose one of {', '.join(DETECTORS)}"
        )
    return DETECTORS[method](**params)


def detector_from_strings(method: str, pairs: list[str]) -> Detector:
    """The detector called ``method`` with ``name=value`` parameters (as the CLI's ``--param``)."""
    if method not in DETECTORS:
        detector(method)
    return DETECTORS[method].from_strings(pairs)


def detect_outbreaks(series: CountSeries, method: str, /, **params: Any) -> Detection:
    """Run one detector over a series; one output row per evaluated period."""
    return detector(method, **params).detect(series)


__all__ = [
    "DETECTORS",
    "CountSeries",
    "CountSeriesError",
    "Detection",
    "Detector",
    "DetectorParameterError",
    "DetectorRangeError",
    "detect_outbreaks",
    "detector",
    "detector_from_strings",
    "read_count_csv",
]
