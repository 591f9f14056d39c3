"""People's corrections to the person index: join a missed link, split a wrong one.

Kept beside the warehouse (``<warehouse>.links.jsonl``), not in it, so that they survive every rebuild;
append-only, one JSON object per line, each with who made it, when and why. The last word on a pair wins:
a later split undoes an earlier join of the same two records and the other way round.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

from provista.errors import ProvistaError


class OverrideError(ProvistaError, ValueError):
    """A correction that cannot be recorded or read back."""


@dataclass(frozen=True)
class Override:
    action: str  # join or split
    record_a: str
    record_b: str
    who: str
    when: str
    why: str


def overrides_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".links.jsonl")


def record(warehouse: Path, action: str, a: str, b: str, who: str, why: str) -> Override:
    """Append one correction; it takes effect at the next build or ingest."""
    if action not in ("join", "split"):
        raise OverrideError(f"unknown action {action!r}", hint="use join or split")
    if a == b:
        raise OverrideError("the two records are the same record", hint="name two different records")
    if not who.strip() or not why.strip():
        raise OverrideError("a correction needs who made it and why", hint="give --by and --reason")
    entry = Override(action, a, b, who.strip(), dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), why)
    path = overrides_path(warehouse)
    with path.open("ab") as f:
        f.write(orjson.dumps(asdict(entry)) + b"\n")
    return entry


def history(warehouse: Path) -> list[Override]:
    """Every correction ever recorded, oldest first."""
    path = overrides_path(warehouse)
    if not path.exists():
        return []
    out = []
    for n, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(Override(**orjson.loads(line)))
        except (orjson.JSONDecodeError, TypeError):
            raise OverrideError(
                f"{path}, line {n}: not a correction record",
                hint="restore the file from its backup; it is append-only and should never be edited",
            ) from None
    return out


def effective(warehouse: Path) -> list[Override]:
    """The corrections in force: for each pair of records, its latest one."""
    latest: dict[frozenset[str], Override] = {}
    for o in history(warehouse):
        latest[frozenset((o.record_a, o.record_b))] = o
    return list(latest.values())
