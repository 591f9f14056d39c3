"""`provista serve` on a Spark-built warehouse: the API answers what it answers on the DuckDB-built one.

Both apps run on the tiny province (one built by each engine), each with its own demo accounts; the
same requests as the administrator must give the same JSON (numbers within a relative 1e-9).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from provista.api.app import create_app
from provista.api.serve import seed_demo_users
from provista.api.state import AppState
from tests.api.conftest import login

PATHS = [
    "/api/trends/visits",
    "/api/trends/visits?by=department&grain=month",
    "/api/trends/facets",
    "/api/trends/heatmap?kind=chapter_week",
    "/api/trends/heatmap?kind=department_hour",
    "/api/map/metric",
    "/api/quality/hospitals",
    "/api/operations/indicators",
    "/api/operations/ranking?indicator=bed_occupancy_rate",
    "/api/surveillance/diseases",
    "/api/surveillance/incidence",
    "/api/surveillance/curve",
    "/api/forecast/units",
]
# The alert routes must find the alert table among views too: a Spark warehouse is served as views.
ALERT_PATHS = ["/api/alerts", "/api/alerts/facets", "/api/overview/kpis"]


@pytest.fixture(scope="module")
def clients(
    warehouse: Path, spark_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, TestClient]]:
    out = {}
    for name, path in (("duckdb", warehouse), ("spark", spark_warehouse)):
        url = f"sqlite:///{tmp_path_factory.mktemp('app') / 'app.sqlite'}"
        seed_demo_users(AppState(url), path)
        out[name] = login(create_app(path, url), "admin")
    yield out
    for client in out.values():
        client.close()


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d for k in sorted(a.keys() | b.keys()) for d in _differences(a.get(k), b.get(k), f"{path}.{k}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=1e-9):
        return []
    return [] if a == b else [f"{path}: {str(a)[:80]} vs {str(b)[:80]}"]


def _json(response: Any) -> Any:
    body = response.json()
    if isinstance(body, dict) and "cells" in body:  # a heat map's cells come in no particular order
        body["cells"] = sorted(body["cells"])
    return body


def _compare(clients: dict[str, TestClient], path: str) -> None:
    duck, spark = clients["duckdb"].get(path), clients["spark"].get(path)
    assert duck.status_code == spark.status_code == 200, (path, duck.text[:200], spark.text[:200])
    differences = _differences(_json(duck), _json(spark))
    assert not differences, differences[:5]


@pytest.mark.parametrize("path", PATHS)
def test_the_api_answers_the_same_from_a_spark_warehouse(clients: dict[str, TestClient], path: str) -> None:
    _compare(clients, path)


@pytest.mark.parametrize("path", ALERT_PATHS)
def test_the_alert_routes_answer_the_same_from_a_spark_warehouse(
    clients: dict[str, TestClient], path: str
) -> None:
    _compare(clients, path)
