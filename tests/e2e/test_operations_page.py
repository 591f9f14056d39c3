"""The operations page in a real Chromium: every chart drawn, labels in both languages, a CSV, no errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.test_dashboard import log_in, page  # noqa: F401  (the page fixture)

CHARTS = ("ops-rank", "ops-trend", "ops-heat", "ops-equipment", "ops-gantt")


def _option(tab: Any, chart: str) -> Any:
    return tab.evaluate(f"() => echarts.getInstanceByDom(document.getElementById('{chart}')).getOption()")


def test_the_operations_page(page: Any, server: str, tmp_path: Path) -> None:  # noqa: F811
    log_in(page, server, "hangzhou", "provista-hangzhou-demo")
    page.goto(server + "/#/operations?indicator=average_length_of_stay&level=secondary")
    page.wait_for_function(
        "['" + "','".join(CHARTS) + "'].every((id) => document.querySelector('#' + id + ' canvas'))"
    )
    assert page.locator("#nav a.active").inner_text() == "医院运营"
    assert page.locator("#ops-table tbody tr").count() == 11  # one row per indicator definition
    assert page.locator("#ops-table tbody tr").first.inner_text().startswith("病床使用率")
    ranked = _option(page, "ops-rank")["yAxis"][0]["data"]
    assert ranked and all(". " in r for r in ranked)  # "rank. hospital"
    trend = _option(page, "ops-trend")
    assert [s["name"] for s in trend["series"]][1:3] == ["同级四分位间距", "同级中位数"]
    assert _option(page, "ops-gantt")["series"][0]["type"] == "custom"
    hospitals = page.eval_on_selector_all("#ops-hospital option", "els => els.map((e) => e.value)")
    assert hospitals and all(h[1:5] == "3301" for h in hospitals)  # the city analyst's scope

    with page.expect_download() as download:
        page.click("#ops-csv")
    saved = tmp_path / "ranking.csv"
    download.value.save_as(saved)
    assert saved.read_text(encoding="utf-8-sig").startswith("hospital_id,name,average_length_of_stay")

    page.click("#lang")
    page.wait_for_function("document.querySelector('#nav a.active')?.textContent === 'Operations'")
    page.wait_for_function("document.querySelector('#ops-gantt canvas') !== null")
    assert page.locator("#ops-table tbody tr").first.inner_text().startswith("Bed occupancy rate")
    assert not page.errors and not page.foreign
