"""The hand-computable operations warehouses (fixture.py), written once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analytics.operations import fixture


@pytest.fixture(scope="session")
def ops_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture.write(tmp_path_factory.mktemp("ops") / "ops.duckdb")


@pytest.fixture(scope="session")
def peer_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture.peer_warehouse(tmp_path_factory.mktemp("peers") / "peers.duckdb")
