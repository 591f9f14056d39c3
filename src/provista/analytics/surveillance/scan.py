"""Kulldorff's space-time scan statistic (时空扫描统计量) over counties, with Monte-Carlo p-values.

A *cylinder* is a circle of counties (a centre county and its k nearest neighbours by centroid distance,
up to ``max_population_share`` of the population) times a window of consecutive periods (up to
``max_periods`` long; with ``prospective`` only windows that end in the last period, as in prospective
surveillance). For each cylinder A with c cases of the C in the table and μ expected under the null, the
log-likelihood ratio is

    LLR(A) = c ln(c/μ) + (C − c) ln((C − c)/(C − μ))   when c > μ, else 0,

the same form for both models (Kulldorff 1997; 2001; Kulldorff et al. 2005), which differ in μ and in how
the null is simulated:

- **space-time permutation** (Kulldorff, Heffernan, Hartman, Assunção & Mostashari 2005, PLoS Med 2:e59):
  cases only, no population. μ_zt = C_z· × C_·t / C (county total × period total / grand total), so
  every purely spatial and purely temporal pattern is in the null. Replicas permute the periods of the
  cases among the cases, keeping both margins.
- **Poisson** (Kulldorff, Athas, Feuer, Miller & Key 1998; Kulldorff 2001, JRSS A 164:61-72): cases
  against population at risk. μ_zt = C × P_z / P / T (population constant over the study period), or,
  with ``adjust_time``, μ_zt = C_·t × P_z / P (SaTScan's non-parametric adjustment for a purely temporal
  trend such as a season). Replicas draw the C cases multinomially over the cells in proportion to μ.

In both, μ summed over the whole table is C, and the margins fixed under the null are fixed in every
replica, so a cylinder's μ is the same in every replica. The p-value of a cluster is
(1 + #{replicas whose largest LLR ≥ the cluster's LLR}) / (R + 1) (Dwass 1957), for secondary clusters
too (SaTScan's conservative rule). Secondary clusters are the next most likely cylinders that share no
county *and* period with a more likely one, so a county can have clusters at different times.

Speed: a replica's largest LLR is found without taking logarithms over every cylinder. LLR rises with c
where c > μ, so "LLR ≥ floor" is "c ≥ the least count reaching the floor", a threshold computed once per
cylinder; replicas compare counts with it and compute exact LLRs for the few cylinders above (see
``_null_maxima``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from provista.analytics.surveillance.geography import distance_km
from provista.errors import ProvistaError

Model = Literal["permutation", "poisson"]
MODELS: tuple[str, ...] = ("permutation", "poisson")
_BATCH_CELLS = 4_000_000  # circle × period cells of one batch of replicas


class ScanInputError(ProvistaError, ValueError):
    """The table, populations, centroids or settings handed to the scan are unusable."""


@dataclass(frozen=True)
class Zones:
    """The circles of the scan: a centre county and its ``size`` nearest neighbours, unique as sets."""

    members: NDArray[np.bool_]  # zone × county
    centre: NDArray[np.intp]  # index of each zone's centre county
    size: NDArray[np.intp]  # number of counties: the centre's ``size`` nearest, itself included
    radius_km: NDArray[np.float64]  # distance from the centre to the farthest member
    order: NDArray[np.intp]  # county × county: each centre's counties, nearest first


@dataclass(frozen=True)
class SpaceTimeCluster:
    """One cluster: a circle of counties over a window of periods."""

    rank: int
    centre: str
    counties: tuple[str, ...]
    radius_km: float
    start: date  # first day of the window
    end: date  # last day of the window
    observed: int
    expected: float
    relative_risk: float  # (c/μ) / ((C − c)/(C − μ)), as SaTScan reports it
    llr: float
    p_value: float

    @property
    def observed_over_expected(self) -> float:
        return self.observed / self.expected if self.expected > 0 else float("inf")


@dataclass(frozen=True)
class ScanResult:
    """Clusters found, most likely first, and what the scan was run on."""

    model: str
    clusters: list[SpaceTimeCluster]
    total_cases: int
    counties: list[str]
    periods: list[date]
    replicas: int
    zones: int
    windows: int
    null_max_llr: NDArray[np.float64] = field(repr=False)  # the replicas' largest LLRs, sorted

    def table(self) -> pd.DataFrame:
        """One row per cluster."""
        return pd.DataFrame(
            [
                {
                    "rank": c.rank,
                    "centre": c.centre,
                    "counties": " ".join(c.counties),
                    "n_counties": len(c.counties),
                    "radius_km": c.radius_km,
                    "start": c.start,
                    "end": c.end,
                    "observed": c.observed,
                    "expected": c.expected,
                    "obs_exp": c.observed_over_expected,
                    "relative_risk": c.relative_risk,
                    "llr": c.llr,
                    "p_value": c.p_value,
                }
                for c in self.clusters
            ],
            columns=[
                "rank", "centre", "counties", "n_counties", "radius_km", "start", "end", "observed",
                "expected", "obs_exp", "relative_risk", "llr", "p_value",
            ],
        )  # fmt: skip


def log_likelihood_ratio(
    observed: NDArray[np.float64] | float, expected: NDArray[np.float64] | float, total: float
) -> NDArray[np.float64]:
    """LLR = c ln(c/μ) + (C − c) ln((C − c)/(C − μ)) where c > μ, 0 elsewhere (0 ln 0 = 0).

    >>> round(float(log_likelihood_ratio(6, 2.0, 10)), 6)  # 6 ln 3 + 4 ln(4/8)
    3.819085
    """
    c = np.asarray(observed, dtype=float)
    mu = np.asarray(expected, dtype=float)
    rest = total - c
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = c * np.log(c / mu)
        outside = np.where(rest > 0, rest * np.log(rest / (total - mu)), 0.0)
        llr = np.where((c > mu) & (mu > 0) & (mu < total), inside + outside, 0.0)
    out: NDArray[np.float64] = llr
    return out


def zones(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    weight: NDArray[np.float64],
    max_share: float = 0.5,
) -> Zones:
    """Circles around every county: the centre and its nearest neighbours while their share of ``weight``
    (population, or cases) stays ≤ ``max_share``. Counties at equal distance enter together.
    """
    if not 0 < max_share <= 1:
        raise ScanInputError(
            f"the largest circle's share of the population is {max_share}", hint="use e.g. 0.5 (50%)"
        )
    n = len(lon)
    dist = distance_km(lon, lat)
    order = np.argsort(dist, axis=1, kind="stable")
    sorted_dist = np.take_along_axis(dist, order, axis=1)
    cum = np.cumsum(weight[order], axis=1)
    limit = max_share * weight.sum() * (1 + 1e-12)
    rows, centres, sizes, radii = [], [], [], []
    for z in range(n):
        for k in range(1, n + 1):
            if cum[z, k - 1] > limit:
                break
            if k < n and sorted_dist[z, k] <= sorted_dist[z, k - 1]:
                continue  # a tie: the next county is as near, it enters with this one
            member = np.zeros(n, dtype=bool)
            member[order[z, :k]] = True
            rows.append(member)
            centres.append(z)
            sizes.append(k)
            radii.append(sorted_dist[z, k - 1])
    if not rows:
        raise ScanInputError(
            f"no county holds at most {max_share:.0%} of the population", hint="raise the maximum share"
        )
    members = np.array(rows)
    _, first = np.unique(np.packbits(members, axis=1), axis=0, return_index=True)
    keep = np.sort(first)
    return Zones(
        members=members[keep],
        centre=np.asarray(centres, dtype=np.intp)[keep],
        size=np.asarray(sizes, dtype=np.intp)[keep],
        radius_km=np.asarray(radii, dtype=float)[keep],
        order=order,
    )


def windows(
    periods: int, max_length: int, prospective: bool = False
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Start (inclusive) and stop (exclusive) period indices of every time window scanned, by length."""
    if max_length < 1:
        raise ScanInputError(f"the longest window is {max_length} periods", hint="use 1 or more")
    starts, stops = [], []
    for length in range(1, min(max_length, periods) + 1):
        first = np.array([periods - length]) if prospective else np.arange(periods - length + 1)
        starts.append(first)
        stops.append(first + length)
    return np.concatenate(starts).astype(np.intp), np.concatenate(stops).astype(np.intp)


