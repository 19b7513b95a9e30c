"""A comparison rendered: terminal, JSON, and HTML alone and in a run report, in Chromium."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page
from rich.console import Console

from loadgate.analysis.compare import compare_runs
from loadgate.analysis.compare_types import Comparison
from loadgate.model import EndpointSecond, RunInfo, RunStatus
from loadgate.report.compare_view import (
    comparison_section,
    comparison_to_dict,
    conclusion,
    print_comparison,
    write_comparison_html,
)
from loadgate.report.html import render_html
from loadgate.stats import summarize
from tests.analysis.test_compare import START_S, synthetic_run
from tests.builders import timeline_of

CHARTS_DRAWN = (
    "Array.from(document.querySelectorAll('div.chart'))"
    ".every(div => div.data !== undefined && div._fullLayout !== undefined)"
)


def run_info(run_id: int, name: str = "check<out>") -> RunInfo:
    started_at = datetime.fromtimestamp(START_S, tz=UTC)
    return RunInfo(
        run_id=run_id,
        name=name,
        script_path="compare_mix.py",
        script_text="",
        host="http://127.0.0.1:9",
        started_at=started_at,
        ended_at=started_at + timedelta(seconds=20),
        status=RunStatus.COMPLETED,
        status_reason="",
        settings={},
    )


@pytest.fixture(scope="module")
def runs() -> tuple[list[EndpointSecond], list[EndpointSecond]]:
    base = synthetic_run(1, endpoints={"GET /fast": 0.6, "GET /users": 2.0, "GET /<b>": 1.0})
    candidate = synthetic_run(
        2,
        endpoints={"GET /fast": 0.6, "GET /users": 2.0, "GET /new": 1.0},
        shift_ms={"GET /users": 20.0},
    )
    return base, candidate


@pytest.fixture(scope="module")
def comparison(runs: tuple[list[EndpointSecond], list[EndpointSecond]]) -> Comparison:
    return compare_runs(*runs)


def test_terminal_shows_every_metric_and_the_conclusion(comparison: Comparison) -> None:
    console = Console(record=True, width=200)
    print_comparison(comparison, run_info(1), run_info(2), console)
    text = console.export_text()
    assert "base     : run 1 check<out>" in text
    for heading in ("Base", "Candidate", "Change", "95% interval", "Verdict"):
        assert heading in text
    assert "+19." in text
    assert "added (candidate only" in text
    assert "removed (base only" in text
    assert text.rstrip().splitlines()[-1].startswith("regression: GET /users p50 +")


def test_conclusion_of_an_unchanged_comparison() -> None:
    same = compare_runs(synthetic_run(3), synthetic_run(4))
    assert conclusion(same) == "unchanged: no change beyond run-to-run noise"


def test_json_document(comparison: Comparison) -> None:
    document = json.loads(json.dumps(comparison_to_dict(comparison, run_info(1), run_info(2))))
    assert document["schema_version"] == 1
    assert document["verdict"] == "regression"
    presence = {e["name"]: e["presence"] for e in document["endpoints"]}
    assert presence == {"/<b>": "removed", "/fast": "both", "/new": "added", "/users": "both"}
    assert document["total"]["name"] == "Total"
    fast = next(e for e in document["endpoints"] if e["name"] == "/fast")
    assert fast["metrics"]["error_rate"]["unit"] == "ratio"
    assert fast["metrics"]["rps"]["verdict"] == "informational"
    assert document["method"]["confidence"] == 0.95


def test_html_page_draws_both_curves_offline(
    comparison: Comparison, tmp_path: Path, page: Page, page_errors: list[str]
) -> None:
    path = tmp_path / "compare.html"
    write_comparison_html(path, comparison, run_info(1), run_info(2))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_function(CHARTS_DRAWN)
    # Endpoints in both runs and the total: /fast, /users, Total.
    charts = page.eval_on_selector_all("div.chart", "divs => divs.map(d => d.data.length)")
    assert charts == [2, 2, 2]
    points = page.evaluate("document.querySelector('div.chart').data[1].y.length")
    assert points > 10
    verdicts = page.eval_on_selector_all(
        "tr[data-endpoint='GET /users'][data-metric^='p']",
        "rows => rows.map(r => r.dataset.verdict)",
    )
    assert verdicts == ["regression", "regression", "regression"]
    assert page.locator("#comparison-conclusion").get_attribute("data-verdict") == "regression"
    # Names from the store stay text.
    assert page.locator("h1").inner_text().startswith("Run 1 (check<out>)")
    assert page.locator("tr[data-endpoint='GET /<b>']").count() == 1
    embedded = json.loads(page.locator("#comparison-json").text_content() or "")
    assert embedded["verdict"] == "regression"
    assert page_errors == []
    assert [url for url in requests if not url.startswith("file:")] == []


def test_comparison_as_a_section_of_the_run_report(
    runs: tuple[list[EndpointSecond], list[EndpointSecond]],
    comparison: Comparison,
    tmp_path: Path,
    page: Page,
    page_errors: list[str],
) -> None:
    candidate = run_info(2)
    summary = summarize(candidate, runs[1], [])
    path = tmp_path / "report.html"
    section = comparison_section(comparison, run_info(1), candidate)
    timeline = timeline_of(candidate, runs[1], [])
    path.write_text(render_html(summary, timeline, extra_sections=[section]))
    page.goto(path.as_uri())
    page.wait_for_function(CHARTS_DRAWN)
    assert page.locator("#comparison h2").inner_text() == "Compared with run 1"
    assert page.locator("#comparison div.chart").count() == 3
    assert page.locator("#comparison-conclusion").get_attribute("data-verdict") == "regression"
    assert page_errors == []


def test_a_shared_change_gets_a_note() -> None:
    endpoints = {"GET /a": 10.0, "GET /b": 20.0}
    comparison = compare_runs(
        synthetic_run(5, endpoints=endpoints),
        synthetic_run(6, endpoints=endpoints, scale=dict.fromkeys(endpoints, 2.0)),
    )
    console = Console(record=True, width=200)
    print_comparison(comparison, run_info(1), run_info(2), console)
    assert "every endpoint's p50 moved by about +" in console.export_text()
    document = comparison_to_dict(comparison, run_info(1), run_info(2))
    assert document["common_p50_change"] == pytest.approx(1.0, abs=0.15)
