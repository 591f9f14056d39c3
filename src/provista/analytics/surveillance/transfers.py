"""Decision support in an outbreak (疫情应急决策支持): which patients to move between cities, and why.

Patients are of three kinds, each needing resources (``NEEDS``, per patient):

    ward        1 bed,                      0.4 nurses  (《医疗机构基本标准（试行）》: ≥ 0.4 nurses per bed)
    icu         1 ICU bed,                  3 nurses    (《重症医学科建设与管理指南（试行）》2009: ≥ 3:1)
    ventilated  1 ICU bed, 1 ventilator,    3 nurses

Given each city's forecast demand D[i,k] (patients of kind k) and free capacity K[j,r] (beds, ICU beds,
ventilators, staff), a mixed-integer linear programme (SciPy's HiGHS, ``scipy.optimize.milp``) chooses
whole numbers of patients treated at home s[i,k], moved x[i,j,k] and left without care u[i,k]:

    s[i,k] + Σ_j x[i,j,k] + u[i,k] = D[i,k]                         every city i, kind k
    Σ_k need[k,r] (s[j,k] + Σ_i x[i,j,k]) ≤ K[j,r]                   every city j, resource r
    Σ_k x[i,j,k] ≤ max_per_pair,  x[i,j,k] = 0 beyond max_km         transport limits

in two stages (lexicographic): first minimise unmet demand Σ w_k u[i,k] (``WEIGHTS``: a ventilated patient
left without care counts 3, ICU 2, ward 1), then, holding that optimum, minimise the transport cost
Σ d_ij x[i,j,k] in patient-kilometres between city centroids. Nobody is moved unless it places someone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from provista.errors import ProvistaError

RESOURCES: tuple[str, ...] = ("beds", "icu_beds", "ventilators", "staff")
KINDS: tuple[str, ...] = ("ward", "icu", "ventilated")
NEEDS: dict[str, dict[str, float]] = {
    "ward": {"beds": 1.0, "icu_beds": 0.0, "ventilators": 0.0, "staff": 0.4},
    "icu": {"beds": 0.0, "icu_beds": 1.0, "ventilators": 0.0, "staff": 3.0},
    "ventilated": {"beds": 0.0, "icu_beds": 1.0, "ventilators": 1.0, "staff": 3.0},
}
WEIGHTS: dict[str, float] = {"ward": 1.0, "icu": 2.0, "ventilated": 3.0}
RESOURCE_ZH = {"beds": "普通床位", "icu_beds": "ICU床位", "ventilators": "呼吸机", "staff": "护理人员"}
KIND_ZH = {"ward": "普通住院", "icu": "重症", "ventilated": "需呼吸机"}


class TransferError(ProvistaError, ValueError):
    """Demand, capacity or limits that the transfer model cannot use, or a solver failure."""


@dataclass(frozen=True)
class TransferPlan:
    """The recommended moves (with reasons), each city's balance, and what could not be placed."""

    moves: pd.DataFrame  # from_city, to_city, kind, patients, distance_km, short, spare, reason_en, reason_zh
    cities: pd.DataFrame  # city; demand_<kind>; free_<resource>; short_<resource> before; unmet_<kind> after
    unmet: int  # patients left without care after the moves
    patient_km: float
    message: str  # one line on the outcome, for people


def balance(demand: pd.DataFrame, capacity: pd.DataFrame) -> pd.DataFrame:
    """Per city and resource: what its own demand needs minus what it has free (> 0: short, < 0: spare)."""
    need = pd.DataFrame(
        {r: sum(demand[k] * NEEDS[k][r] for k in KINDS) for r in RESOURCES}, index=demand.index
    )
    return need - capacity[list(RESOURCES)]


