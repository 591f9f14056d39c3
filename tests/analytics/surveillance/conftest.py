"""The reference series and golden outputs of R surveillance 1.20.3 (../shared/reference/surveillance)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provista.analytics.surveillance.detectors import CountSeries, read_count_csv


@pytest.fixture(scope="session")
def reference(shared: Path) -> Path:
    return shared / "reference" / "surveillance"


@pytest.fixture(scope="session")
def reference_manifest(reference: Path) -> dict[str, Any]:
    return json.loads((reference / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def salm_newport(reference: Path) -> CountSeries:
    return read_count_csv(reference / "inputs" / "salmNewportGermany.csv")
