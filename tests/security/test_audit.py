"""The audit log: append-only from the application, tampering from outside detected, every patient-level
read and every change recorded with who, what, when, from where and why; searchable; exportable."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from provista.api import audit
from provista.api.app import create_app
from provista.api.deps import CurrentUser, requires_patient_access
from provista.api.state import AppState
from provista.engine import DuckDBEngine
from tests.postgres import PostgresServer
from tests.security.conftest import PASSWORDS, seed, signin

ROOT = Path(__file__).resolve().parents[2]

# A patient-level route, as the clinical pages will declare theirs.
patients = APIRouter(prefix="/api/patients")


@patients.get("/{person_key}/timeline", dependencies=[requires_patient_access()])
def timeline(person_key: str, user: CurrentUser) -> dict[str, str]:
    return {"person_key": person_key, "seen_by": user.username}


@pytest.fixture
def state(each_app_db: str) -> AppState:
    return AppState(each_app_db)


@pytest.fixture
def clinical_app(warehouse: Path, tmp_path: Path) -> FastAPI:
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    seed(url, warehouse)
    app = create_app(warehouse, url)
    app.include_router(patients)
    return app


def _fill(state: AppState, n: int) -> None:
    for i in range(n):
        audit.record(state, f"user{i % 3}", "user.change", f"account{i}", {"i": i}, purpose="test")


def test_the_application_cannot_change_or_delete_a_record(state: AppState) -> None:
    _fill(state, 3)
    with pytest.raises(DatabaseError, match="append-only"), state.engine.begin() as c:
        c.execute(text("UPDATE audit_log SET username = 'someone else' WHERE seq = 2"))
    with pytest.raises(DatabaseError, match="append-only"), state.engine.begin() as c:
        c.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    with pytest.raises(DatabaseError, match="append-only"), state.engine.begin() as c:
        c.execute(text("DELETE FROM audit_log"))
    found = audit.verify(state.engine)
    assert found.intact and found.rows == 3 and found.head_seq == 3


def _tamper(path: Path, *statements: str) -> None:
    """What someone with the database file could do: drop the triggers, then edit."""
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER audit_log_no_update")
    con.execute("DROP TRIGGER audit_log_no_delete")
    for s in statements:
        con.execute(s)
    con.commit()
    con.close()


def test_tampering_outside_the_application_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    state = AppState(f"sqlite:///{path}")
    _fill(state, 10)
    assert audit.verify(state.engine).intact
    _tamper(path, "UPDATE audit_log SET purpose = 'routine' WHERE seq = 4")
    found = audit.verify(state.engine)
    assert not found.intact
    assert "row 4: its content was changed after it was written" in found.problems
    assert any("trigger audit_log_no_update is missing" in p for p in found.problems)
    assert not any(p.startswith(("row 3", "row 5")) for p in found.problems)  # the chain names the row


def test_tampering_on_postgresql_is_detected(postgres: PostgresServer) -> None:
    """The same on PostgreSQL, where the database's owner disables the trigger, edits, and enables it."""
    url = postgres.new_database()
    state = AppState(url)
    _fill(state, 10)
    with state.engine.begin() as c:
        c.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        c.execute(text("UPDATE audit_log SET purpose = 'routine' WHERE seq = 4"))
        c.execute(text("DELETE FROM audit_log WHERE seq = 7"))
    found = audit.verify(state.engine)
    assert "row 4: its content was changed after it was written" in found.problems
    assert "row 8: rows 7–7 are missing" in found.problems
    assert any("trigger audit_log_append_only is missing" in p for p in found.problems)
    AppState(url)  # the app restarts: the trigger is back, the damage stays visible
    found = audit.verify(state.engine)
    assert not any("trigger" in p for p in found.problems) and not found.intact