def expected_counts(
    table: NDArray[np.float64],
    model: Model,
    population: NDArray[np.float64] | None = None,
    adjust_time: bool = False,
) -> NDArray[np.float64]:
    """μ_zt under the null: C_z· C_·t / C (permutation), C P_z / (P T) or C_·t P_z / P (Poisson)."""
    total = table.sum()
    if model == "permutation":
        out: NDArray[np.float64] = np.outer(table.sum(axis=1), table.sum(axis=0)) / total
        return out
    if population is None:
        raise ScanInputError("the Poisson model needs county populations", hint="give population")
    share = population / population.sum()
    in_time = table.sum(axis=0) if adjust_time else np.full(table.shape[1], total / table.shape[1])
    out = np.outer(share, in_time)
    return out


class _Cylinders:
    """Counts in every cylinder of county × period tables. Each county's counts are cumulated over time,
    each centre's circles are cumulated over its counties nearest first, and a window's count is a
    difference of two cumulative sums."""

    def __init__(self, zs: Zones, lengths: list[int], prospective: bool) -> None:
        self.zs, self.lengths, self.prospective = zs, lengths, prospective
        self.nearest = zs.order[:, : int(zs.size.max())]

    def cumulative(self, tables: NDArray[Any]) -> NDArray[Any]:
        """(B, county, period) → (B, zone, period + 1): each circle's counts cumulated over time.

        Whole counts stay exact in float32 below 2**24 (the scan refuses more cases than that).
        """
        over_time = np.zeros((*tables.shape[:-1], tables.shape[-1] + 1), dtype=tables.dtype)
        np.cumsum(tables, axis=-1, out=over_time[..., 1:])
        near = over_time[:, self.nearest]  # B, centre, k-th nearest, period + 1
        for k in range(1, near.shape[2]):
            near[:, :, k] += near[:, :, k - 1]
        out: NDArray[Any] = near[:, self.zs.centre, self.zs.size - 1]
        return out

    def by_length(self, cum: NDArray[Any], length: int) -> NDArray[Any]:
        """Counts in the windows of one length: (..., zone, window start)."""
        if self.prospective:
            out: NDArray[Any] = cum[..., -1:] - cum[..., -1 - length : -length]
            return out
        return cum[..., length:] - cum[..., :-length]

    def all_windows(self, cum: NDArray[Any]) -> NDArray[np.float64]:
        """Counts in every window, lengths in turn as ``windows`` orders them: (..., zone, window)."""
        return np.concatenate([self.by_length(cum, n) for n in self.lengths], axis=-1).astype(float)