def recommend_transfers(
    demand: pd.DataFrame,
    capacity: pd.DataFrame,
    distance_km: pd.DataFrame,
    *,
    max_per_pair: int | None = 50,
    max_km: float | None = 300.0,
    names_zh: dict[str, str] | None = None,
    names_en: dict[str, str] | None = None,
) -> TransferPlan:
    """Recommended transfers between cities (see the module docstring for the programme).

    ``demand``: index city, columns ``ward, icu, ventilated`` (patients; absent kinds are 0).
    ``capacity``: index city, columns ``beds, icu_beds, ventilators, staff`` (free now; absent are 0).
    ``distance_km``: city × city distances. ``max_per_pair``/``max_km``: None for no limit.
    ``names_zh``/``names_en``: city names for the reasons (default: the codes).
    """
    demand, capacity = _checked(demand, KINDS, "demand"), _checked(capacity, RESOURCES, "capacity")
    extra = sorted(set(demand.index) - set(capacity.index))
    if extra:
        raise TransferError(
            f"demand for city {', '.join(map(str, extra[:5]))} with no capacity given",
            hint="give every city's capacity (0 where it has none)",
        )
    cities = list(capacity.index)
    demand = demand.reindex(cities).fillna(0.0)
    missing = [c for c in cities if c not in distance_km.index or c not in distance_km.columns]
    if missing:
        raise TransferError(f"no distance for city {', '.join(map(str, missing[:5]))}", hint="give all pairs")
    if max_per_pair is not None and max_per_pair < 0:
        raise TransferError(f"at most {max_per_pair} patients per pair", hint="use 0 or more")
    dist = distance_km.loc[cities, cities].to_numpy(dtype=float)
    solved = _solve(demand, capacity, dist, max_per_pair, max_km)
    unmet_free = None
    if solved.unmet > 0 and (max_per_pair is not None or max_km is not None):
        unmet_free = _solve(demand, capacity, dist, None, None).unmet
    names = (names_zh or {}, names_en or {})
    return _plan(demand, capacity, dist, solved, max_per_pair, max_km, unmet_free, names)


@dataclass(frozen=True)
class _Solution:
    stay: np.ndarray  # city × kind
    moved: dict[tuple[int, int, int], int]  # (from, to, kind) -> patients
    lost: np.ndarray  # city × kind
    unmet: int
    cost: float


