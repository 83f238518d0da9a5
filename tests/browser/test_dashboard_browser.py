"""The dashboard in a real browser: Chart.js draws every chart under the CSP, the tables hold the same numbers."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import shot
from tests.integration.test_dashboard_charts import company  # noqa: F401  (the fixture with known rows)

CHARTS = ("chart-offer-status", "chart-offer-value", "chart-tasks", "chart-invoices")


def _sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    # the charts come as a fragment after the page: wait until the last one is drawn
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-invoices'))")


def _watch(page: Any) -> list[str]:
    """Console errors, page errors and CSP violations, as they happen (the browser's own favicon probe aside)."""
    problems: list[str] = []

    def console(msg: Any) -> None:
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            problems.append(msg.text)

    page.on("console", console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error('CSP ' + e.violatedDirective));")
    return problems


def _chart_data(page: Any, canvas_id: str) -> list[list[float]]:
    return page.evaluate(
        "id => Chart.getChart(document.getElementById(id)).data.datasets.map(d => d.data)", canvas_id)


def test_owner_dashboard_draws_the_charts(page, company):  # noqa: F811
    info = company["info"]
    problems = _watch(page)
    _sign_in(page, info["email"], info["password"])
    for canvas_id in CHARTS:
        box = page.locator(f"#{canvas_id}").bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, canvas_id
        assert page.evaluate("id => !!Chart.getChart(document.getElementById(id))", canvas_id), canvas_id
    assert _chart_data(page, "chart-offer-status") == [[2, 1, 1, 0, 0]]
    assert _chart_data(page, "chart-tasks")[0][-4:] == [0, 1, 0, 1]
    assert _chart_data(page, "chart-tasks")[1][-4:] == [2, 0, 1, 0]
    assert _chart_data(page, "chart-invoices")[0][-2:] == [1, 2]
    # Polish number format of the value axis and tooltips
    assert page.evaluate("() => Chart.getChart(document.getElementById('chart-offer-value')).options.locale") == "pl-PL"
    shot(page, "dashboard-owner-1280")

    # the table fallback: closed by default, same numbers when opened
    table = page.locator("#table-tasks")
    assert not table.is_visible()
    page.click("#table-tasks >> xpath=ancestor::details/summary")
    assert table.is_visible()
    cells = page.locator("#table-tasks tbody tr").nth(7).locator("td").all_inner_texts()
    assert cells == ["1", "0"]  # this week: one done, none overdue
    assert page.locator("#table-offer-value tbody tr").last.locator("td").text_content() == "2\u00a0400,49"  # the closed table still holds it
    assert problems == []


def test_employee_dashboard_on_a_phone(page, company):  # noqa: F811
    emp = company["emp"]
    problems = _watch(page)
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, emp["email"], emp["password"])
    assert page.locator("#getting-started").count() == 0
    assert _chart_data(page, "chart-offer-status") == [[1, 1, 0, 0, 0]]
    shot(page, "dashboard-employee-390")
    for canvas_id in CHARTS:  # drawn, and no wider than its card (the phone menu itself is another matter)
        assert page.evaluate("id => !!Chart.getChart(document.getElementById(id))", canvas_id), canvas_id
        box = page.locator(f"#{canvas_id}").bounding_box()
        card = page.locator(f".crm-card:has(#{canvas_id})").bounding_box()
        assert box and card and box["width"] > 0 and box["x"] + box["width"] <= card["x"] + card["width"], canvas_id
    shot(page, "dashboard-employee-390")
    assert problems == []