def _simulate(
    table: NDArray[np.int64], expected: NDArray[np.float64], model: Model, rng: np.random.Generator, n: int
) -> NDArray[Any]:
    """``n`` tables under the null: periods permuted among the cases, or a multinomial draw from μ."""
    z, t = table.shape
    total = int(table.sum())
    if model == "permutation":
        cells = np.repeat(np.arange(z * t), table.ravel())
        shuffled = rng.permuted(np.broadcast_to(cells % t, (n, total)), axis=1)
        flat = cells // t * t + shuffled + (np.arange(n) * z * t)[:, None]
        drawn = np.bincount(flat.ravel(), minlength=n * z * t)
    else:
        drawn = rng.multinomial(total, (expected / expected.sum()).ravel(), size=n)
    return drawn.reshape(n, z, t).astype(np.float32)


def _count_thresholds(mu: NDArray[np.float64], floor: float, total: int) -> NDArray[Any]:
    """The least whole count c with LLR(c, μ) ≥ floor, per cylinder (inf where none reaches it)."""
    lo = np.floor(mu)  # LLR is 0 at c ≤ μ, below any floor > 0
    hi = np.full(mu.shape, float(total))
    reachable = log_likelihood_ratio(hi, mu, total) >= floor
    while np.any(hi - lo > 1):
        mid = np.floor((lo + hi) / 2)
        ok = log_likelihood_ratio(mid, mu, total) >= floor
        hi, lo = np.where(ok, mid, hi), np.where(ok, lo, mid)
    return np.where(reachable, hi, np.inf).astype(np.float32)


