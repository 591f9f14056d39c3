"""Small-cell suppression (小单元格抑制) with complementary suppression, checked by linear programming.

A published count of 1 to 4 people can identify them, so it is hidden (primary suppression; the
threshold of 5 is OHDSI's default, DOMAIN.md). A zero is published: it describes nobody. Hiding a cell
is not enough when a total is published beside it: the reader subtracts. So a table is described as
cells plus the additive relations a reader knows (``total = part₁ + … + partₙ``: row and column margins,
a city and its counties, a week and its days), and further cells are hidden (complementary
suppression) until no primary cell can be narrowed down.

"Narrowed down" is measured, not assumed: for each primary cell the attacker's best bounds are the
minimum and maximum of that cell over every non-negative table that agrees with everything published
(a linear programme, solved with HiGHS through SciPy). A cell is protected when that feasible interval
is at least ``protection`` wide (default 5: the reader cannot tell 0 from 5). For tables whose
relations are margins or a hierarchy the constraint matrix is totally unimodular, so the LP bounds are
the integer bounds: an attacker solving the integer programme learns nothing more.

The search: (1) primary cells; (2) the classic rule to a fixed point: every relation with a hidden cell
hides at least two (the smallest non-zero part first, then the total); (3) the LP audit of every primary
cell, adding, where one is still too narrow, the complementary cell that widens it (smallest value
first). Hiding more cells only ever widens intervals, so a cell that passed stays protected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

THRESHOLD = 5  # counts 1 … THRESHOLD-1 are hidden
PROTECTION = 5  # the width an attacker's feasible interval for a hidden count must keep


@dataclass(frozen=True)
class Relation:
    """``values[total] == sum(values[p] for p in parts)``, known to every reader."""

    total: int
    parts: tuple[int, ...]

    @property
    def members(self) -> tuple[int, ...]:
        return (self.total, *self.parts)


@dataclass
class CellTable:
    """Counts and the relations among them.

    ``hidden`` cells take part in relations but are never shown (e.g. hospitals without a county);
    ``fixed`` cells are known to readers from elsewhere (a margin another query shows), so they are
    never chosen as complements (a small one is still hidden: it is small wherever it appears).
    """

    values: np.ndarray
    relations: list[Relation] = field(default_factory=list)
    hidden: frozenset[int] = frozenset()
    fixed: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=float)
        if (self.values < 0).any() or not np.isfinite(self.values).all():
            raise ValueError("cell suppression works on non-negative finite counts")

    @cached_property
    def incidence(self) -> sparse.csr_matrix:
        """Relations × cells: +1 for the total, -1 for each part (each row sums to zero)."""
        entries = [(r, rel.total, 1.0) for r, rel in enumerate(self.relations)]
        entries += [(r, p, -1.0) for r, rel in enumerate(self.relations) for p in rel.parts]
        i, j, v = zip(*entries, strict=True) if entries else ((), (), ())
        shape = (len(self.relations), len(self.values))
        return sparse.csr_matrix((v, (i, j)), shape=shape)

    @cached_property
    def relations_of(self) -> list[list[int]]:
        """For each cell, the relations it takes part in."""
        out: list[list[int]] = [[] for _ in self.values]
        for r, rel in enumerate(self.relations):
            for m in rel.members:
                out[m].append(r)
        return out


@dataclass
class Suppression:
    """Which cells to hide, and why: small themselves (primary), or to protect a small one (complementary).

    ``exposed``: primary cells that stay narrower than the protection because cells known from
    elsewhere (``fixed``) pin them down; hiding more here could not help.
    """

    primary: np.ndarray
    complementary: np.ndarray
    exposed: list[int] = field(default_factory=list)

    @property
    def suppressed(self) -> np.ndarray:
        mask: np.ndarray = self.primary | self.complementary
        return mask


def one_way(counts: Sequence[float], total: bool = True) -> CellTable:
    """Cells 0…n-1, and (``total``) cell n = their sum."""
    values = list(counts)
    if not total:
        return CellTable(np.array(values, dtype=float))
    return CellTable(
        np.array([*values, sum(values)], dtype=float), [Relation(len(values), tuple(range(len(values))))]
    )


def two_way(matrix: np.ndarray, fixed_margins: bool = False) -> CellTable:
    """An r×c table with its row totals, column totals and grand total.

    Cell order: the r·c inner cells row by row, then r row totals, c column totals, the grand total.
    ``fixed_margins``: the totals are published elsewhere and cannot serve as complements.
    """
    m = np.asarray(matrix, dtype=float)
    r, c = m.shape
    inner = [[i * c + j for j in range(c)] for i in range(r)]
    row_total = [r * c + i for i in range(r)]
    col_total = [r * c + r + j for j in range(c)]
    grand = r * c + r + c
    values = np.concatenate([m.ravel(), m.sum(axis=1), m.sum(axis=0), [m.sum()]])
    relations = [Relation(row_total[i], tuple(inner[i])) for i in range(r)]
    relations += [Relation(col_total[j], tuple(inner[i][j] for i in range(r))) for j in range(c)]
    relations += [Relation(grand, tuple(row_total)), Relation(grand, tuple(col_total))]
    fixed = frozenset(range(r * c, grand + 1)) if fixed_margins else frozenset()
    return CellTable(values, relations, fixed=fixed)


def hierarchy(leaves: dict[str, float], parents: Sequence[dict[str, str]]) -> tuple[CellTable, list[str]]:
    """Leaves (e.g. counties) summed level by level (``parents[k]``: child → parent code) up to one root.

    Returns the table and the name of each cell (leaves first, then each level's totals, the root last).
    """
    names = list(leaves)
    values = [float(v) for v in leaves.values()]
    relations: list[Relation] = []
    level = {name: i for i, name in enumerate(names)}
    for parent_of in [*parents, None]:
        groups: dict[str, list[int]] = {}
        for child, index in level.items():
            parent = "*" if parent_of is None else parent_of[child]
            groups.setdefault(parent, []).append(index)
        level = {}
        for parent, children in groups.items():
            level[parent] = len(names)
            names.append(parent)
            values.append(sum(values[i] for i in children))
            relations.append(Relation(level[parent], tuple(children)))
        if parent_of is None:
            break
    return CellTable(np.array(values), relations), names


def feasible_interval(table: CellTable, unknown: np.ndarray, cell: int) -> tuple[float, float]:
    """The smallest and largest value ``cell`` can take given every known cell and relation (cells ≥ 0)."""
    lp = _Programme(table, unknown)
    low, high = lp.extreme(cell, -1.0, cap=None), lp.extreme(cell, 1.0, cap=None)
    assert low is not None  # a minimum over cells ≥ 0 always exists
    return float(low[cell]), math.inf if high is None else float(high[cell])


class _Programme:
    """The attacker's linear programme: unknown cells ≥ 0, every relation holds, known cells fixed."""

    def __init__(self, table: CellTable, unknown: np.ndarray) -> None:
        self.table, self.unknown = table, unknown.copy()

    def extreme(self, cell: int, sign: float, cap: float | None) -> np.ndarray | None:
        """A whole table (known cells as published) maximising (sign +1) or minimising ``cell``.

        None when the maximum is unbounded. ``cap`` bounds every unknown cell (the answer is then still
        a table the attacker cannot rule out).
        """
        weights = np.zeros(len(self.unknown))
        weights[cell] = sign
        return self.optimum(weights, cap)

    def optimum(self, weights: np.ndarray, cap: float | None) -> np.ndarray | None:
        """A whole table maximising ``weights · cells`` (None when unbounded)."""
        variables = np.flatnonzero(self.unknown)
        incidence = self.table.incidence
        known = ~self.unknown
        rows = np.flatnonzero(abs(incidence[:, variables]).sum(axis=1).A1 > 0)
        full = self.table.values.copy()
        if len(rows) == 0:  # nothing binds the unknown cells
            if (weights[variables] > 0).any() and cap is None:
                return None
            full[variables] = np.where(weights[variables] > 0, cap or 0.0, 0.0)
            return full
        bound = incidence[rows]
        result = linprog(
            -weights[variables],
            A_eq=bound[:, variables],
            b_eq=-(bound[:, known] @ self.table.values[known]),
            bounds=(0, cap),
            method="highs",
        )
        if result.status == 3:
            return None
        if result.status != 0:
            raise RuntimeError(f"the published table is inconsistent: {result.message}")
        full[variables] = result.x
        return full


def protect(
    table: CellTable,
    threshold: int = THRESHOLD,
    protection: float = PROTECTION,
    hide: Sequence[int] = (),
) -> Suppression:
    """Primary and complementary suppression such that every primary cell keeps ``protection`` of doubt.

    ``hide``: cells hidden already (e.g. margins that the protection of a shared margin table hid);
    they are kept hidden, and those that are small are protected like any primary cell.

    Every table the attacker's programme returns is kept: it bounds every cell at once, so most cells
    are shown to be protected by tables found for others, and only the rest need their own programme.
    """
    values = table.values
    hidden = np.zeros(len(values), dtype=bool)
    hidden[list(table.hidden)] = True
    primary = (values >= 1) & (values < threshold) & ~hidden
    suppressed = primary.copy()
    suppressed[list(hide)] = True
    locked = np.zeros(len(values), dtype=bool)  # never a complement
    locked[list(table.fixed)] = True
    locked &= ~suppressed
    exposed: list[int] = []
    _rules(table, suppressed, hidden | locked, primary, protection)
    cap = float(values.sum()) + protection  # enough room to show any width that matters
    pool = [values.copy()]  # tables consistent with what is published (the true one first)
    rng = np.random.default_rng(0)  # which way to push the other cells (the result is deterministic)
    for cell in (int(c) for c in np.flatnonzero(primary)):
        while not _wide(pool, cell, protection):
            # push this cell to each end, and the other undecided small cells each one way or the other
            seen = np.array(pool)
            undecided = primary & (seen.max(axis=0) - seen.min(axis=0) < protection - 1e-9)
            lp = _Programme(table, suppressed | hidden)
            for sign in (1.0, -1.0):
                weights = rng.choice([-1.0, 1.0], len(values)) * undecided
                weights[cell] = sign * len(values)
                found = lp.optimum(weights, cap)
                if found is not None:
                    pool.append(found)
            if _wide(pool, cell, protection):
                break
            for sign in (1.0, -1.0):  # this cell alone, to its exact ends
                found = lp.extreme(cell, sign, cap)
                assert found is not None  # capped programmes are bounded
                pool.append(found)
            if _wide(pool, cell, protection):
                break
            low = min(t[cell] for t in pool)
            now = max(t[cell] for t in pool) - low
            wider = _best_complement(table, suppressed, hidden | locked, cell, protection, cap, now, low)
            if wider is None:  # nothing left to hide widens it: known cells pin it down
                exposed.append(cell)
                break
            suppressed = wider
    return Suppression(primary, suppressed & ~primary, exposed)


def _wide(pool: list[np.ndarray], cell: int, protection: float) -> bool:
    seen = [t[cell] for t in pool]
    return max(seen) - min(seen) >= protection - 1e-9


def _rules(
    table: CellTable, suppressed: np.ndarray, unavailable: np.ndarray, protect: np.ndarray, margin: float
) -> None:
    """Hide more cells until two necessary conditions hold in every relation (cheap, before any LP).

    1. No relation has exactly one hidden member: subtraction would reveal it.
    2. Where a relation's total is shown and a part to protect is hidden, the hidden parts add up to
       at least ``margin``: that sum is the most any of them can be.

    ``unavailable``: cells never shown anyway, or never to be hidden (fixed); ``protect``: the cells
    that must keep their doubt.
    """
    hidden = np.zeros(len(suppressed), dtype=bool)
    hidden[list(table.hidden)] = True
    changed = True
    while changed:
        changed = False
        for rel in table.relations:
            unknown = [m for m in rel.members if suppressed[m] or hidden[m]]
            if not unknown:
                continue
            known = sorted(
                (m for m in rel.members if not (suppressed[m] or unavailable[m])),
                key=lambda m: _cost(table, m, {rel.total}),
            )
            if len(unknown) == 1 and not hidden[unknown[0]] and known:
                suppressed[known[0]] = True
                changed = True
                continue
            if rel.total in unknown or not any(protect[m] and suppressed[m] for m in rel.parts):
                continue
            slack = sum(table.values[m] for m in unknown)
            for m in (m for m in known if m != rel.total):
                if slack >= margin:
                    break
                suppressed[m] = True
                slack += table.values[m]
                changed = True


def _best_complement(
    table: CellTable,
    suppressed: np.ndarray,
    unavailable: np.ndarray,
    cell: int,
    protection: float,
    cap: float,
    width_now: float,
    low_now: float,
    tries: int = 8,
) -> np.ndarray | None:
    """Hidden cells after adding the complement that widens ``cell``'s interval most.

    A candidate is tried together with what the two-per-relation rule then adds (alone, a cell in a
    fully known relation is determined and widens nothing). Candidates: the known cells of the
    relations holding ``cell`` first, then of those around its hidden neighbours, cheapest first; the
    first to reach ``protection`` wins, else the widest of the first ``tries``; None if none widens it.
    """
    hidden = np.zeros(len(suppressed), dtype=bool)
    hidden[list(table.hidden)] = True
    unknown = suppressed | hidden
    component = set(_component(table, unknown, cell))
    own: set[int] = set()
    near: set[int] = set()
    totals: set[int] = set()
    for rel in table.relations:
        if cell in rel.members:
            own.update(rel.members)
        if component.intersection(rel.members):
            near.update(rel.members)
            totals.add(rel.total)
    candidates = sorted(
        (m for m in near if not unknown[m] and not unavailable[m]),
        key=lambda m: (m not in own, *_cost(table, m, totals)),
    )
    best, best_width = None, width_now + 1e-9
    for m in candidates[:tries]:
        trial = suppressed.copy()
        trial[m] = True
        _rules(table, trial, unavailable, np.zeros(len(trial), dtype=bool), protection)
        lp = _Programme(table, trial | hidden)
        high = lp.extreme(cell, 1.0, cap)
        assert high is not None  # capped programmes are bounded
        if high[cell] - low_now >= protection - 1e-9:  # hiding more never raises the lower bound
            return trial
        low = lp.extreme(cell, -1.0, cap)
        assert low is not None
        width = high[cell] - low[cell]
        if width >= protection - 1e-9:
            return trial
        if width > best_width:
            best, best_width = trial, width
    return best


def _component(table: CellTable, unknown: np.ndarray, cell: int) -> list[int]:
    """The unknown cells linked to ``cell`` through relations (the only ones that bound it)."""
    seen, todo = {cell}, [cell]
    hidden = set(np.flatnonzero(unknown).tolist())
    done: set[int] = set()
    while todo:
        for rel in table.relations_of[todo.pop()]:
            if rel in done:
                continue
            done.add(rel)
            for m in hidden.intersection(table.relations[rel].members) - seen:
                seen.add(m)
                todo.append(m)
    return sorted(seen)


def _cost(table: CellTable, m: int, totals: set[int]) -> tuple[int, float, int]:
    """Cheapest to hide first: non-zero parts by value, then totals, then zeros (they widen one way only)."""
    v = table.values[m]
    return (2 if v == 0 else 1 if m in totals else 0, v, m)
