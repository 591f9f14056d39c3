"""The surveillance dashboard in a real Chromium: every chart drawn, the week slider played, a cluster row
sending the map to its week, the inbox links, English, and the public's view — no console error, no
request off localhost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

FLU = "流行性感冒"


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    page = context.new_page()
    page.errors, page.foreign = [], []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: r.url.startswith(server) or page.foreign.append(r.url))
    yield page
    context.close()


def log_in(page: Any, server: str, user: str, password: str) -> None:
    page.goto(server + "/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#logout:not([hidden])")


def chart_option(page: Any, element: str) -> Any:
    return page.evaluate(f"() => echarts.getInstanceByDom(document.getElementById('{element}')).getOption()")


def test_the_surveillance_dashboard(page: Any, server: str) -> None:
    log_in(page, server, "admin", "provista-admin-demo")
    page.click("#nav a[href='#/surveillance']")
    page.wait_for_selector("#surv-map canvas")
    assert page.locator("#surv-disease option:checked").inner_text() == FLU  # most cases first
    for element in ("surv-curve", "surv-heat", "surv-flows"):
        page.wait_for_selector(f"#{element} canvas")
    heat = chart_option(page, "surv-heat")
    assert heat["yAxis"][0]["data"][0] == FLU
    sankey = chart_option(page, "surv-flows")["series"][0]
    assert sankey["links"] and all(link["source"][1:] != link["target"][1:] for link in sankey["links"])

    # The slider shows the last week first; play steps through the weeks, pause keeps the week in the URL.
    label = page.locator("#surv-week-label")
    last = page.evaluate("() => Number(document.getElementById('surv-week').max)")
    assert page.evaluate("() => Number(document.getElementById('surv-week').value)") == last
    page.click("#surv-play")  # from the end, play starts again at the first week
    page.wait_for_function("Number(document.getElementById('surv-week').value) >= 2")
    page.click("#surv-play")
    shown = label.inner_text().split(" · ")[0]
    page.wait_for_function(f"location.hash.includes('week={shown}')")
    data = chart_option(page, "surv-map")["series"][0]["data"]
    assert len(data) == 90 and all(d["value"] is None or d["value"] >= 0 for d in data)

    # Clusters arrive after the scan; a row sends the map to the cluster's first week.
    page.wait_for_selector("#surv-clusters tr.alerts-row", timeout=180_000)
    assert "p < 0.05" in page.locator("#surv-clusters-note").inner_text()
    first = page.locator("#surv-clusters tr.alerts-row").first
    start = first.locator("td").nth(2).inner_text().split(" – ")[0]
    first.click()
    page.wait_for_function(f"document.getElementById('surv-week-label').textContent.startsWith('{start}')")
    scatter = chart_option(page, "surv-clusters-map")["series"][0]["data"]
    assert scatter and scatter[0]["name"] == "#1"

    # Transfers with their reasons (staff only), and the inbox links, if any signal exists.
    page.wait_for_selector("#surv-transfers table")
    assert page.locator("#surv-transfers-note").inner_text()
    links = page.locator("#surv-alerts a")
    if links.count():
        assert links.first.get_attribute("href").startswith("#/alerts?alert=")

    # A county chosen from the URL narrows the curve; the page in English.
    page.goto(server + f"/#/surveillance?disease={FLU}&county=330106")
    page.wait_for_selector("#surv-county a")
    assert "西湖区" in page.locator("#surv-curve-title").inner_text()
    page.click("#lang")
    page.wait_for_function(
        "document.querySelector('#nav a[href=\"#/surveillance\"]').textContent === 'Surveillance'"
    )
    page.wait_for_selector("#surv-play:has-text('Play')")
    page.wait_for_function("document.getElementById('surv-curve-title').textContent.includes('Influenza')")
    page.click("#lang")  # back to Chinese for the other tests
    page.wait_for_selector("#surv-play:has-text('播放')")
    assert page.errors == [] and page.foreign == []


def test_the_public_sees_aggregates_only(page: Any, server: str) -> None:
    log_in(page, server, "public", "provista-public-demo")
    assert page.locator("#nav a[href='#/surveillance']").is_visible()
    page.goto(server + "/#/surveillance?disease=麻疹")
    page.wait_for_selector("#surv-map canvas")
    page.wait_for_selector("#surv-clusters table", timeout=180_000)
    assert page.locator("#surv-staff, #surv-transfers, #surv-alerts").count() == 0  # no plan, no inbox
    values = [d["value"] for d in chart_option(page, "surv-map")["series"][0]["data"]]
    assert any(v is None for v in values) or all(v == 0 for v in values)  # small counts hidden
    assert page.errors == [] and page.foreign == []


def test_a_page_still_loading_does_not_overwrite_the_next_one(page: Any, server: str) -> None:
    """A user who leaves the overview before it has loaded gets the page they asked for: the overview's
    late answers once overwrote it ("Cannot read properties of null"), seen on a busy machine."""
    held: list[Any] = []
    page.route("**/api/overview/kpis*", lambda route: held.append(route))  # the overview waits
    page.goto(server + "/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "provista-admin-demo")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#logout:not([hidden])")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the overview did not ask for its figures"
    page.click("#nav a[href='#/surveillance']")
    page.wait_for_selector("#surv-map canvas")
    for route in held:  # now the overview's answers arrive
        route.continue_()
    page.wait_for_timeout(1500)
    assert page.locator("#surv-map canvas").count() == 1
    assert page.locator("#main p.error").count() == 0
