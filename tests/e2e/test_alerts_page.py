"""The alert inbox in a real Chromium: filter, open a signal's chart, start investigating with a note, the
history, English labels, a CSV, and no console error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.test_dashboard import log_in, page  # noqa: F401  (the page fixture)


def _option(tab: Any) -> Any:
    return tab.evaluate("() => echarts.getInstanceByDom(document.getElementById('alerts-chart')).getOption()")


def test_the_alert_inbox(page: Any, server: str, tmp_path: Path) -> None:  # noqa: F811
    log_in(page, server, "hangzhou", "provista-hangzhou-demo")
    page.goto(server + "/#/alerts?source=surveillance&status=new")
    page.wait_for_selector("#alerts-table tbody tr.alerts-row")
    assert page.locator("#nav a.active").inner_text() == "预警信息"
    rows = page.locator("#alerts-table tbody tr.alerts-row")
    assert 0 < rows.count() <= 25
    assert page.locator("#alerts-table tbody tr .badge.status-new").count() == rows.count()
    ids = page.eval_on_selector_all("#alerts-table tbody tr", "trs => trs.map((tr) => tr.dataset.id)")
    assert len(set(ids)) == rows.count()

    rows.first.click()
    page.wait_for_function("location.hash.includes('alert=')")
    page.wait_for_selector("#alerts-chart canvas")
    option = _option(page)
    names = [s["name"] for s in option["series"]]
    assert "阈值" in names and "预警信号" in names
    assert option["series"][-1]["data"], "the signal's alarm periods are marked"
    assert "markArea" in next(s for s in option["series"] if s.get("markArea"))

    page.fill("#alerts-note", "与区疾控联系核实")
    page.click("#alerts-status-buttons button[data-status=investigating]")
    page.wait_for_selector("#alerts-status-buttons button[data-status=confirmed]")
    history = page.locator("#alerts-history li")
    assert history.count() == 1 and "与区疾控联系核实" in history.first.inner_text()
    assert "核实中" in page.locator("#alerts-detail-meta").inner_text()

    with page.expect_download() as download:
        page.click("#alerts-csv")
    saved = tmp_path / "alerts.csv"
    download.value.save_as(saved)
    assert saved.read_text(encoding="utf-8-sig").startswith("alert_id,source,rule,county_code")

    page.click("#lang")
    page.wait_for_function("document.querySelector('#nav a.active')?.textContent === 'Alerts'")
    page.wait_for_selector("#alerts-chart canvas")
    assert (
        page.locator("#alerts-status-buttons button[data-status=confirmed]").inner_text()
        == "Confirm outbreak"
    )
    assert "Threshold" in [s["name"] for s in _option(page)["series"]]
    assert not page.errors and not page.foreign
