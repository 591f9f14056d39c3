"""Driving the dashboard in Debian's Chromium (Playwright): the one launch recipe and login that the
browser tests, the benchmarks and the screenshot script share. Never `playwright install`: the browser is
the system's /usr/bin/chromium, which `make browser` installs."""

from __future__ import annotations

from typing import Any

CHROMIUM = "/usr/bin/chromium"
# Headless, and quiet on a closed network: no background fetches, no component updates, no sync.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def launch(playwright: Any) -> Any:
    """Debian's Chromium, headless."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def log_in(page: Any, url: str, user: str = "admin", password: str = "provista-admin-demo") -> None:
    """Log in through the page's own form and wait for the overview's KPI cards."""
    page.goto(url + "/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("#login button[type=submit]")
    page.wait_for_selector(".kpi .value")
