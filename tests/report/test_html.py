"""The HTML report of a stored run, rendered by the CLI and checked in headless Chromium."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route

from loadgate.errors import ExitCode
from loadgate.model import RunStatus
from loadgate.report.html import ENDPOINT_COLUMNS, format_number
from loadgate.stats.timeline import Timeline
from loadgate.store import RunStore
from tests.builders import timeline_of
from tests.report import synthetic_run

LOADGATE = Path(sys.executable).with_name("loadgate")
CHART_IDS = (
    "chart-users",
    "chart-throughput",
    "chart-latency",
    "chart-status",
    "chart-distribution",
)
PER_ENDPOINT_CHARTS = ("chart-throughput", "chart-latency", "chart-status")
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
CHARTS_DRAWN = (
    "Array.from(document.querySelectorAll('div.chart'))"
    ".every(div => div.data !== undefined && div._fullLayout !== undefined)"
)


@dataclass(frozen=True)
class StoredReport:
    """A run stored through RunStore, its HTML report written by the CLI, and the truth."""

    db_url: str
    run_id: int
    html_path: Path
    summary: dict[str, Any]
    timeline: Timeline


def loadgate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LOADGATE), *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def stored_report(tmp_path_factory: pytest.TempPathFactory) -> StoredReport:
    folder = tmp_path_factory.mktemp("report")
    db_url = f"sqlite:///{folder / 'runs.db'}"
    with RunStore.open(db_url) as store:
        store.create_run(synthetic_run.new_run("warm-up"))  # so the run of interest is not id 1
        run_id = store.create_run(synthetic_run.new_run())
        store.append(run_id, synthetic_run.endpoint_seconds(), synthetic_run.user_samples())
        store.finish_run(run_id, RunStatus.COMPLETED, synthetic_run.ENDED_AT)
        timeline = timeline_of(
            store.get_run(run_id),
            list(store.iter_endpoint_seconds(run_id)),
            store.user_samples(run_id),
        )
    html_path = folder / "out" / "report.html"
    result = loadgate("report", str(run_id), "-o", str(html_path), "--db", db_url)
    assert result.returncode == 0, result.stderr
    # The truth the table must equal: the JSON summary as `loadgate show` prints it.
    shown = loadgate("show", str(run_id), "--json", "--db", db_url)
    assert shown.returncode == 0, shown.stderr
    summary = json.loads(shown.stdout)
    assert summary["run_id"] == run_id
    return StoredReport(
        db_url=db_url, run_id=run_id, html_path=html_path, summary=summary, timeline=timeline
    )


@pytest.fixture
def offline_page(page: Page) -> Iterator[list[str]]:
    """Refuse every request that would leave the machine; yields the refused URLs."""
    refused: list[str] = []

    def guard(route: Route) -> None:
        if route.request.url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    yield refused


@pytest.fixture
def report_page(
    stored_report: StoredReport,
    page: Page,
    page_errors: list[str],
    page_requests: list[str],
    offline_page: list[str],
) -> Iterator[Page]:
    """The report open in Chromium; afterwards: no errors, no request off the machine."""
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(stored_report.html_path.as_uri())
    page.wait_for_function(CHARTS_DRAWN)
    yield page
    assert page_errors == []
    assert offline_page == []
    assert [url for url in page_requests if not url.startswith(LOCAL_SCHEMES)] == []
    assert dialogs == [], "something from the store ran as script"


def endpoint_labels(summary: dict[str, Any]) -> list[str]:
    return [f"{e['method']} {e['name']}" for e in summary["endpoints"]] + ["Total"]


def documents_by_label(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    documents = [*summary["endpoints"], summary["total"]]
    return dict(zip(endpoint_labels(summary), documents, strict=True))


def test_every_chart_has_plotted_data(report_page: Page) -> None:
    for chart_id in CHART_IDS:
        traces = report_page.evaluate(
            "id => document.getElementById(id).data.map(t => ({"
            "x: Array.from(t.x), y: Array.from(t.y), visible: t.visible}))",
            chart_id,
        )
        assert traces, chart_id
        for trace in traces:
            assert len(trace["x"]) == len(trace["y"]) > 0, chart_id
        shown = [t for t in traces if t["visible"] is not False]
        assert any(y is not None and y > 0 for t in shown for y in t["y"]), chart_id
        # Drawn, not just stored: the plot has SVG paths or bars on screen.
        assert report_page.locator(f"#{chart_id} g.trace path").count() > 0, chart_id


def test_charts_over_time_plot_the_timeline(report_page: Page, stored_report: StoredReport) -> None:
    users = report_page.evaluate("Array.from(document.getElementById('chart-users').data[0].y)")
    assert users == list(stored_report.timeline.users)
    total = stored_report.timeline.total
    p99 = report_page.evaluate(
        "Array.from(document.getElementById('chart-latency').data"
        ".find(t => t.meta === 'Total' && t.name === 'p99').y)"
    )
    assert p99 == list(total.p99_ms)
    health = next(e for e in stored_report.timeline.endpoints if e.name.startswith("/health"))
    health_p50 = report_page.evaluate(
        "label => Array.from(document.getElementById('chart-latency').data"
        ".find(t => t.meta === label && t.name === 'p50').y)",
        health.label,
    )
    assert health_p50 == list(health.p50_ms)
    assert health_p50[1] is None, "a second without requests must be a gap"


def test_endpoint_selector_switches_traces(report_page: Page, stored_report: StoredReport) -> None:
    def visible_endpoints(chart_id: str) -> set[str]:
        return set(
            report_page.evaluate(
                "id => document.getElementById(id).data"
                ".filter(t => t.visible === true).map(t => t.meta)",
                chart_id,
            )
        )

    for chart_id in PER_ENDPOINT_CHARTS:
        assert visible_endpoints(chart_id) == {"Total"}
    for series in stored_report.timeline.endpoints:
        report_page.select_option("#endpoint-select", series.label)
        for chart_id in PER_ENDPOINT_CHARTS:
            assert visible_endpoints(chart_id) == {series.label}, chart_id
        p50 = report_page.evaluate(
            "label => Array.from(document.getElementById('chart-latency').data"
            ".find(t => t.visible === true && t.name === 'p50').y)",
            series.label,
        )
        assert p50 == list(series.p50_ms)


def test_zooming_one_chart_over_time_zooms_the_others(report_page: Page) -> None:
    report_page.evaluate(
        "Plotly.relayout(document.getElementById('chart-latency'), {'xaxis.range': [3, 9]})"
    )
    for chart_id in ("chart-users", "chart-throughput", "chart-status"):
        x_range = report_page.evaluate(
            "id => document.getElementById(id).layout.xaxis.range", chart_id
        )
        assert x_range == [3, 9], chart_id


def test_table_numbers_equal_the_json_summary(
    report_page: Page, stored_report: StoredReport
) -> None:
    summary = stored_report.summary
    rows = report_page.eval_on_selector_all(
        "#endpoint-table tbody tr", "rows => rows.map(r => r.dataset.endpoint)"
    )
    assert rows == endpoint_labels(summary)
    documents = documents_by_label(summary)
    cells = report_page.eval_on_selector_all(
        "#endpoint-table td[data-metric]",
        "tds => tds.map(td => [td.dataset.endpoint, td.dataset.metric, td.dataset.value,"
        " td.textContent])",
    )
    assert len(cells) == len(documents) * len(ENDPOINT_COLUMNS)
    kinds = {key: kind for key, _heading, kind in ENDPOINT_COLUMNS}
    for label, metric, value, text in cells:
        expected = documents[label][metric]
        assert json.loads(value) == expected, (label, metric)
        assert text == format_number(kinds[metric], expected), (label, metric)
        if kinds[metric] == "ms" and expected < 100:
            assert float(text) == expected, (label, metric)


def test_status_breakdown_equals_the_json_summary(
    report_page: Page, stored_report: StoredReport
) -> None:
    summary = stored_report.summary
    documents = documents_by_label(summary)
    cells = report_page.eval_on_selector_all(
        "#status-table td[data-metric]",
        "tds => tds.map(td => [td.dataset.endpoint, td.dataset.metric, td.dataset.value])",
    )
    assert len(cells) == 2 * len(documents)
    for label, metric, value in cells:
        assert json.loads(value) == documents[label][metric], (label, metric)
    assert documents["Total"]["unexpected_status_counts"] == {"0": 1, "503": 6}


def test_errors_settings_and_script_are_shown_as_text(
    report_page: Page, stored_report: StoredReport
) -> None:
    errors = report_page.eval_on_selector_all(
        "#error-table tbody tr", "rows => rows.map(r => r.cells[2].textContent)"
    )
    assert errors == [e["message"] for e in stored_report.summary["errors"]]
    script = report_page.locator("#script pre").text_content()
    assert script == synthetic_run.SCRIPT_TEXT
    assert report_page.locator("#script pre *:not(code)").count() == 0
    settings = report_page.locator("#settings").inner_text()
    assert '["shop"]' in settings
    assert "http://127.0.0.1:8080" in settings
    assert report_page.locator("#no-thresholds").inner_text() == "no thresholds"


def test_findings_are_listed_first_and_shaded_on_their_chart(
    report_page: Page, stored_report: StoredReport
) -> None:
    expected = stored_report.summary["findings"]
    assert expected, "the synthetic run's 503s and refused connections are findings"
    items = report_page.locator("#findings li.finding")
    assert items.count() == len(expected)
    assert [items.nth(i).get_attribute("data-kind") for i in range(items.count())] == [
        f["kind"] for f in expected
    ]
    assert items.first.is_visible()
    shapes = report_page.evaluate(
        "() => document.getElementById('chart-status')._fullLayout.shapes"
        ".map(s => ({name: s.name, x0: s.x0, x1: s.x1}))"
    )
    assert [s["name"] for s in shapes] == [f"finding {f['kind']}" for f in expected]
    assert [(s["x0"], s["x1"]) for s in shapes] == [
        (f["from_s"] - 0.5, f["to_s"] + 0.5) for f in expected
    ]
    # Drawn on screen, not only in the layout.
    assert (
        report_page.locator(
            "#chart-status .shapelayer path, #chart-status .layer-below path"
        ).count()
        > 0
    )
    items.first.locator("a").click()
    assert report_page.evaluate("() => location.hash") == "#chart-status"


def test_the_report_looks_right(report_page: Page, tmp_path: Path) -> None:
    # A screenshot to look at by eye when the layout changes; not a golden image.
    shot = tmp_path / "report.png"
    report_page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000


def test_unknown_run_is_bad_input(stored_report: StoredReport, tmp_path: Path) -> None:
    result = loadgate(
        "report", "no-such-run", "-o", str(tmp_path / "r.html"), "--db", stored_report.db_url
    )
    assert result.returncode == ExitCode.BAD_INPUT
    assert result.stderr.count("\n") == 1
    assert "no-such-run" in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_unwritable_output_is_bad_input(stored_report: StoredReport, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    target = blocker / "r.html"  # a folder that is a file
    result = loadgate(
        "report", str(stored_report.run_id), "-o", str(target), "--db", stored_report.db_url
    )
    assert result.returncode == ExitCode.BAD_INPUT
    assert result.stderr.startswith("loadgate: error: cannot write the HTML report")
    assert result.stderr.count("\n") == 1
