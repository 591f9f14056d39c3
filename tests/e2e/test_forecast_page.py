"""The bed-forecast page in a real Chromium: chart with interval bands, the backtest table and its verdict,
a department chosen through the URL, a CSV, both languages, no errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.test_dashboard import log_in, page  # noqa: F401  (the page fixture)

READY = "document.querySelector('#fc-chart canvas') && document.querySelector('#fc-verdict').textContent"


def _option(tab: Any) -> Any:
    return tab.evaluate("() => echarts.getInstanceByDom(document.getElementById('fc-chart')).getOption()")


def test_the_forecast_page(page: Any, server: str, tmp_path: Path) -> None:  # noqa: F811
    log_in(page, server, "hangzhou", "provista-hangzhou-demo")
    page.goto(server + "/#/forecast?horizon=14")
    page.wait_for_function(READY)
    assert page.locator("#nav a.active").inner_text() == "床位预测"
    hospitals = page.eval_on_selector_all("#fc-hospital option", "els => els.map((e) => e.value)")
    assert hospitals and all(h[1:5] == "3301" for h in hospitals)  # the city analyst's scope
    assert page.locator("#fc-table tbody tr").count() == 4  # 1–7 … 22–28 days ahead
    verdict = page.locator("#fc-verdict").inner_text()
    assert "没有胜过基线" in verdict or "都胜过基线" in verdict
    option = _option(page)
    names = [s["name"] for s in option["series"]]
    assert {"80% 预测区间", "95% 预测区间", "午夜占用床位数", "预测（中位数）"} <= set(names)
    forecast = next(s for s in option["series"] if s["name"] == "预测（中位数）")
    assert len(forecast["data"]) == 14
    census = next(s for s in option["series"] if s["name"] == "午夜占用床位数")
    assert census["markLine"]["data"][0]["yAxis"] >= 0  # the open beds

    department = page.eval_on_selector_all("#fc-department option", "els => els.map((e) => e.value)")[1]
    page.select_option("#fc-department", department)
    page.wait_for_function(f"location.hash.includes('department={department}')")
    page.wait_for_function(READY)
    assert page.locator("#fc-title").inner_text().count("·") == 2  # hospital · department · title

    with page.expect_download() as download:
        page.click("#fc-csv")
    saved = tmp_path / "forecast.csv"
    download.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "date,kind,horizon,occupied_beds,lo80,hi80,lo95,hi95" and len(lines) == 1 + 56 + 14

    page.click("#lang")
    page.wait_for_function("document.querySelector('#nav a.active')?.textContent === 'Bed forecast'")
    page.wait_for_function(READY)
    assert "baseline" in page.locator("#fc-verdict").inner_text()
    assert not page.errors and not page.foreign