def test_a_removed_row_and_a_rewritten_chain_are_detected(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    state = AppState(f"sqlite:///{path}")
    _fill(state, 10)
    _tamper(path, "DELETE FROM audit_log WHERE seq = 6")
    problems = audit.verify(state.engine).problems
    assert "row 7: rows 6–6 are missing" in problems
    assert "row 7: does not follow row 5 (its prev_hash differs)" in problems


def test_an_anchor_detects_a_cut_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    state = AppState(f"sqlite:///{path}")
    _fill(state, 5)
    anchors = tmp_path / "elsewhere" / "anchors.txt"
    assert audit.anchor(state.engine, anchors) == (5, audit.verify(state.engine).head_hash)
    _fill(state, 2)
    assert audit.verify(state.engine, anchors).intact
    _tamper(path, "DELETE FROM audit_log WHERE seq >= 5")  # a clean chain of rows 1–4 is left
    AppState(f"sqlite:///{path}")  # the app restarts: the triggers are back
    assert audit.verify(state.engine).intact  # without the anchor a cut at the end is invisible …
    found = audit.verify(state.engine, anchors)  # … with it, it is not
    assert found.problems == [f"anchor {anchors}:1 (row 5) no longer matches: the log was cut or rewritten"]


def test_concurrent_writers_keep_one_chain(state: AppState) -> None:
    def write(k: int) -> None:
        for i in range(25):
            audit.record(state, f"thread{k}", "patient.read", f"/api/patients/{i}", purpose="treatment")

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    found = audit.verify(state.engine)
    assert found.intact and found.rows == 100


def test_a_patient_level_read_needs_the_role_and_a_purpose_and_is_recorded(clinical_app: FastAPI) -> None:
    doctor = signin(clinical_app, "dr_zhang", client=("10.1.2.3", 50000))
    refused = doctor.get("/api/patients/P1/timeline")
    assert refused.status_code == 403 and "X-Provista-Purpose" in refused.json()["detail"]
    seen = doctor.get(
        "/api/patients/P1/timeline", headers={"X-Provista-Purpose": "treatment: follow-up visit"}
    )
    assert seen.status_code == 200 and seen.json() == {"person_key": "P1", "seen_by": "dr_zhang"}
    researcher = signin(clinical_app, "researcher")
    assert researcher.get("/api/patients/P2/timeline?purpose=study%202024-07%20cohort").status_code == 200
    analyst = signin(clinical_app, "hangzhou")
    wrong = analyst.get("/api/patients/P1/timeline", headers={"X-Provista-Purpose": "curiosity"})
    assert wrong.status_code == 403 and "clinician or researcher" in wrong.json()["detail"]

    state = clinical_app.state.app_state
    _, reads = audit.search(state, action="patient.read")
    assert [(e.username, e.target, e.purpose, e.outcome) for e in reversed(reads)] == [
        ("dr_zhang", "/api/patients/P1/timeline", "treatment: follow-up visit", "ok"),
        ("researcher", "/api/patients/P2/timeline", "study 2024-07 cohort", "ok"),
    ]
    assert reads[-1].client_ip == "10.1.2.3" and reads[-1].role == "clinician"
    _, denied = audit.search(state, action="access.denied")
    assert {(e.username, e.target) for e in denied} == {
        ("dr_zhang", "/api/patients/P1/timeline"),
        ("hangzhou", "/api/patients/P1/timeline"),
    }
    assert next(e for e in denied if e.username == "hangzhou").purpose == "curiosity"
    stamp = dt.datetime.fromisoformat(reads[0].at)
    assert abs(dt.datetime.now(dt.UTC).replace(tzinfo=None) - stamp) < dt.timedelta(minutes=5)


def test_every_account_change_is_recorded(app_on_each_db: FastAPI) -> None:
    admin = signin(app_on_each_db, "admin")
    account = {"username": "wang.li", "password": "a-long-passphrase-1", "role": "analyst",
               "scope_kind": "city", "scope_code": "330200"}  # fmt: skip
    made = admin.post("/api/admin/users", json=account)
    assert made.status_code == 201, made.text
    assert (
        admin.patch(
            "/api/admin/users/wang.li", json={"scope_kind": "county", "scope_code": "330203"}
        ).status_code
        == 200
    )
    assert (
        admin.post("/api/admin/users/wang.li/password", json={"password": "another-passphrase-2"}).status_code
        == 204
    )
    assert admin.patch("/api/admin/users/wang.li", json={"disabled": True}).status_code == 200
    state = app_on_each_db.state.app_state
    _, events = audit.search(state, action="user.", target="wang.li")
    assert [e.action for e in reversed(events)] == [
        "user.create",
        "user.change",
        "user.password_reset",
        "user.change",
    ]
    assert all(e.username == "admin" and e.client_ip == "testclient" for e in events)
    assert '"scope_code": ["330200", "330203"]' in events[2].detail
    assert "another-passphrase" not in "".join(e.detail for e in events)  # never a password


def test_log_ins_and_log_outs_are_recorded(fresh_app: FastAPI) -> None:
    client = TestClient(fresh_app)
    client.post("/api/auth/login", json={"username": "public", "password": "not-the-password"})
    signin(fresh_app, "public").post("/api/auth/logout")
    _, events = audit.search(fresh_app.state.app_state, username="public")
    assert [(e.action, e.outcome) for e in reversed(events)] == [
        ("login.failed", "failed"),
        ("login", "ok"),
        ("logout", "ok"),
    ]


def test_search_by_user_action_and_period_and_export_for_inspectors(app_on_each_db: FastAPI) -> None:
    state = app_on_each_db.state.app_state
    audit.record(state, "formula", "user.change", '=HYPERLINK("http://evil")', {"note": "+1"}, purpose="@x")
    inspector = signin(app_on_each_db, "inspector")
    page = inspector.get("/api/audit/events", params={"user": "formula"}).json()
    assert page["total"] == 1 and page["items"][0]["action"] == "user.change"
    assert inspector.get("/api/audit/events", params={"action": "login"}).json()["total"] >= 1
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert inspector.get("/api/audit/events", params={"since": later}).json()["total"] == 0
    everything = inspector.get("/api/audit/events", params={"until": later, "limit": 1000}).json()
    assert everything["total"] == len(everything["items"]) > 5
    csv_text = inspector.get("/api/audit/export.csv", params={"user": "formula"})
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_text.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_text.text.lstrip("\ufeff"))))
    assert len(rows) == 1 and rows[0]["target"].startswith("'=") and rows[0]["purpose"] == "'@x"
    assert rows[0]["hash"] == page["items"][0]["hash"]
    _, exports = audit.search(state, action="audit.export")
    assert exports[0].username == "inspector" and '"user": "formula"' in exports[0].detail
    assert signin(app_on_each_db, "hangzhou").get("/api/audit/events").status_code == 403


