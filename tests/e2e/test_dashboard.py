"""Click through the dashboard in a real Chromium: log in, every page, the map drill-down, the language,
a PNG, log out — with no console error and no request that leaves localhost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from provista.web.headless import log_in


@pytest.fixture
def page(browser: Any, server: str) -> Any:
    # bypass_csp lets the test evaluate its own probes in the page (the pages' CSP forbids eval);
    # the pages under their real CSP are checked by the last test.
    context = browser.new_context(
        accept_downloads=True, viewport={"width": 1400, "height": 900}, bypass_csp=True
    )
    page = context.new_page()
    page.errors, page.foreign = [], []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: r.url.startswith(server) or page.foreign.append(r.url))
    yield page
    context.close()


def test_a_session_through_every_page(page: Any, server: str, tmp_path: Path) -> None:
    log_in(page, server)
    assert page.locator(".kpi").count() == 6
    assert page.locator("#nav a.active").inner_text() == "总览"  # Chinese by default

    # The map: click Hangzhou on the canvas; the URL, the breadcrumbs and the ranking follow.
    page.goto(server + "/#/map")
    page.wait_for_function("document.querySelector('#rank canvas') !== null")
    page.wait_for_timeout(800)
    box = page.locator("#map").bounding_box()
    xy = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('map'))"
        ".convertToPixel({seriesIndex: 0}, [120.05, 29.95])"
    )
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    page.wait_for_function("location.hash.includes('city=330100')")
    page.wait_for_function("document.querySelectorAll('#crumbs a').length === 2")
    names = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('rank')).getOption().yAxis[0].data"
    )
    assert "西湖区" in names and "宁波市" not in names  # the charts now show Hangzhou's counties

    # The same view from a bookmark, then in English.
    page.goto(server + "/#/map?city=330100&metric=incidence")
    page.wait_for_function("document.querySelectorAll('#crumbs a').length === 2")
    page.click("#lang")
    page.wait_for_function("document.querySelector('#nav a').textContent === 'Overview'")
    page.wait_for_selector("#png:has-text('Save image')")  # the page itself redrawn in English
    page.wait_for_selector("#map canvas")
    assert page.locator("#metric option:checked").inner_text().startswith("Notifiable-disease incidence")

    # A chart saved as PNG, a table as CSV.
    with page.expect_download() as png:
        page.click("#png")
    assert png.value.suggested_filename.endswith(".png")
    target = tmp_path / "map.png"
    png.value.save_as(target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for route in ("#/trends", "#/heatmap", "#/quality", "#/bigscreen"):
        page.goto(server + "/" + route)
        page.wait_for_function("document.querySelector('main canvas, main table, .kpi') !== null")
    with page.expect_download() as csv:
        page.goto(server + "/#/quality")
        page.wait_for_selector("tbody tr")
        page.click("#csv")
    assert csv.value.suggested_filename == "provista-quality.csv"

    page.click("#logout")
    page.wait_for_selector("#login")
    assert page.errors == []
    assert page.foreign == []


def test_under_the_real_csp_a_city_user_cannot_drill_into_another_city(browser: Any, server: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    log_in(page, server, "hangzhou", "provista-hangzhou-demo")
    page.goto(server + "/#/map")
    page.wait_for_selector("#rank canvas")
    page.goto(server + "/#/map?city=330200")
    page.wait_for_selector("main .error")
    assert "outside your scope" in page.locator("main .error").inner_text()
    assert [e for e in errors if "403" not in e] == []  # no CSP violation, no script error
    context.close()