def _solve(
    demand: pd.DataFrame,
    capacity: pd.DataFrame,
    dist: np.ndarray,
    max_per_pair: int | None,
    max_km: float | None,
) -> _Solution:
    n, m = len(demand), len(KINDS)
    pairs = [
        (i, j)
        for i in range(n)
        for j in range(n)
        if i != j and (max_km is None or dist[i, j] <= max_km) and max_per_pair != 0
    ]
    n_stay, n_move = n * m, len(pairs) * m
    size = n_stay * 2 + n_move  # [stay (city, kind) | lost (city, kind) | moved (pair, kind)]

    def stay(i: int, k: int) -> int:
        return i * m + k

    def lost(i: int, k: int) -> int:
        return n_stay + i * m + k

    def moved(p: int, k: int) -> int:
        return 2 * n_stay + p * m + k

    d = demand[list(KINDS)].to_numpy(dtype=float)
    cap = capacity[list(RESOURCES)].to_numpy(dtype=float)
    rows: list[tuple[dict[int, float], float, float]] = []
    for i in range(n):
        for k in range(m):
            coef = {stay(i, k): 1.0, lost(i, k): 1.0}
            coef.update({moved(p, k): 1.0 for p, (a, _) in enumerate(pairs) if a == i})
            rows.append((coef, d[i, k], d[i, k]))
    for j in range(n):
        for r, resource in enumerate(RESOURCES):
            coef = {}
            for k, kind in enumerate(KINDS):
                need = NEEDS[kind][resource]
                if need:
                    coef[stay(j, k)] = need
                    coef.update({moved(p, k): need for p, (_, b) in enumerate(pairs) if b == j})
            if coef:
                rows.append((coef, -np.inf, cap[j, r] + 1e-9))
    if max_per_pair is not None:
        for p in range(len(pairs)):
            rows.append(({moved(p, k): 1.0 for k in range(m)}, -np.inf, float(max_per_pair)))
    matrix = lil_matrix((len(rows), size))
    for row, (coef, _, _) in enumerate(rows):
        for col, value in coef.items():
            matrix[row, col] = value
    lower = np.array([lo for _, lo, _ in rows])
    upper = np.array([hi for _, _, hi in rows])
    weights = np.zeros(size)
    for i in range(n):
        for k, kind in enumerate(KINDS):
            weights[lost(i, k)] = WEIGHTS[kind]
    cost = np.zeros(size)
    for p, (a, b) in enumerate(pairs):
        for k in range(m):
            cost[moved(p, k)] = dist[a, b]
    integral, bounds = np.ones(size), Bounds(np.zeros(size), np.full(size, np.inf))
    first = milp(
        weights,
        constraints=LinearConstraint(matrix.tocsr(), lower, upper),
        integrality=integral,
        bounds=bounds,
    )
    _check(first)
    best_unmet = float(first.fun)
    cap_row = lil_matrix((1, size))
    for index in np.flatnonzero(weights):
        cap_row[0, index] = weights[index]
    second = milp(
        cost,
        constraints=[
            LinearConstraint(matrix.tocsr(), lower, upper),
            LinearConstraint(cap_row.tocsr(), -np.inf, best_unmet + 1e-6),
        ],
        integrality=integral,
        bounds=bounds,
    )
    _check(second)
    x = np.round(second.x).astype(int)
    moves = {
        (a, b, k): int(x[moved(p, k)])
        for p, (a, b) in enumerate(pairs)
        for k in range(m)
        if x[moved(p, k)] > 0
    }
    lost_n = x[n_stay : 2 * n_stay].reshape(n, m)
    return _Solution(
        stay=x[:n_stay].reshape(n, m),
        moved=moves,
        lost=lost_n,
        unmet=int(lost_n.sum()),
        cost=float(sum(dist[a, b] * v for (a, b, _), v in moves.items())),
    )


def _check(result: object) -> None:
    status = getattr(result, "status", 1)
    if status != 0:
        raise TransferError(
            f"the transfer programme was not solved: {getattr(result, 'message', 'unknown failure')}",
            hint="check that demand and capacity are finite numbers, zero or more",
        )


def _plan(
    demand: pd.DataFrame,
    capacity: pd.DataFrame,
    dist: np.ndarray,
    solved: _Solution,
    max_per_pair: int | None,
    max_km: float | None,
    unmet_free: int | None,
    names: tuple[dict[str, str], dict[str, str]],
) -> TransferPlan:
    cities = list(demand.index)
    gap = balance(demand, capacity)
    rows = []
    for (a, b, k), patients in sorted(solved.moved.items(), key=lambda kv: (-kv[1], kv[0])):
        kind, src, dst = KINDS[k], cities[a], cities[b]
        km = round(float(dist[a, b]), 1)
        used = [r for r in RESOURCES if NEEDS[kind][r] > 0]
        short = {r: float(gap.loc[src, r]) for r in used if gap.loc[src, r] > 0}
        spare = {r: float(-gap.loc[dst, r]) for r in used if gap.loc[dst, r] < 0}
        short_en = ", ".join(f"{r.replace('_', ' ')} {v:g}" for r, v in short.items())
        spare_en = ", ".join(f"{r.replace('_', ' ')} {v:g}" for r, v in spare.items())
        short_zh = "、".join(f"{RESOURCE_ZH[r]} {v:g}" for r, v in short.items())
        spare_zh = "、".join(f"{RESOURCE_ZH[r]} {v:g}" for r, v in spare.items())
        zh_src, zh_dst = names[0].get(src, src), names[0].get(dst, dst)
        en_src, en_dst = names[1].get(src, src), names[1].get(dst, dst)
        rows.append(
            {
                "from_city": src,
                "to_city": dst,
                "kind": kind,
                "patients": patients,
                "distance_km": km,
                "short": short,
                "spare": spare,
                "reason_en": f"{en_src} lacks {short_en or 'room'} for its own patients; "
                f"{en_dst} has {spare_en or 'room'} to spare after its own; {km:.0f} km apart",
                "reason_zh": f"{zh_src}本地患者缺{short_zh or '床位'}；"
                f"{zh_dst}满足本地需求后尚余{spare_zh or '床位'}；相距 {km:.0f} 公里",
            }
        )
    moves = pd.DataFrame(
        rows,
        columns=["from_city", "to_city", "kind", "patients", "distance_km", "short", "spare", "reason_en",
                 "reason_zh"],
    )  # fmt: skip
    table = pd.DataFrame({"city": cities})
    for kind in KINDS:
        table[f"demand_{kind}"] = demand[kind].to_numpy(dtype=float)
    for r in RESOURCES:
        table[f"free_{r}"] = capacity[r].to_numpy(dtype=float)
        table[f"short_{r}"] = np.maximum(gap[r].to_numpy(dtype=float), 0.0)
    table["sent"] = [sum(v for (a, _, _), v in solved.moved.items() if a == i) for i in range(len(cities))]
    table["received"] = [
        sum(v for (_, b, _), v in solved.moved.items() if b == i) for i in range(len(cities))
    ]
    for k, kind in enumerate(KINDS):
        table[f"unmet_{kind}"] = solved.lost[:, k]
    return TransferPlan(
        moves=moves,
        cities=table,
        unmet=solved.unmet,
        patient_km=solved.cost,
        message=_message(solved, gap, max_per_pair, max_km, unmet_free),
    )


