"""The space-time scan: the LLR and expected counts by hand, circles and windows counted by hand, the
pruned Monte Carlo against brute force, a planted cluster found and a null table left alone, and
`provista scan` on the tiny province scored against its injected outbreaks."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import provista.analytics.surveillance.scan as scan_module
from provista.analytics.surveillance.geography import centroids, distance_km, polygon_centroid
from provista.analytics.surveillance.scan import (
    ScanInputError,
    expected_counts,
    log_likelihood_ratio,
    space_time_scan,
    windows,
    zones,
)
from provista.analytics.surveillance.scan_cli import register

LINE = pd.DataFrame({"code": ["A", "B", "C"], "lon": [120.0, 120.5, 121.0], "lat": [30.0, 30.0, 30.0]})
MONDAYS = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(3)]


def test_llr_by_hand() -> None:
    assert log_likelihood_ratio(6, 2.0, 10) == pytest.approx(6 * math.log(3) + 4 * math.log(4 / 8), rel=1e-12)
    assert log_likelihood_ratio(10, 4.0, 10) == pytest.approx(10 * math.log(10 / 4), rel=1e-12)  # c = C
    assert log_likelihood_ratio(2, 2.0, 10) == 0.0  # c = μ: no excess
    assert log_likelihood_ratio(1, 3.0, 10) == 0.0  # a deficit is not a cluster
    assert log_likelihood_ratio(0, 0.0, 10) == 0.0


def test_permutation_expected_counts_keep_both_margins() -> None:
    table = np.array([[5.0, 1.0], [2.0, 4.0]])  # C = 12; rows 6, 6; columns 7, 5
    mu = expected_counts(table, "permutation")
    assert mu == pytest.approx(np.array([[6 * 7 / 12, 6 * 5 / 12], [6 * 7 / 12, 6 * 5 / 12]]))
    assert mu.sum() == pytest.approx(table.sum())  # Kulldorff et al. 2005: Σ μ = C
    assert mu.sum(axis=1) == pytest.approx(table.sum(axis=1))
    assert mu.sum(axis=0) == pytest.approx(table.sum(axis=0))


def test_poisson_expected_counts_follow_population() -> None:
    table = np.array([[3.0, 1.0, 0.0], [1.0, 1.0, 6.0]])  # C = 12, T = 3
    pop = np.array([1000.0, 3000.0])
    flat = expected_counts(table, "poisson", pop)
    assert flat == pytest.approx(np.array([[1.0, 1.0, 1.0], [3.0, 3.0, 3.0]]))  # C P_z / P / T
    seasonal = expected_counts(table, "poisson", pop, adjust_time=True)
    assert seasonal == pytest.approx(np.outer([0.25, 0.75], [4.0, 2.0, 6.0]))  # C_t P_z / P
    assert flat.sum() == pytest.approx(12) and seasonal.sum() == pytest.approx(12)


def test_circles_and_windows_counted_by_hand() -> None:
    lon, lat = LINE["lon"].to_numpy(), LINE["lat"].to_numpy()
    equal = np.ones(3)
    z = zones(lon, lat, equal, 0.5)  # one county is 1/3 ≤ 50 %, two are 2/3: singletons only
    assert z.members.sum(axis=1).tolist() == [1, 1, 1]
    z = zones(lon, lat, equal, 1.0)  # A, AB, ABC, B, BA (=AB), BC? B's neighbours A and C tie: ABC
    sets = sorted("".join("ABC"[i] for i in np.flatnonzero(m)) for m in z.members)
    assert sets == ["A", "AB", "ABC", "B", "BC", "C"]  # B with its tied neighbours is ABC, already there
    starts, stops = windows(4, 2)
    assert list(zip(starts.tolist(), stops.tolist(), strict=True)) == [
        (0, 1), (1, 2), (2, 3), (3, 4), (0, 2), (1, 3), (2, 4)
    ]  # fmt: skip
    starts, stops = windows(4, 3, prospective=True)
    assert list(zip(starts.tolist(), stops.tolist(), strict=True)) == [(3, 4), (2, 4), (1, 4)]


def test_a_tiny_table_scanned_by_hand() -> None:
    """Three counties in a row, three weeks, singleton circles, one-week windows: 9 cylinders."""
    counts = pd.DataFrame([[5, 1, 1], [1, 1, 1], [1, 1, 1]], index=list("ABC"), columns=MONDAYS)
    result = space_time_scan(counts, LINE, population=pd.Series(1.0, index=list("ABC")), max_periods=1,
                             replicas=99, max_clusters=1)  # fmt: skip
    top = result.clusters[0]
    c, mu, total = 5, 7 * 7 / 13, 13
    assert (top.counties, top.start, top.end) == (("A",), MONDAYS[0], MONDAYS[0] + timedelta(days=6))
    assert top.expected == pytest.approx(mu, rel=1e-12)
    assert top.llr == pytest.approx(
        c * math.log(c / mu) + (total - c) * math.log((total - c) / (total - mu)), rel=1e-9
    )
    assert top.relative_risk == pytest.approx((c / mu) / ((total - c) / (total - mu)), rel=1e-9)
    assert (result.zones, result.windows) == (3, 3)
    assert 0 < top.p_value <= 1 and top.p_value * 100 == pytest.approx(round(top.p_value * 100))


def _every_cylinder(
    table: np.ndarray, members: np.ndarray, starts: np.ndarray, stops: np.ndarray
) -> np.ndarray:
    """Zone × window sums, one by one."""
    return np.array([members @ table[:, s:e].sum(axis=1) for s, e in zip(starts, stops, strict=True)]).T


def test_the_pruned_monte_carlo_equals_brute_force(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every replica's largest LLR, found through count thresholds, equals the largest over all cylinders."""
    rng = np.random.default_rng(3)
    place = centroids().head(25)
    pop = pd.Series(rng.integers(50_000, 900_000, len(place)).astype(float), index=place["code"])
    weeks = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(20)]
    counts = pd.DataFrame(rng.poisson(1.5, (len(place), len(weeks))), index=place["code"], columns=weeks)
    drawn: list[np.ndarray] = []
    simulate = scan_module._simulate

    def record(*args, **kwargs):  # type: ignore[no-untyped-def]
        tables = simulate(*args, **kwargs)
        drawn.extend(tables)
        return tables

    monkeypatch.setattr(scan_module, "_simulate", record)
    for model in ("permutation", "poisson"):
        drawn.clear()
        result = space_time_scan(counts, place, model=model, population=pop, max_periods=3, replicas=60)
        z = zones(place["lon"].to_numpy(), place["lat"].to_numpy(), pop.to_numpy(), 0.5)
        starts, stops = windows(len(weeks), 3)
        table = counts.to_numpy(float)
        mu_table = expected_counts(table, model, pop.to_numpy())  # type: ignore[arg-type]
        members = z.members.astype(float)

        mu = _every_cylinder(mu_table, members, starts, stops)
        brute = []
        for t in drawn:
            c = _every_cylinder(t, members, starts, stops)
            brute.append(log_likelihood_ratio(c, mu, table.sum()).max())
        assert len(drawn) == 60
        assert np.sort(brute) == pytest.approx(result.null_max_llr, rel=1e-9, abs=1e-9)


