"""The HTML report's cache and timing charts, rendered by the CLI, checked in headless Chromium."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from loadgate.model import EndpointSecond, Part, RunStatus, UsersSample
from loadgate.store import RunStore
from tests.builders import START_S, STARTED_AT, endpoint_second, new_run

LOADGATE = Path(sys.executable).with_name("loadgate")
DURATION_S = 20
NAME = "/v1/search?q=<b>x</b>"  # from the store: text, never markup
HIT_US, MISS_US, UPSTREAM_US, GATEWAY_US = 300, 20_000, 19_000, 900
CONNECT_US, TLS_US, TTFB_US, DOWNLOAD_US = 150, 2_000, 18_000, 40
NEW_CONNECTIONS = 3  # of the 10 requests of each second
CHARTS_DRAWN = (
    "Array.from(document.querySelectorAll('div.chart'))"
    ".every(div => div.data !== undefined && div._fullLayout !== undefined)"
)


@dataclass(frozen=True)
class PartsReport:
    html_path: Path
    summary: dict[str, Any]
    hit_ratios: list[float]


def _second(offset_s: int) -> EndpointSecond:
    # 10 requests a second: 9 hits early, 2 late (the hit ratio falls); misses go upstream.
    hits = 9 if offset_s < DURATION_S // 2 else 2
    misses = 10 - hits
    return endpoint_second(
        START_S + offset_s,
        "GET",
        NAME,
        [HIT_US] * hits + [MISS_US] * misses,
        parts={
            Part.CACHE_HIT: [HIT_US] * hits,
            Part.CACHE_MISS: [MISS_US] * misses,
            Part.UPSTREAM: [UPSTREAM_US] * misses,
            Part.GATEWAY: [GATEWAY_US] * misses,
            Part.CONNECT: [CONNECT_US] * NEW_CONNECTIONS,
            Part.TLS: [TLS_US] * NEW_CONNECTIONS,
            Part.TTFB: [TTFB_US] * 10,
            Part.DOWNLOAD: [DOWNLOAD_US] * 10,
        },
    )


def loadgate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LOADGATE), *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def parts_report(tmp_path_factory: pytest.TempPathFactory) -> PartsReport:
    folder = tmp_path_factory.mktemp("parts-report")
    db_url = f"sqlite:///{folder / 'runs.db'}"
    seconds = [_second(offset_s) for offset_s in range(DURATION_S)]
    with RunStore.open(db_url) as store:
        run_id = store.create_run(new_run("cached", started_at=STARTED_AT))
        users = [UsersSample(second=s.second, users=4) for s in seconds]
        store.append(run_id, seconds, users)
        store.finish_run(run_id, RunStatus.COMPLETED, STARTED_AT + timedelta(seconds=DURATION_S))
    html_path = folder / "report.html"
    result = loadgate("report", str(run_id), "-o", str(html_path), "--db", db_url)
    assert result.returncode == 0, result.stderr
    shown = loadgate("show", str(run_id), "--json", "--db", db_url)
    assert shown.returncode == 0, shown.stderr
    hit_ratios = [100.0 * s.parts[Part.CACHE_HIT].requests / s.requests for s in seconds]
    return PartsReport(html_path, json.loads(shown.stdout), hit_ratios)


@pytest.fixture
def parts_page(parts_report: PartsReport, page: Page, page_errors: list[str]) -> Iterator[Page]:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(parts_report.html_path.as_uri())
    page.wait_for_function(CHARTS_DRAWN)
    yield page
    assert page_errors == []
    assert dialogs == []


def traces(page: Page, chart_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(
        "id => document.getElementById(id).data.map(t => ({name: t.name, "
        "x: Array.from(t.x), y: Array.from(t.y)}))",
        chart_id,
    )
    return found


def test_the_cache_chart_plots_hit_ratio_and_both_latencies(
    parts_page: Page, parts_report: PartsReport
) -> None:
    by_name = {t["name"].split(": ", 1)[1]: t for t in traces(parts_page, "chart-cache")}
    assert set(by_name) == {"hits p95", "misses p95", "hit ratio"}
    assert by_name["hit ratio"]["y"] == pytest.approx(parts_report.hit_ratios)
    assert by_name["hit ratio"]["x"] == list(range(DURATION_S))
    assert by_name["hits p95"]["y"] == pytest.approx([HIT_US / 1000] * DURATION_S, rel=1e-3)
    assert by_name["misses p95"]["y"] == pytest.approx([MISS_US / 1000] * DURATION_S, rel=1e-3)
    assert parts_page.locator("#chart-cache g.trace path").count() > 0


def test_the_timing_chart_plots_gateway_and_upstream(parts_page: Page) -> None:
    by_name = {t["name"].split(": ", 1)[1]: t for t in traces(parts_page, "chart-timing")}
    assert set(by_name) == {"upstream p95", "gateway p95"}
    assert by_name["upstream p95"]["y"] == pytest.approx([19.0] * DURATION_S, rel=1e-3)
    assert by_name["gateway p95"]["y"] == pytest.approx([0.9] * DURATION_S, rel=1e-3)
    assert parts_page.locator("#chart-timing g.trace path").count() > 0


def test_the_falling_hit_ratio_is_shaded_on_the_cache_chart(
    parts_page: Page, parts_report: PartsReport
) -> None:
    (finding,) = parts_report.summary["findings"]
    assert (finding["kind"], finding["severity"]) == ("cache.hit_ratio_falls", "warning")
    shapes = parts_page.evaluate(
        "() => document.getElementById('chart-cache')._fullLayout.shapes.map(s => s.name)"
    )
    assert shapes == ["finding cache.hit_ratio_falls"]
    parts_page.locator("#findings li.finding a").first.click()
    assert parts_page.evaluate("() => location.hash") == "#chart-cache"


def test_the_endpoint_name_is_text_in_the_legend(parts_page: Page) -> None:
    legend = parts_page.locator("#chart-cache .legendtext").all_text_contents()
    assert f"GET {NAME}: hit ratio" in legend
    assert parts_page.locator("#chart-cache .legend b").count() == 0


def test_the_json_summary_has_cache_and_timing(parts_report: PartsReport) -> None:
    (endpoint,) = parts_report.summary["endpoints"]
    assert endpoint["cache"]["hits"] == 10 * 9 + 10 * 2
    assert endpoint["cache"]["misses"] == 10 * 1 + 10 * 8
    assert endpoint["timing"]["requests"] == endpoint["cache"]["misses"]
    assert endpoint["timing"]["upstream_p50_ms"] == pytest.approx(19.0, rel=1e-3)


def test_the_phases_chart_plots_each_phase_and_the_new_connections(parts_page: Page) -> None:
    by_name = {t["name"].split(": ", 1)[1]: t for t in traces(parts_page, "chart-phases")}
    assert set(by_name) == {
        "connect p95", "tls p95", "ttfb p95", "download p95", "new connections"
    }  # fmt: skip
    for phase, value_us in (("connect", CONNECT_US), ("tls", TLS_US), ("ttfb", TTFB_US),
                            ("download", DOWNLOAD_US)):  # fmt: skip
        expected = [value_us / 1000] * DURATION_S
        assert by_name[f"{phase} p95"]["y"] == pytest.approx(expected, rel=1e-3), phase
    assert by_name["new connections"]["y"] == pytest.approx([30.0] * DURATION_S)
    assert parts_page.locator("#chart-phases g.trace path").count() > 0


def test_the_json_summary_has_the_phases(parts_report: PartsReport) -> None:
    (endpoint,) = parts_report.summary["endpoints"]
    phases = endpoint["phases"]
    assert phases["connect"]["requests"] == NEW_CONNECTIONS * DURATION_S
    assert phases["ttfb"]["requests"] == 10 * DURATION_S
    assert phases["tls"]["p99_ms"] == pytest.approx(TLS_US / 1000, rel=1e-3)
    assert phases["download"]["p50_ms"] == pytest.approx(DOWNLOAD_US / 1000, rel=1e-3)
    assert phases["new_connection_share"] == pytest.approx(0.3)