def _cli(*args: str, stdin: str | None = None) -> Any:
    """The real command, in this process (PROVISTA_APP_DB set by the test)."""
    from typer.testing import CliRunner

    from provista.cli import app

    return CliRunner().invoke(app, list(args), input=stdin, env={"COLUMNS": "200"})


def test_provista_audit_verify_and_the_account_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "app.sqlite"
    url = f"sqlite:///{path}"
    monkeypatch.setenv("PROVISTA_APP_DB", url)
    monkeypatch.setenv("PROVISTA_WAREHOUSE", str(tmp_path / "none.duckdb"))
    made = _cli(
        "users", "add", "first_admin", "--role", "admin", "--password-stdin", stdin="a-long-passphrase-0\n"
    )
    assert made.exit_code == 0, made.output
    weak = _cli("users", "add", "weak", "--role", "admin", "--password-stdin", stdin="password1234\n")
    assert weak.exit_code == 2 and "most common passwords" in weak.output
    ok = _cli("audit", "verify")
    assert ok.exit_code == 0 and "intact: 1 rows" in ok.output, ok.output
    assert AppState(url).verify_password("first_admin", "a-long-passphrase-0")
    _, events = audit.search(AppState(url), action="user.create")
    assert events[0].username.startswith("cli:") and events[0].target == "first_admin"
    anchors = tmp_path / "anchors.txt"
    assert _cli("audit", "anchor", str(anchors)).exit_code == 0
    export = tmp_path / "audit.csv"
    assert _cli("audit", "export", "--out", str(export)).exit_code == 0
    assert "first_admin" in export.read_text(encoding="utf-8-sig")
    _tamper(path, "UPDATE audit_log SET target = 'nobody' WHERE seq = 1")
    # Once as an operator runs it: a separate process, exit status 1, the row named.
    env = {"PATH": "/usr/bin:/bin", "PROVISTA_APP_DB": url, "HOME": str(tmp_path), "COLUMNS": "200"}
    bad = subprocess.run([sys.executable, "-m", "provista", "audit", "verify", "--anchors", str(anchors)],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)  # fmt: skip
    assert bad.returncode == 1 and "row 1: its content was changed" in bad.stderr, bad.stderr


def test_an_empi_correction_is_recorded(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from provista.cli import app

    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    with DuckDBEngine(copy, read_only=True) as eng:
        a, b = eng.frame("SELECT record_key_l, record_key_r FROM link_pair LIMIT 1").iloc[0]
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    monkeypatch.setenv("PROVISTA_APP_DB", url)
    args = ["--by", "dr.wang", "--reason", "father and son", "--warehouse", str(copy)]
    done = CliRunner().invoke(app, ["empi", "split", a, b, *args])
    assert done.exit_code == 0, done.output
    _, events = audit.search(AppState(url), action="empi.")
    assert len(events) == 1 and events[0].action == "empi.split" and events[0].target == f"{a} {b}"
    assert "father and son" in events[0].detail and events[0].username.startswith("cli:")


def test_demo_passwords_are_kept_and_the_seed_is_recorded(sec_db: str) -> None:
    state = AppState(sec_db)
    for user in ("admin", "hangzhou", "ningbo_hospital", "public"):
        assert state.verify_password(user, PASSWORDS[user])
    _, seeded = audit.search(state, action="user.seed")
    assert {e.target for e in seeded} >= {"admin", "hangzhou", "ningbo_hospital", "public"}
