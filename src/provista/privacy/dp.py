"""Differential privacy (差分隐私) for counts, with the OpenDP library (its Laplace mechanisms).

Two mechanisms, both on integer counts, both sampling the discrete Laplace distribution
(Pr[Z = z] ∝ exp(-|z|/b), Canonne, Kamath & Steinke 2020) with OpenDP's exact samplers:

- ``release_counts_with_threshold``: a table whose cells come from the data (which county × disease ×
  week has cases is itself information). Every cell gets noise and only cells whose noisy count reaches a
  threshold are released (propose-test-release, Rogers 2023: ``make_laplace_threshold``), which costs
  (ε, δ): δ bounds the chance that a cell only one person's records fill is released at all.
- ``release_counts_on_keys``: counts for cells already public (e.g. released by the first), pure ε.

The unit of privacy is a person: the caller caps each person's records at ``bound`` (c), so one person
changes at most c cells by at most c in all (ℓ₀, ℓ₁, ℓ∞ ≤ c), and the scale is b = c/ε. OpenDP's own
privacy maps check the calibration: the scale and the threshold are searched with them, never computed
by a formula here. The error each number carries is the 95% interval of its noise, from the discrete
Laplace distribution itself: Pr[|Z| ≥ t] = 2αᵗ/(1+α) with α = e^(-1/b).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib.metadata import version

import opendp.prelude as dp

dp.enable_features("contrib")

OPENDP_VERSION = version("opendp")


@dataclass(frozen=True)
class NoisyCounts:
    """Released noisy counts (by cell key) and what the noise was."""

    counts: dict[str, int]
    scale: float  # b of the discrete Laplace noise
    epsilon: float
    delta: float
    threshold: int | None  # cells below it (after noise) were not released
    half_width_95: int  # a released count is within ± this of the true one with 95% probability


def discrete_laplace_variance(scale: float) -> float:
    """Var Z for Pr[Z = z] ∝ α^|z|, α = e^(-1/scale): 2α / (1 - α)²."""
    a = math.exp(-1.0 / scale)
    return 2 * a / (1 - a) ** 2


def discrete_laplace_half_width(scale: float, level: float = 0.95) -> int:
    """The least integer h with Pr[|Z| ≤ h] ≥ ``level``: Pr[|Z| ≥ t] = 2αᵗ / (1 + α) for t ≥ 1."""
    a = math.exp(-1.0 / scale)
    # Pr[|Z| > h] = Pr[|Z| ≥ h + 1] = 2a^(h+1)/(1+a) ≤ 1 - level
    h = math.ceil(math.log((1 - level) * (1 + a) / 2) / math.log(a)) - 1
    return max(h, 0)


def _threshold_measurement(scale: float, threshold: int) -> dp.Measurement:
    domain = dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T=int))
    metric = dp.l01inf_distance(dp.absolute_distance(T=int))
    return dp.m.make_laplace_threshold(domain, metric, scale=scale, threshold=threshold)


def _vector_measurement(scale: float) -> dp.Measurement:
    return dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=scale)


def threshold_calibration(bound: int, epsilon: float, delta: float) -> tuple[float, int]:
    """The smallest scale that OpenDP certifies for ε, then the smallest threshold for δ."""
    d_in = (bound, bound, bound)
    scale = dp.binary_search(
        lambda s: _threshold_measurement(s, 10**9).map(d_in)[0] <= epsilon, bounds=(1e-9, 1e9)
    )
    threshold = dp.binary_search(
        lambda t: _threshold_measurement(scale, int(t)).map(d_in)[1] <= delta, bounds=(bound, 10**9)
    )
    return float(scale), int(threshold)


def release_counts_with_threshold(
    counts: dict[str, int], bound: int, epsilon: float, delta: float
) -> NoisyCounts:
    """Noisy counts of the cells whose noisy count reaches the threshold; (ε, δ)-DP per person."""
    scale, threshold = threshold_calibration(bound, epsilon, delta)
    measurement = _threshold_measurement(scale, threshold)
    spent_epsilon, spent_delta = measurement.map((bound, bound, bound))
    released = measurement({k: int(v) for k, v in counts.items()})
    return NoisyCounts(
        counts=dict(released),
        scale=scale,
        epsilon=float(spent_epsilon),
        delta=float(spent_delta),
        threshold=threshold,
        half_width_95=discrete_laplace_half_width(scale),
    )


def release_counts_on_keys(counts: dict[str, int], bound: int, epsilon: float) -> NoisyCounts:
    """Noisy counts of cells whose keys are public already; ε-DP per person (ℓ₁ change ≤ ``bound``)."""
    scale = float(
        dp.binary_search(lambda s: _vector_measurement(s).map(bound) <= epsilon, bounds=(1e-9, 1e9))
    )
    measurement = _vector_measurement(scale)
    keys = list(counts)
    noisy = measurement([int(counts[k]) for k in keys]) if keys else []
    return NoisyCounts(
        counts=dict(zip(keys, noisy, strict=True)),
        scale=scale,
        epsilon=float(measurement.map(bound)),
        delta=0.0,
        threshold=None,
        half_width_95=discrete_laplace_half_width(scale),
    )