def test_permutation_replicas_keep_the_margins() -> None:
    table = np.array([[4, 0, 1], [0, 2, 3]])
    tables = scan_module._simulate(table, table.astype(float), "permutation", np.random.default_rng(1), 50)
    assert (tables.sum(axis=2) == table.sum(axis=1)).all() and (tables.sum(axis=1) == table.sum(axis=0)).all()
    poisson = scan_module._simulate(table, np.ones((2, 3)), "poisson", np.random.default_rng(1), 50)
    assert (poisson.sum(axis=(1, 2)) == table.sum()).all()


def _province_table(seed: int, plant: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, list[str]]:
    """Zhejiang's 90 counties × 30 weeks of Poisson background in proportion to population."""
    rng = np.random.default_rng(seed)
    place = centroids()
    pop = pd.Series(rng.integers(200_000, 1_500_000, len(place)).astype(float), index=place["code"])
    weeks = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(30)]
    mean = np.outer(pop / pop.mean() * 1.2, np.ones(len(weeks)))
    counts = pd.DataFrame(rng.poisson(mean), index=place["code"], columns=weeks)
    near = np.argsort(distance_km(place["lon"].to_numpy(), place["lat"].to_numpy())[10])[:3]
    planted = [str(place["code"].iloc[i]) for i in near]
    if plant:
        counts.loc[planted, weeks[20:22]] += rng.poisson(6, (3, 2))  # about 4× the background
    return counts, place, pop, planted