def _null_maxima(
    cyl: _Cylinders,
    mus: list[NDArray[np.float64]],
    table: NDArray[np.int64],
    expected: NDArray[np.float64],
    model: Model,
    replicas: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """The largest LLR of each of ``replicas`` tables simulated under the null, exactly.

    A pilot of a few replicas is scanned in full; 0.7 × its smallest maximum becomes a floor, and each
    cylinder gets the least count whose LLR reaches the floor. The other replicas then compute exact
    LLRs only for cylinders holding at least that count; one with none is scanned in full.
    """
    total = int(table.sum())
    n_zones, n_periods = mus[0].shape[0], table.shape[1]

    def full(cum: NDArray[Any]) -> float:
        return max(
            float(log_likelihood_ratio(cyl.by_length(cum, n).astype(float), m, total).max())
            for n, m in zip(cyl.lengths, mus, strict=True)
        )

    out = np.empty(replicas)
    pilot = min(replicas, 8)
    cum = cyl.cumulative(_simulate(table, expected, model, rng, pilot))
    out[:pilot] = [full(cum[r]) for r in range(pilot)]
    floor = max(0.7 * float(out[:pilot].min()), 1e-9)
    thresholds = [_count_thresholds(m, floor, total) for m in mus]
    batch = max(1, _BATCH_CELLS // (n_zones * (n_periods + 1)))
    for first in range(pilot, replicas, batch):
        b = min(batch, replicas - first)
        cum = cyl.cumulative(_simulate(table, expected, model, rng, b))
        best = np.zeros(b)
        for n, mu, k in zip(cyl.lengths, mus, thresholds, strict=True):
            c = cyl.by_length(cum, n)
            rb, rz, rs = np.unravel_index(np.flatnonzero(c >= k), c.shape)
            if len(rb):
                llr = log_likelihood_ratio(c[rb, rz, rs].astype(float), mu[rz, rs], total)
                np.maximum.at(best, rb, llr)
        for r in np.flatnonzero(best < floor):
            best[r] = full(cum[r])
        out[first : first + b] = best
    return out


def space_time_scan(
    counts: pd.DataFrame,
    centroids: pd.DataFrame,
    *,
    model: Model = "permutation",
    population: pd.Series | None = None,
    max_population_share: float = 0.5,
    max_periods: int = 4,
    prospective: bool = False,
    adjust_time: bool = False,
    replicas: int = 999,
    seed: int = 2005,
    max_clusters: int = 10,
    period_days: int = 7,
) -> ScanResult:
    """Scan a county × period table of case counts for space-time clusters.

    ``counts``: index county codes, columns the periods' first days (consecutive, ``period_days`` apart),
    values case counts. ``centroids``: ``code, lon, lat`` for every county. ``population``: county →
    population, needed by the Poisson model and used by both to size circles (without it the permutation
    model sizes them by cases). ``replicas=0`` skips the Monte Carlo (p-values are then NaN).
    """
    if model not in MODELS:
        raise ScanInputError(f"unknown scan model '{model}'", hint=f"use one of {', '.join(MODELS)}")
    if replicas < 0:
        raise ScanInputError(f"{replicas} Monte-Carlo replicas", hint="use e.g. 999")
    codes = [str(c) for c in counts.index]
    periods = [pd.Timestamp(p).date() for p in counts.columns]
    table = _check_table(counts)
    total = int(table.sum())
    if total == 0:
        raise ScanInputError("the table has no cases", hint="widen the period or choose another disease")
    if total >= 2**24:
        raise ScanInputError(
            f"{total:,} cases is more than the scan counts exactly", hint="scan a shorter period"
        )
    place = centroids.assign(code=centroids["code"].astype(str)).set_index("code")
    missing = [c for c in codes if c not in place.index]
    if missing:
        raise ScanInputError(
            f"no centroid for county code(s) {', '.join(missing[:5])}", hint="give lon/lat for every county"
        )
    pop = _population(population, codes) if population is not None else None
    if model == "poisson" and pop is None:
        raise ScanInputError("the Poisson model needs county populations", hint="give population")
    expected = expected_counts(table.astype(float), model, pop, adjust_time)
    weight = pop if pop is not None else table.sum(axis=1).astype(float)
    lon, lat = place.loc[codes, "lon"].to_numpy(float), place.loc[codes, "lat"].to_numpy(float)
    found = zones(lon, lat, weight, max_population_share)
    starts, stops = windows(len(periods), max_periods, prospective)
    cyl = _Cylinders(found, list(range(1, min(max_periods, len(periods)) + 1)), prospective)
    mu_cum = cyl.cumulative(expected[None])[0]  # μ in float64: it is not whole
    mus = [cyl.by_length(mu_cum, n) for n in cyl.lengths]
    mu = np.concatenate(mus, axis=-1)
    observed = cyl.all_windows(cyl.cumulative(table[None].astype(np.float32))[0])
    llr = log_likelihood_ratio(observed, mu, total)
    if replicas:
        rng = np.random.default_rng(seed)
        null = np.sort(_null_maxima(cyl, mus, table, expected, model, replicas, rng))
    else:
        null = np.empty(0)
    clusters: list[SpaceTimeCluster] = []
    taken: list[tuple[NDArray[np.bool_], int, int]] = []
    positive = np.flatnonzero(llr > 0)
    for index in positive[np.argsort(-llr.ravel()[positive], kind="stable")]:
        zi, wi = divmod(int(index), llr.shape[1])
        value = float(llr[zi, wi])
        if len(clusters) >= max_clusters or value <= 0:
            break
        member, s, e = found.members[zi], int(starts[wi]), int(stops[wi])
        if any((member & m).any() and s < e2 and s2 < e for m, s2, e2 in taken):
            continue
        taken.append((member, s, e))
        c, m = float(observed[zi, wi]), float(mu[zi, wi])
        exceed = len(null) - int(np.searchsorted(null, value * (1 - 1e-9), side="left"))
        rest_ratio = (total - c) / (total - m)
        clusters.append(
            SpaceTimeCluster(
                rank=len(clusters) + 1,
                centre=codes[int(found.centre[zi])],
                counties=tuple(codes[i] for i in np.flatnonzero(member)),
                radius_km=float(found.radius_km[zi]),
                start=periods[s],
                end=periods[e - 1] + timedelta(days=period_days - 1),
                observed=round(c),
                expected=m,
                relative_risk=(c / m) / rest_ratio if rest_ratio > 0 else float("inf"),
                llr=value,
                p_value=(1 + exceed) / (replicas + 1) if replicas else float("nan"),
            )
        )
    return ScanResult(
        model=model,
        clusters=clusters,
        total_cases=total,
        counties=codes,
        periods=periods,
        replicas=replicas,
        zones=len(found.members),
        windows=len(starts),
        null_max_llr=null,
    )


def _population(population: pd.Series, codes: list[str]) -> NDArray[np.float64]:
    pop = population.rename(index=str)
    absent = [c for c in codes if c not in pop.index or not pop[c] > 0]
    if absent:
        raise ScanInputError(
            f"no positive population for county code(s) {', '.join(absent[:5])}",
            hint="every county of the table needs its population",
        )
    out: NDArray[np.float64] = pop.loc[codes].to_numpy(dtype=float)
    return out


def _check_table(counts: pd.DataFrame) -> NDArray[np.int64]:
    if counts.empty:
        raise ScanInputError("the county × period table is empty", hint="check the period and disease")
    values = counts.to_numpy(dtype=float)
    if np.isnan(values).any() or (values < 0).any() or (values != np.round(values)).any():
        raise ScanInputError(
            "case counts must be whole numbers, zero or more", hint="fill empty weeks with 0"
        )
    if counts.index.duplicated().any():
        dup = counts.index[counts.index.duplicated()][0]
        raise ScanInputError(f"county {dup} appears twice in the table", hint="one row per county")
    out: NDArray[np.int64] = values.astype(np.int64)
    return out
