"""`provista serve`, and the demo's accounts."""

from __future__ import annotations

from pathlib import Path

from provista.api import audit
from provista.api.state import DEMO_USERS, AppState
from provista.engine import DuckDBEngine


def seed_demo_users(state: AppState, warehouse: Path) -> list[tuple[str, str, str, str]]:
    """Create (or reset) the demo accounts; the hospital account gets Ningbo's largest hospital."""
    with DuckDBEngine(warehouse, read_only=True) as engine:
        ningbo = engine.frame(
            "SELECT hospital_id FROM hospital WHERE city_code = '330200' "
            "ORDER BY beds_open DESC, hospital_id LIMIT 1"
        )
    made = []
    for username, password, role, kind, code in DEMO_USERS:
        if code == "NINGBO_FIRST":
            if ningbo.empty:
                continue
            code = str(ningbo.loc[0, "hospital_id"])
        state.add_user(username, password, role, kind, code)
        audit.record(state, "demo", "user.seed", username, {"role": role, "scope": f"{kind} {code}"})
        made.append((username, password, role, f"{kind} {code}"))
    return made