def _message(
    solved: _Solution,
    gap: pd.DataFrame,
    max_per_pair: int | None,
    max_km: float | None,
    unmet_free: int | None,
) -> str:
    moved = sum(solved.moved.values())
    if solved.unmet == 0:
        if not moved:
            return "No city is short: every city can care for its own forecast patients; no transfer needed."
        return f"Move {moved} patient(s) in {len(solved.moved)} transfer(s): every patient is placed."
    parts = [f"{solved.unmet} patient(s) cannot be placed"]
    totals = gap.sum()
    short_overall = [r for r in RESOURCES if totals[r] > 0]
    if short_overall:
        parts.append(
            "the province as a whole lacks "
            + ", ".join(f"{totals[r]:g} {r.replace('_', ' ')}" for r in short_overall)
        )
    if unmet_free is not None and unmet_free < solved.unmet:
        limits = []
        if max_per_pair is not None:
            limits.append(f"at most {max_per_pair} per pair of cities")
        if max_km is not None:
            limits.append(f"at most {max_km:g} km")
        parts.append(
            f"the transport limits ({', '.join(limits)}) leave {solved.unmet - unmet_free} of them unplaced: "
            "raise --max-per-pair or --max-km"
        )
    text = "; ".join(parts) + "."
    if moved:
        text = f"Move {moved} patient(s) in {len(solved.moved)} transfer(s). " + text
    return text


def _checked(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    unknown = [c for c in frame.columns if c not in columns]
    if unknown:
        raise TransferError(
            f"the {what} table has unknown column(s) {', '.join(map(str, unknown))}",
            hint=f"use {', '.join(columns)}",
        )
    if frame.index.duplicated().any():
        raise TransferError(f"city {frame.index[frame.index.duplicated()][0]} appears twice in the {what}",
                            hint="one row per city")  # fmt: skip
    out = frame.reindex(columns=list(columns)).fillna(0.0).astype(float)
    bad = out[(out < 0).any(axis=1) | ~np.isfinite(out).all(axis=1)]
    if len(bad):
        city = bad.index[0]
        column = next(c for c in columns if not (np.isfinite(bad.loc[city, c]) and bad.loc[city, c] >= 0))
        raise TransferError(
            f"{what} of city {city}: {column} is {bad.loc[city, column]}", hint="use a number, zero or more"
        )
    return out
