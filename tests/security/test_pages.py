"""The account, admin and audit pages in Debian's Chromium under the real CSP: an admin creates and changes
an account, finds it in the audit log and exports it; the pages send their CSRF token; a locked account
reads when to try again; a city analyst sees neither page; log out everywhere ends the session."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provista.web.headless import log_in


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def test_an_admin_manages_an_account_and_finds_it_in_the_audit_log(
    page: Any, server: str, tmp_path: Path
) -> None:
    user = f"e2e_{secrets.token_hex(3)}"
    log_in(page, server)
    assert page.locator("#nav a[href='#/admin']").is_visible()
    page.goto(server + "/#/admin")
    page.wait_for_selector("#admin-users tbody tr")
    form = page.locator("#admin-create")
    form.locator("input[name=username]").fill(user)
    form.locator("input[name=password]").fill("an-e2e-passphrase-1")
    form.locator("select[name=role]").select_option("researcher")
    form.locator("button[type=submit]").click()
    row = page.locator(f"#admin-users tr[data-user='{user}']")
    row.wait_for()
    assert user in page.locator("#admin-status").inner_text()
    row.locator("select").first.select_option("analyst")
    row.locator("button.save").click()
    page.wait_for_selector("#admin-status:has-text('已保存')")  # selectors: the real CSP forbids eval
    row = page.locator(f"#admin-users tr[data-user='{user}']")
    assert row.locator("select").first.input_value() == "analyst"

    page.goto(server + f"/#/audit?user=admin&action=user.&target={user}")
    page.wait_for_selector("#audit-events tbody tr")
    actions = page.locator("#audit-events tbody tr td:nth-child(4)").all_inner_texts()
    assert actions == ["user.change", "user.create"]
    with page.expect_download() as download:
        page.click("#audit-csv")
    saved = tmp_path / "audit.csv"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert text.startswith("seq,at,username,role,action,target") and text.count(user) == 2
    assert not page.errors, page.errors

    page.click("#logout")  # a POST: it needs the CSRF token the page sends
    page.wait_for_selector("#login")
    for _ in range(6):
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", "not-the-passphrase")
        page.click("#login button[type=submit]")
        page.wait_for_timeout(300)
    page.wait_for_selector("#login-error:has-text('15')")
    assert "分钟后再试" in page.locator("#login-error").inner_text()


def test_a_city_analyst_sees_no_admin_page_and_logs_out_everywhere(page: Any, server: str) -> None:
    log_in(page, server, "hangzhou", "provista-hangzhou-demo")
    assert not page.locator("#nav a[href='#/admin']").is_visible()
    assert not page.locator("#nav a[href='#/audit']").is_visible()
    page.goto(server + "/#/admin")
    page.wait_for_selector("#main p.error")
    assert "analyst" in page.locator("#main p.error").inner_text()
    page.goto(server + "/#/account")
    page.wait_for_selector("#account-everywhere")
    assert "hangzhou" in page.locator("#account-who").inner_text()
    page.click("#account-everywhere")
    page.wait_for_selector("#login")
    status = page.evaluate("fetch('/api/auth/me').then(r => r.status)")
    assert status == 401
