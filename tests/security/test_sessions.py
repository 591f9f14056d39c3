"""Sessions and accounts: CSRF, log-in limits, the password policy, log out everywhere, disabled accounts,
the last admin, security headers and cookies, secrets from the environment or a file."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from provista.api.password_policy import password_problems
from provista.api.state import ACCOUNT_FAILURES, ADDRESS_FAILURES, DEMO_USERS, WINDOW
from provista.config import Settings
from tests.security.conftest import PASSWORDS, signin

# --- CSRF ---------------------------------------------------------------------------------------------


def test_a_change_without_the_csrf_token_is_refused(fresh_app: FastAPI) -> None:
    client = signin(fresh_app, "admin")
    token = client.headers.pop("X-CSRF-Token")
    body = {"username": "x_user", "password": "a-long-passphrase-3", "role": "public",
            "scope_kind": "province", "scope_code": "330000"}  # fmt: skip
    missing = client.post("/api/admin/users", json=body)
    assert missing.status_code == 403 and "X-CSRF-Token" in missing.json()["detail"]
    wrong = client.post("/api/admin/users", json=body, headers={"X-CSRF-Token": token[:-2] + "xx"})
    assert wrong.status_code == 403
    other = signin(fresh_app, "admin")  # another session's token is not this session's
    crossed = client.post(
        "/api/admin/users", json=body, headers={"X-CSRF-Token": other.headers["X-CSRF-Token"]}
    )
    assert crossed.status_code == 403
    assert client.get("/api/admin/users").status_code == 200  # reading needs no token
    assert client.post("/api/admin/users", json=body, headers={"X-CSRF-Token": token}).status_code == 201


def test_a_request_from_another_site_is_refused(fresh_app: FastAPI) -> None:
    client = signin(fresh_app, "admin")
    r = client.post("/api/auth/logout-everywhere", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "another site" in r.json()["detail"]
    assert client.get("/api/auth/me").status_code == 200  # the session survived
    same = client.post("/api/auth/logout-everywhere", headers={"Origin": "http://testserver"})
    assert same.status_code == 200


def test_without_a_session_a_change_is_401_not_403(fresh_app: FastAPI) -> None:
    r = TestClient(fresh_app).post("/api/admin/users", json={})
    assert r.status_code == 401


# --- log-in limits ------------------------------------------------------------------------------------


def test_an_account_is_locked_after_repeated_failures(app_on_each_db: FastAPI) -> None:
    client = TestClient(app_on_each_db)
    for _ in range(ACCOUNT_FAILURES):
        r = client.post("/api/auth/login", json={"username": "hangzhou", "password": "wrong-password-x"})
        assert r.status_code == 401
    locked = client.post("/api/auth/login", json={"username": "hangzhou", "password": PASSWORDS["hangzhou"]})
    assert locked.status_code == 429  # even the right password, while locked
    assert "too many failed log-ins for this account" in locked.json()["detail"]
    assert "try again in 15 minute(s)" in locked.json()["detail"]
    wait = int(locked.headers["Retry-After"])
    assert WINDOW.total_seconds() - 60 < wait <= WINDOW.total_seconds() + 1
    assert signin(app_on_each_db, "public").get("/api/auth/me").status_code == 200  # others log in
    # The failures age out of the window: the account opens again.
    with app_on_each_db.state.app_state.engine.begin() as c:
        c.execute(text("UPDATE login_attempts SET at = :t"), {"t": dt.datetime(2000, 1, 1)})
    assert signin(app_on_each_db, "hangzhou").get("/api/auth/me").status_code == 200


def test_an_unknown_account_is_locked_the_same_way(fresh_app: FastAPI) -> None:
    """No difference in answers tells an attacker which accounts exist."""
    client = TestClient(fresh_app)
    answers = [client.post("/api/auth/login", json={"username": "nobody", "password": "wrong-password-x"})
               for _ in range(ACCOUNT_FAILURES + 1)]  # fmt: skip
    assert [a.status_code for a in answers] == [401] * ACCOUNT_FAILURES + [429]


def test_an_address_is_limited_across_accounts(fresh_app: FastAPI) -> None:
    attacker = TestClient(fresh_app, client=("203.0.113.7", 40000))
    for i in range(ADDRESS_FAILURES):
        r = attacker.post("/api/auth/login", json={"username": f"guess{i}", "password": "wrong-password-x"})
        assert r.status_code == 401, i
    r = attacker.post("/api/auth/login", json={"username": "public", "password": PASSWORDS["public"]})
    assert r.status_code == 429 and "from your address" in r.json()["detail"] and "Retry-After" in r.headers
    elsewhere = TestClient(fresh_app, client=("198.51.100.2", 40000))
    ok = elsewhere.post("/api/auth/login", json={"username": "public", "password": PASSWORDS["public"]})
    assert ok.status_code == 200


# --- accounts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "username", "problem"),
    [
        ("short-one", "li", "at least 12"),
        ("zhang.wei.88", "zhang.wei.88", "user name"),
        ("88.iew.gnahz", "zhang.wei.88", "user name"),
        ("Password1234", "li", "most common"),
        ("1qaz2wsx3edc", "li", "most common"),
        ("aaaaaaaaaaaaaaaa", "li", "fewer than 5"),
        ("x" * 300, "li", "more than 256"),
    ],
)
def test_the_password_policy_refuses(password: str, username: str, problem: str) -> None:
    assert any(problem in p for p in password_problems(password, username))


def test_the_demo_passwords_satisfy_the_policy() -> None:
    for username, password, *_ in DEMO_USERS:
        assert password_problems(password, username) == [], username
    assert password_problems("correct horse battery staple", "li") == []


def test_the_admin_api_applies_the_policy_and_checks_scopes(fresh_app: FastAPI) -> None:
    admin = signin(fresh_app, "admin")
    base = {"username": "li.na", "role": "analyst", "scope_kind": "city", "scope_code": "330200"}
    weak = admin.post("/api/admin/users", json={**base, "password": "password1234"})
    assert weak.status_code == 422 and "most common" in weak.json()["detail"]
    nowhere = admin.post(
        "/api/admin/users", json={**base, "password": "a-long-passphrase-4", "scope_code": "339900"}
    )
    assert nowhere.status_code == 422 and "no city 339900" in nowhere.json()["detail"]
    bad_role = admin.post(
        "/api/admin/users", json={**base, "password": "a-long-passphrase-4", "role": "root"}
    )
    assert bad_role.status_code == 422 and "unknown role" in bad_role.json()["detail"]
    assert admin.post("/api/admin/users", json={**base, "password": "a-long-passphrase-4"}).status_code == 201
    again = admin.post("/api/admin/users", json={**base, "password": "a-long-passphrase-4"})
    assert again.status_code == 409
    listed = {u["username"]: u for u in admin.get("/api/admin/users").json()["users"]}
    assert listed["li.na"]["scope_code"] == "330200" and "password_hash" not in listed["li.na"]


def test_a_role_change_applies_at_the_next_request(app_on_each_db: FastAPI) -> None:
    admin = signin(app_on_each_db, "admin")
    user = signin(app_on_each_db, "hangzhou")
    assert user.get("/api/quality/hospitals").status_code == 200
    public = {"role": "public", "scope_kind": "province", "scope_code": "330000"}
    assert admin.patch("/api/admin/users/hangzhou", json=public).status_code == 200
    assert user.get("/api/quality/hospitals").status_code == 403


def test_a_disabled_account_loses_its_sessions_and_cannot_log_in(app_on_each_db: FastAPI) -> None:
    admin = signin(app_on_each_db, "admin")
    user = signin(app_on_each_db, "hangzhou")
    assert admin.patch("/api/admin/users/hangzhou", json={"disabled": True}).json()["disabled"] is True
    assert user.get("/api/auth/me").status_code == 401
    again = TestClient(app_on_each_db).post(
        "/api/auth/login", json={"username": "hangzhou", "password": PASSWORDS["hangzhou"]}
    )
    assert again.status_code == 401 and again.json()["detail"] == "wrong user name or password"
    admin.patch("/api/admin/users/hangzhou", json={"disabled": False})
    assert signin(app_on_each_db, "hangzhou").get("/api/auth/me").status_code == 200


def test_the_last_admin_cannot_be_disabled_or_demoted(app_on_each_db: FastAPI) -> None:
    admin = signin(app_on_each_db, "admin")
    for change in ({"disabled": True}, {"role": "analyst"}):
        r = admin.patch("/api/admin/users/admin", json=change)
        assert r.status_code == 422 and "last enabled admin" in r.json()["detail"]


def test_an_admin_reset_ends_the_users_sessions(fresh_app: FastAPI) -> None:
    admin = signin(fresh_app, "admin")
    user = signin(fresh_app, "public")
    assert (
        admin.post("/api/admin/users/public/password", json={"password": "new-public-passphrase"}).status_code
        == 204
    )
    assert user.get("/api/auth/me").status_code == 401
    assert signin(fresh_app, "public", "new-public-passphrase").get("/api/auth/me").status_code == 200


def test_changing_my_password_keeps_this_session_and_ends_the_others(app_on_each_db: FastAPI) -> None:
    here, there = signin(app_on_each_db, "public"), signin(app_on_each_db, "public")
    wrong = here.post("/api/auth/password", json={"current": "not-it-at-all", "new": "a-new-passphrase-5"})
    assert wrong.status_code == 403
    weak = here.post("/api/auth/password", json={"current": PASSWORDS["public"], "new": "public"})
    assert weak.status_code == 422 and "at least 12" in weak.json()["detail"]
    ok = here.post("/api/auth/password", json={"current": PASSWORDS["public"], "new": "a-new-passphrase-5"})
    assert ok.status_code == 204
    assert here.get("/api/auth/me").status_code == 200 and there.get("/api/auth/me").status_code == 401


def test_log_out_everywhere_ends_every_session(app_on_each_db: FastAPI) -> None:
    laptop, phone = signin(app_on_each_db, "hangzhou"), signin(app_on_each_db, "hangzhou")
    other = signin(app_on_each_db, "public")
    r = phone.post("/api/auth/logout-everywhere")
    assert r.status_code == 200 and r.json() == {"sessions_ended": 2}
    assert laptop.get("/api/auth/me").status_code == 401 and phone.get("/api/auth/me").status_code == 401
    assert other.get("/api/auth/me").status_code == 200


# --- headers, cookies, secrets -----------------------------------------------------------------------


def test_security_headers_on_pages_api_and_refusals(fresh_app: FastAPI) -> None:
    anonymous, admin = TestClient(fresh_app), signin(fresh_app, "admin")
    answers = [anonymous.get("/"), anonymous.get("/static/js/app.js"), anonymous.get("/api/overview/kpis"),
               admin.get("/api/overview/kpis"), signin(fresh_app, "public").get("/api/quality/hospitals"),
               admin.post("/api/auth/logout-everywhere", headers={"X-CSRF-Token": "forged"})]  # fmt: skip
    assert [a.status_code for a in answers] == [200, 200, 401, 200, 403, 403]
    for a in answers:
        csp = a.headers["Content-Security-Policy"]
        script = re.search(r"script-src ([^;]+)", csp)
        assert script and script.group(1).strip() == "'self'", csp  # no unsafe-inline, no CDN
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
        assert a.headers["X-Content-Type-Options"] == "nosniff"
        assert a.headers["X-Frame-Options"] == "DENY"
        assert a.headers["Referrer-Policy"] == "same-origin"


def test_session_cookies_are_httponly_strict_and_secure_over_https(fresh_app: FastAPI) -> None:
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        r = TestClient(fresh_app, base_url=base).post(
            "/api/auth/login", json={"username": "public", "password": PASSWORDS["public"]}
        )
        cookies = {c.split("=", 1)[0]: c.lower() for c in r.headers.get_list("set-cookie")}
        assert "httponly" in cookies["provista_session"] and "samesite=strict" in cookies["provista_session"]
        assert "httponly" not in cookies["provista_csrf"] and "samesite=strict" in cookies["provista_csrf"]
        assert all(("; secure" in c) == secure for c in cookies.values())
        assert ("Strict-Transport-Security" in r.headers) == secure


def test_secrets_come_from_the_environment_or_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting has a secret for default; the key is a file, the database URL an environment value."""
    for name, field in Settings.model_fields.items():
        if re.search(r"key|secret|password|token|db", name):
            assert field.default is None, f"{name} has a default: {field.default!r}"
    monkeypatch.setenv("PROVISTA_APP_DB", "postgresql://provista:from-the-environment@db/provista")
    monkeypatch.setenv("PROVISTA_PSEUDONYM_KEY_FILE", str(tmp_path / "pseudonym.key"))
    settings = Settings(_env_file=None)
    assert settings.app_db_url.endswith("from-the-environment@db/provista")
    assert settings.key_file == tmp_path / "pseudonym.key"
    source = Path(__file__).resolve().parents[2] / "src" / "provista"
    hard_coded = [
        f"{p.relative_to(source)}:{n}"
        for p in source.rglob("*.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"(password|secret|token|api_key)\s*=\s*[\"'][^\"']{6,}[\"']", line, re.IGNORECASE)
    ]
    assert not hard_coded, hard_coded


def test_an_app_state_from_before_this_version_is_upgraded(tmp_path: Path) -> None:
    """Users keep their accounts; sessions made before CSRF tokens existed end (their users log in again)."""
    import sqlite3

    from provista.api.state import AppState

    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        """CREATE TABLE users (username VARCHAR(64) PRIMARY KEY, password_hash VARCHAR(200), role VARCHAR(16),
               scope_kind VARCHAR(16), scope_code VARCHAR(32), created_at DATETIME);
           CREATE TABLE sessions (token_hash VARCHAR(64) PRIMARY KEY, username VARCHAR(64),
               expires_at DATETIME);
           INSERT INTO users VALUES ('old_user', 'not-a-hash', 'analyst', 'city', '330100', '2024-01-01');
           INSERT INTO sessions VALUES ('abc', 'old_user', '2999-01-01');"""
    )
    con.close()
    state = AppState(f"sqlite:///{path}")
    (account,) = state.accounts()
    assert (account.username, account.disabled, account.sessions) == ("old_user", False, 0)
    state.set_password("old_user", "a-fresh-passphrase-6")
    assert state.login("old_user", "a-fresh-passphrase-6", 1.0) is not None
