"""Every page in headless Chromium over the real dashboard process: drawn, with data, no errors.

Console errors include the CSP's refusals: an inline script or a script from
elsewhere would fail these tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.web.conftest import ServedDashboard, StoredRuns, serve_dashboard

# A function, not an expression: Playwright polls an expression with eval, which the CSP refuses.
CHARTS_DRAWN = (
    "() => Array.from(document.querySelectorAll('div.chart')).length > 0 && "
    "Array.from(document.querySelectorAll('div.chart'))"
    ".every(div => div.data !== undefined && div._fullLayout !== undefined)"
)
# The y values of the shown traces of a chart, flattened, nulls dropped.
SHOWN_VALUES = (
    "id => document.getElementById(id).data"
    ".filter(t => t.visible !== false).flatMap(t => Array.from(t.y || [])).filter(v => v !== null)"
)
TOKEN = "browser-test-token-0123456789"


def test_the_runs_page(page: Page, page_errors: list[str], served: ServedDashboard) -> None:
    page.goto(served.url + "/runs")
    assert page.locator("#run-table tbody tr").count() == 3
    page.select_option("select[name=status]", "completed")
    page.fill("input[name=q]", "strict")
    page.click("#run-filter button")
    page.wait_for_url("**/runs?*q=strict*")
    assert page.locator("#run-table tbody tr").count() == 1
    assert page_errors == []


def test_a_run_page_draws_its_charts_with_data(
    page: Page, page_errors: list[str], served: ServedDashboard, stored_runs: StoredRuns
) -> None:
    page.goto(f"{served.url}/runs/{stored_runs.browse_ids[0]}")
    page.wait_for_function(CHARTS_DRAWN)
    for chart_id in ("chart-throughput", "chart-latency", "chart-distribution"):
        values = page.evaluate(SHOWN_VALUES, chart_id)
        assert values and max(values) > 0, chart_id
    # The endpoint selector (report.js) works on the dashboard as in the file.
    page.select_option("#endpoint-select", "GET /v1/products")
    shown = page.evaluate(
        "document.getElementById('chart-latency').data"
        ".filter(t => t.visible === true).map(t => t.meta)"
    )
    assert set(shown) == {"GET /v1/products"}
    assert page_errors == []


def test_a_comparison_draws_its_curves(
    page: Page, page_errors: list[str], served: ServedDashboard, stored_runs: StoredRuns
) -> None:
    page.goto(served.url + "/compare")
    page.fill("input[name=candidate]", str(stored_runs.browse_ids[1]))
    page.click("#compare-form button")
    page.wait_for_function(CHARTS_DRAWN)
    assert page.locator("#comparison-conclusion").inner_text()
    assert page.locator("#comparison-table tbody tr").count() > 0
    assert page_errors == []


@pytest.fixture
def guarded(stored_runs: StoredRuns) -> Iterator[ServedDashboard]:
    yield from serve_dashboard(stored_runs.db_url, "--token", TOKEN)


def test_a_browser_logs_in_with_the_token(
    page: Page, page_errors: list[str], guarded: ServedDashboard, stored_runs: StoredRuns
) -> None:
    page.goto(f"{guarded.url}/runs/{stored_runs.strict_id}")
    page.wait_for_url("**/login?next=*")
    page.fill("input[name=token]", "wrong-token-wrong-token")
    page.click("form button")
    assert page.locator("#login-error").inner_text() == "that token is wrong"
    page.fill("input[name=token]", TOKEN)
    page.click("form button")
    page.wait_for_url(f"**/runs/{stored_runs.strict_id}")
    page.wait_for_function(CHARTS_DRAWN)
    # A failed login is a 401 answer, which Chromium logs as a console error; nothing else.
    assert [e for e in page_errors if "401" not in e] == []