@pytest.mark.parametrize("model", ["permutation", "poisson"])
def test_a_planted_cluster_is_found_and_a_null_table_is_not(model: str) -> None:
    counts, place, pop, planted = _province_table(11, plant=True)
    found = space_time_scan(counts, place, model=model, population=pop, replicas=199).clusters[0]  # type: ignore[arg-type]
    assert found.p_value < 0.05
    assert set(found.counties) & set(planted)
    assert date(2025, 1, 6) + timedelta(weeks=20) <= found.end and found.start <= date(
        2025, 1, 6
    ) + timedelta(weeks=22)
    # Under the null the p-value is uniform (checked over 70 seeds: 3 of 70 below 0.05), so any one null
    # table has a 5 % chance of a "significant" cluster; this seed's table is one of the 95 %.
    counts, place, pop, _ = _province_table(12, plant=False)
    quiet = space_time_scan(counts, place, model=model, population=pop, replicas=199).clusters[0]  # type: ignore[arg-type]
    assert quiet.p_value > 0.05


def test_bad_inputs_are_refused_with_what_to_do() -> None:
    counts = pd.DataFrame([[1, 2], [0, 1]], index=["A", "Z"], columns=MONDAYS[:2])
    with pytest.raises(ScanInputError, match=r"no centroid for county code.*Z"):
        space_time_scan(counts, LINE)
    with pytest.raises(ScanInputError, match="whole numbers"):
        space_time_scan(counts.rename(index={"Z": "B"}) * -1, LINE)
    with pytest.raises(ScanInputError, match="needs county populations"):
        space_time_scan(counts.rename(index={"Z": "B"}), LINE, model="poisson")
    with pytest.raises(ScanInputError, match="no cases"):
        space_time_scan(counts.rename(index={"Z": "B"}) * 0, LINE)
    with pytest.raises(ScanInputError, match="unknown scan model"):
        space_time_scan(counts, LINE, model="bernoulli")  # type: ignore[arg-type]


def test_centroids_from_the_shipped_map() -> None:
    ring = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]
    hole = [[0, 0], [0, 2], [2, 2], [2, 0], [0, 0]]  # the lower-left quarter cut out
    assert polygon_centroid({"type": "Polygon", "coordinates": [ring, hole]}, 1.0) == pytest.approx(
        (7 / 3, 7 / 3)
    )
    place = centroids().set_index("code")
    assert len(place) == 90  # the 89 map counties and 龙港市, placed where 苍南县 is
    assert tuple(place.loc["330383"]) == tuple(place.loc["330327"])
    assert "330112" in place.index and "330185" not in place.index  # 临安: today's code
    hangzhou_centre = place.loc["330102"]  # 上城区: near West Lake (about 120.17 E, 30.24 N)
    assert abs(hangzhou_centre["lon"] - 120.17) < 0.1 and abs(hangzhou_centre["lat"] - 30.24) < 0.1


def test_provista_scan_finds_an_injected_outbreak(warehouse: Path, tiny: Path) -> None:
    """On the tiny province, a significant influenza cluster matches an outbreak the generator injected."""
    app = typer.Typer()
    app.command()(lambda: None)
    register(app)
    args = ["scan", "--warehouse", str(warehouse), "--model", "permutation", "--disease", "流行性感冒",
            "--replicas", "199", "--format", "json"]  # fmt: skip
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    payload = json.loads(done.stdout)
    assert payload["disease"] == "流行性感冒" and payload["replicas"] == 199
    llrs = [c["llr"] for c in payload["clusters"]]
    assert llrs == sorted(llrs, reverse=True)
    truth = pd.read_csv(tiny / "truth/outbreaks.csv", dtype=str)
    truth = truth[truth["disease"] == "流行性感冒"]
    hits = [
        c for c in payload["clusters"] if c["p_value"] < 0.05 and any(
            t.county_code in c["counties"] and t.start_date <= c["end"] and c["start"] <= t.end_date
            for t in truth.itertuples()
        )
    ]  # fmt: skip
    assert hits, payload["clusters"][:3]
    bad = CliRunner().invoke(
        app, ["scan", "--warehouse", str(warehouse), "--model", "poisson", "--disease", "xyz"]
    )
    assert bad.exit_code == 2 and "no disease 'xyz'" in bad.output
