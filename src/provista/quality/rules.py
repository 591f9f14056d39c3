"""Quality rules, loaded from ``rules.yaml``: id, kind, severity, tables, the check they run, threshold."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from provista.quality.checks import CHECKS

RULES_FILE = Path(__file__).parent / "rules.yaml"
KINDS = ("conformance", "completeness", "plausibility")


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    severity: str  # error (quarantine) / warning (count only)
    tables: tuple[str, ...]
    check: str
    fields: tuple[str, ...]
    threshold: float
    zh: str
    en: str

    def applies_to(self, table: str) -> bool:
        return "*" in self.tables or table in self.tables


@lru_cache(maxsize=1)
def load_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    rules = []
    for item in yaml.safe_load(path.read_text(encoding="utf-8")):
        rule = Rule(
            item["id"],
            item["kind"],
            item["severity"],
            tuple(item["tables"]),
            item["check"],
            tuple(item.get("fields", [])),
            float(item["threshold"]),
            item["zh"],
            item["en"],
        )
        if rule.kind not in KINDS or rule.check not in CHECKS or rule.severity not in ("error", "warning"):
            raise ValueError(f"{path}: rule {rule.id} has an unknown kind, severity or check")
        rules.append(rule)
    return tuple(rules)
