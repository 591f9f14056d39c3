"""Screenshots of every page of the dashboard, in both languages, for docs/ and the README.

    python scripts/screenshots.py --warehouse FILE [--out docs/screenshots]

Serves the warehouse (uvicorn on loopback, demo accounts in a temporary app database), logs in as the
province-wide demo user in Debian's Chromium and saves ``<page>-<lang>.png`` for every page the navigation
bar links to, once every chart on it has drawn.
"""

from __future__ import annotations

import argparse
import re
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from provista.api.app import STATIC, create_app
from provista.api.serve import seed_demo_users
from provista.api.state import AppState
from provista.web.headless import launch, log_in

# Settled: no request in flight, no placeholder ("加载中…", "正在进行时空扫描…") left, every chart made.
SETTLED = (
    "![...document.querySelectorAll('main *')].some(el => el.children.length === 0 "
    "&& /…\\s*$/.test(el.textContent)) && "
    "[...document.querySelectorAll('main [_echarts_instance_]')].every(el => echarts.getInstanceByDom(el))"
)


def pages() -> list[str]:
    """The pages the navigation bar links to, in its order."""
    return re.findall(r'href="#/([a-z]+)"', (STATIC / "index.html").read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app_db = f"sqlite:///{Path(tempfile.mkdtemp()) / 'app.sqlite'}"
    seed_demo_users(AppState(app_db), args.warehouse)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(args.warehouse, app_db), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.1)
    url = f"http://127.0.0.1:{port}"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True)
        page = context.new_page()
        log_in(page, url)
        for lang in ("zh-CN", "en"):
            page.evaluate(f"localStorage.setItem('provista.lang', '{lang}')")
            for name in pages():
                page.goto(f"{url}/#/{name}")
                page.reload()
                page.wait_for_selector("#main > *:not(p)", timeout=60_000)
                page.wait_for_load_state("networkidle", timeout=120_000)
                page.wait_for_function(SETTLED, timeout=120_000)
                page.wait_for_timeout(1500)  # let the charts' entry animations finish
                target = args.out / f"{name}-{lang}.png"
                page.screenshot(path=str(target), full_page=True)
                print(target)
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
