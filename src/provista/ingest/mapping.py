"""Source formats declared as data: YAML files that map a system's headers and codes to canonical fields.

A mapping names its tables; a table lists ``columns`` (source header → canonical field) and optional
``values`` (canonical field → {source code: canonical code}). A file is recognised as the table whose
headers it carries in full; adding a hospital's format is adding a YAML file (to ``ingest/mappings`` or
to the folder in the ``PROVISTA_MAPPINGS_DIR`` setting), not code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from provista.errors import ProvistaError

BUILT_IN = Path(__file__).parent / "mappings"


class SourceFormatError(ProvistaError, ValueError):
    """A source file is unreadable or does not match any declared format."""


@dataclass(frozen=True)
class TableMapping:
    mapping: str
    table: str
    columns: dict[str, str]  # source header -> canonical field
    values: dict[str, dict[str, str]]  # canonical field -> {source code: canonical code}


def _load(path: Path) -> list[TableMapping]:
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        return [
            TableMapping(
                spec["name"],
                table,
                {str(k): str(v) for k, v in t["columns"].items()},
                {str(f): {str(a): str(b) for a, b in m.items()} for f, m in t.get("values", {}).items()},
            )
            for table, t in spec["tables"].items()
        ]
    except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise SourceFormatError(
            f"{path}: not a valid format mapping ({exc})",
            hint="see src/provista/ingest/mappings/his_zh.yaml for the layout",
        ) from None


@lru_cache(maxsize=8)
def load_mappings(extra_dir: str | None = None) -> tuple[TableMapping, ...]:
    """Every declared table format: the built-in ones, then those in ``extra_dir``."""
    folders = [BUILT_IN] + ([Path(extra_dir)] if extra_dir else [])
    return tuple(m for folder in folders for path in sorted(folder.glob("*.yaml")) for m in _load(path))


def match_table(headers: list[str], source: str, extra_dir: str | None = None) -> TableMapping:
    """The table format whose headers are all present; the clearest error when none is."""
    present = {h.strip().lstrip("\ufeff") for h in headers}
    candidates = load_mappings(extra_dir)
    full = [m for m in candidates if set(m.columns) <= present]
    if full:
        return max(full, key=lambda m: len(m.columns))
    best = max(candidates, key=lambda m: len(set(m.columns) & present))
    missing = [h for h in best.columns if h not in present]
    if len(missing) < len(best.columns) / 2:
        raise SourceFormatError(
            f"{source}, header row: the file looks like {best.mapping} '{best.table}' "
            "but lacks the column(s) " + ", ".join(f"'{m}'" for m in missing),
            hint="ask the hospital to re-export with every column, or declare its format in a mapping YAML",
        )
    raise SourceFormatError(
        f"{source}, header row: no declared format has these columns ({', '.join(headers[:8])} ...)",
        hint="declare the hospital's format in a mapping YAML (see PROVISTA_MAPPINGS_DIR in the README)",
    )
