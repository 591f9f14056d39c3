"""The map's month slider plays in place and leaves its month in the URL; trend filters drive the chart."""

from __future__ import annotations

from typing import Any

from tests.e2e.test_dashboard import log_in, page  # noqa: F401  (the page fixture)

MAP_VALUES = (
    "JSON.stringify(echarts.getInstanceByDom(document.querySelector('#map')).getOption().series[0].data)"
)


def test_the_month_slider_plays_and_the_trend_filters_apply(page: Any, server: str) -> None:  # noqa: F811
    log_in(page, server)
    page.goto(server + "/#/map?metric=admissions")
    page.wait_for_selector("#rank canvas")
    page.wait_for_function("Number(document.querySelector('#month').max) > 3")
    whole = page.evaluate(MAP_VALUES)
    page.click("#play")
    page.wait_for_function("/^\\d{4}-\\d{2}$/.test(document.querySelector('#month-label').textContent)")
    first = page.text_content("#month-label")
    page.wait_for_function(f"document.querySelector('#month-label').textContent !== '{first}'", timeout=8000)
    frame = page.evaluate(MAP_VALUES)
    assert frame != whole  # one month's admissions, not the whole period's
    page.click("#play")  # pause
    page.wait_for_function("location.hash.includes('month=')")
    shown = page.text_content("#month-label")
    assert f"month={shown}" in page.evaluate("location.hash")

    page.goto(server + "/#/trends?by=department&level=tertiary")
    page.wait_for_selector("#trend canvas")
    page.wait_for_function(
        "echarts.getInstanceByDom(document.querySelector('#trend')).getOption().series.length > 3"
    )
    names = page.evaluate(
        "echarts.getInstanceByDom(document.querySelector('#trend')).getOption().series.map(s => s.name)"
    )
    assert "呼吸内科" in names  # departments by name, in the page's language
    page.select_option("#type", "inpatient")
    page.wait_for_function("location.hash.includes('type=inpatient')")
    page.wait_for_function("document.querySelector('#type')?.value === 'inpatient'")
    assert page.input_value("#level") == "tertiary"  # the other filters stay
    assert not page.errors and not page.foreign
