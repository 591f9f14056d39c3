"""The privacy-budget ledger (隐私预算台账): every differentially private release, and what it spent.

A *release* is one named publication (say, "2025 annual statistics"). It opens with a budget (ε, δ);
each table published under it spends part; a table that would overspend is refused before any noise
is drawn. The ledger is an append-only JSON-lines file beside the warehouse
(``<warehouse>.dp-ledger.jsonl``), not a table in the app-state database, because:

- the budget belongs to the people in the data, not to the application's users: it must follow the
  warehouse, survive its rebuilds (a rebuild swaps the warehouse file, never this one) and be kept by
  the command line where no app database may exist;
- inspectors read it with any text tool; each line carries the SHA-256 of the line before, so an
  edited or deleted line breaks the chain and every later command refuses to go on.

Spending is recorded, and synced to disk, before the table is written: a crash between the two
wastes budget rather than leaking it. A lock on the file keeps two publishers from overspending.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import getpass
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provista.errors import ProvistaError

GENESIS = "0" * 64


class BudgetExceededError(ProvistaError, ValueError):
    """The release has not enough privacy budget left for this table."""


class LedgerTamperedError(ProvistaError, ValueError):
    """The ledger's hash chain is broken: a line was changed, removed or reordered."""


def ledger_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".dp-ledger.jsonl")


@dataclass
class Release:
    """One release's budget and what its tables spent."""

    name: str
    epsilon_budget: float
    delta_budget: float
    spends: list[dict[str, Any]] = field(default_factory=list)

    @property
    def epsilon_spent(self) -> float:
        return sum(float(s["epsilon"]) for s in self.spends)

    @property
    def delta_spent(self) -> float:
        return sum(float(s["delta"]) for s in self.spends)


class Ledger:
    """The ledger of one warehouse: read and verified whole, appended to under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, the hash chain verified."""
        if not self.path.exists():
            return []
        out, previous = [], GENESIS
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            entry = json.loads(line)
            if entry.get("prev") != previous:
                raise LedgerTamperedError(
                    f"{self.path}, line {number}: the hash chain is broken (the line before it was changed "
                    "or removed)",
                    hint="restore the ledger from its backup; never edit it by hand",
                )
            previous = hashlib.sha256(line.encode("utf-8")).hexdigest()
            out.append(entry)
        return out

    def releases(self) -> dict[str, Release]:
        releases: dict[str, Release] = {}
        for e in self.entries():
            if e["kind"] == "open":
                releases[e["release"]] = Release(e["release"], e["epsilon_budget"], e["delta_budget"])
            elif e["kind"] == "spend":
                releases[e["release"]].spends.append(e)
        return releases

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the ledger for a check-then-spend (other publishers wait)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _append(self, entry: dict[str, Any]) -> dict[str, Any]:
        entries_text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        lines = entries_text.splitlines()
        self.entries()  # refuse to append to a broken chain
        entry = {
            "seq": len(lines) + 1,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "by": getpass.getuser(),
            **entry,
            "prev": hashlib.sha256(lines[-1].encode("utf-8")).hexdigest() if lines else GENESIS,
        }
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return entry

    def spend(
        self,
        release: str,
        epsilon: float,
        delta: float,
        budget: tuple[float, float] | None,
        details: dict[str, Any],
    ) -> dict[str, Any]:
        """Record a spend of (ε, δ) under ``release`` (opened with ``budget`` if new), or refuse.

        Call inside ``locked()``; the caller draws the noise only after this returns.
        """
        if epsilon <= 0 or delta < 0:
            raise ProvistaError(f"ε must be positive and δ not negative (got ε={epsilon}, δ={delta})")
        releases = self.releases()
        current = releases.get(release)
        if current is None:
            if budget is None:
                raise ProvistaError(
                    f"release {release!r} is not in the ledger yet",
                    hint="give its total budget with --budget (ε) to open it",
                )
            self._append({"kind": "open", "release": release, "epsilon_budget": budget[0],
                          "delta_budget": budget[1]})  # fmt: skip
            current = Release(release, budget[0], budget[1])
        elif budget is not None and (budget[0], budget[1]) != (current.epsilon_budget, current.delta_budget):
            raise ProvistaError(
                f"release {release!r} was opened with the budget ε={current.epsilon_budget}, "
                f"δ={current.delta_budget}; a budget cannot be changed once spending has begun",
                hint="leave out --budget, or publish under a new release name",
            )
        left_e = current.epsilon_budget - current.epsilon_spent
        left_d = current.delta_budget - current.delta_spent
        if epsilon > left_e + 1e-12 or delta > left_d + 1e-18:
            raise BudgetExceededError(
                f"release {release!r} has ε={left_e:g} and δ={left_d:g} left of its budget "
                f"(ε={current.epsilon_budget:g}, δ={current.delta_budget:g}); this table needs "
                f"ε={epsilon:g}, δ={delta:g}",
                hint="publish with a smaller --epsilon (more noise), or open a new release with its own "
                "budget (every release adds to what the people in the data have given up)",
            )
        return self._append({"kind": "spend", "release": release, "epsilon": epsilon, "delta": delta,
                             **details})  # fmt: skip
