"""Property-based fuzzing of every operation in the OpenAPI spec (schemathesis): no answer is a 500.

Schemathesis draws valid and edge-case parameters and bodies from the spec; each operation is called as
an admin (every route reaches its handler) and as a city analyst (the scoped code paths). The examples per
operation are few, to keep the run short; the drawn cases differ from run to run (no example database), so
repeated runs widen the search.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings

from provista.api.app import create_app
from tests.security.conftest import seed, signin

# Log-outs would end the fuzzing session; they are tested in test_sessions.py.
SKIP = r"/api/auth/logout"
# What a deliberate maximum costs is a benchmark's question, not the fuzzer's: cap the drawn work.
COST_CAPS = {"replicas": 99}


@pytest.fixture(scope="module")
def fuzz_app(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'app.sqlite'}"
    seed(url, warehouse)
    return create_app(warehouse, url)


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app).exclude(path_regex=SKIP)


@pytest.fixture(scope="module")
def sessions(fuzz_app: FastAPI) -> dict[str, TestClient]:
    return {user: signin(fuzz_app, user) for user in ("admin", "hangzhou")}


def test_no_operation_answers_500(fuzz_schema: Any, sessions: dict[str, TestClient]) -> None:
    """Each operation's strategy from the spec, driven by Hypothesis (schemathesis' pytest loader does not
    run under pytest 9, so the operations are walked here)."""
    failures: list[str] = []
    calls = 0
    for result in fuzz_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=4, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def fuzz(case: Any) -> None:
            nonlocal calls
            for name, cap in COST_CAPS.items():
                if case.query and isinstance(case.query.get(name), int):
                    case.query[name] = min(case.query[name], cap)
            for client in sessions.values():
                response = case.call(
                    cookies={"provista_session": client.cookies["provista_session"]},
                    headers={"X-CSRF-Token": client.headers["X-CSRF-Token"]},
                    timeout=120,
                )
                calls += 1
                asked = f"{case.method} {case.formatted_path} {case.query} {case.body!r:.200}"
                assert response.status_code < 500, f"{asked}: {response.text[:300]}"

        try:
            fuzz()
        except Exception as exc:  # a 500, or an exception the server let out (the test client re-raises it)
            failures.append(f"{operation.label}: {exc!r:.600}")
    assert not failures, "\n".join(failures)
    assert calls > 200, calls


@pytest.mark.parametrize(
    "path",
    ["/api/audit/events?offset={n}", "/api/quality/hospitals?offset={n}", "/api/alerts?page={n}"],
)
def test_a_paging_number_beyond_64_bits_is_refused_not_a_crash(
    sessions: dict[str, TestClient], path: str
) -> None:
    """Found by the fuzzer: an offset past SQLite's and DuckDB's 64-bit integers was a 500."""
    answer = sessions["admin"].get(path.format(n=2**70))
    assert answer.status_code == 422, answer.text
