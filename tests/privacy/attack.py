"""The attacker: an independent linear programme over everything published (written apart from the
code under test, so that a shared mistake cannot hide a disclosure)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.optimize import linprog


class Attacker:
    """Unknown counts (≥ 0) tied by published linear equations ``Σ coef · cell = constant``."""

    def __init__(self) -> None:
        self.names: dict[object, int] = {}
        self.equations: list[tuple[dict[int, float], float]] = []

    def unknown(self, name: object) -> int:
        return self.names.setdefault(name, len(self.names))

    def equation(self, terms: Sequence[tuple[object, float]], constant: float) -> None:
        """``Σ coef · unknown(name) + (published numbers folded into constant) = 0``."""
        row: dict[int, float] = {}
        for name, coef in terms:
            i = self.unknown(name)
            row[i] = row.get(i, 0.0) + coef
        self.equations.append((row, constant))

    def interval(self, name: object) -> tuple[float, float]:
        """The least and greatest value the unknown can take (LP bounds; inf when unbounded)."""
        n = len(self.names)
        a = np.zeros((len(self.equations), n))
        b = np.zeros(len(self.equations))
        for k, (row, constant) in enumerate(self.equations):
            for i, coef in row.items():
                a[k, i] = coef
            b[k] = -constant
        c = np.zeros(n)
        c[self.names[name]] = 1.0
        low = linprog(c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        high = linprog(-c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        assert low.status == 0, low.message
        return low.fun, (math.inf if high.status == 3 else -high.fun)
