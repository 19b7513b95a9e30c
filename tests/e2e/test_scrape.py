"""`loadgate run --scrape` end to end: a gateway's metrics stored, charted, and read by findings.

Real runs against the reference gateway with the fault that causes each
finding (an upstream error rate: retries; a higher one: an open breaker),
each with its healthy twin where the finding must be absent. Loads are small
and short (4 users, 8 s).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from loadgate.errors import ExitCode
from tests.e2e.conftest import REPO, RunLoadgate, assert_one_line_error, read_json
from tests.fixtures.gateway import RunningGateway
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.slow

SCRIPT = REPO / "tests" / "e2e" / "scripts" / "products_only.py"
NO_BREAKER = """
[upstreams.catalog.breaker]
enabled = false
"""
CHARTS_DRAWN = (
    "Array.from(document.querySelectorAll('div.chart'))"
    ".every(div => div.data !== undefined && div._fullLayout !== undefined)"
)


def run_scraped(
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
    *args: str | Path,
    codes: tuple[int, ...] = (0, 1),
) -> tuple[dict[str, Any], Any]:
    """One 8 s run; its JSON summary and the finished process (which exited with one of
    `codes`: 1 when requests failed, as they do under a fault)."""
    json_file = tmp_path / f"summary-{len(list(tmp_path.glob('summary-*')))}.json"
    result = loadgate(
        "run", SCRIPT, "-u", "4", "-r", "4", "-t", "8s", "--db", db_url, "--json", json_file,
        *args,
    )  # fmt: skip
    assert result.returncode in codes, result.stderr
    return read_json(json_file), result


@pytest.fixture
def watched_page(page: Page, page_errors: list[str]) -> tuple[Page, list[str]]:
    """A browser page and the console errors it reports."""
    return page, page_errors


def kinds(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["kind"]: f for f in summary["findings"]}


def test_retries_on_a_failing_upstream_are_retry_amplification_charted_under_the_client(
    gateway_factory: Callable[..., RunningGateway],
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
    watched_page: tuple[Page, list[str]],
) -> None:
    page, page_errors = watched_page
    gateway = gateway_factory(NO_BREAKER)
    target = ("-H", gateway.api_url, "--scrape", f"{gateway.admin_url}/metrics",
              "--threshold", "no finding retry_amplification >= warning")  # fmt: skip
    healthy, _ = run_scraped(loadgate, db_url, tmp_path, *target, codes=(0,))
    assert "retry_amplification" not in kinds(healthy)
    (scraped,) = healthy["scraped"]["targets"]
    assert scraped["url"] == f"{gateway.admin_url}/metrics"
    assert scraped["gap_seconds"] == [] and scraped["scrapes"] >= 6
    # f = 0.6 and 2 retries: (1 - 0.6^3) / (1 - 0.6) = 1.96 attempts per request.
    gateway.set_fault("catalog", error_rate=0.6, error_status=503)
    report = tmp_path / "amplified.html"
    faulty, result = run_scraped(
        loadgate, db_url, tmp_path, *target, "--report", report, codes=(ExitCode.THRESHOLDS_FAILED,)
    )
    found = kinds(faulty)
    assert "retry_amplification" in found, faulty["findings"]
    assert "breaker_opened" not in found  # this gateway has no breaker on catalog
    amplification = found["retry_amplification"]
    assert amplification["numbers"]["peak_ratio"] >= 1.5
    assert amplification["numbers"]["counter"] == "loadgate_gateway_upstream_latency_seconds_count"
    assert "scraped http://127.0.0.1" in result.stdout + result.stderr
    names = {s["name"] for s in faulty["scraped"]["series"]}
    assert {"loadgate_gateway_requests_total", "loadgate_gateway_retries_total"} <= names
    # The report: the scraped charts under the client's, on the same time axis, with data.
    page.goto(report.as_uri())
    page.wait_for_function(CHARTS_DRAWN)
    chart_ids = page.eval_on_selector_all("#over-time div.chart", "divs => divs.map(div => div.id)")
    assert chart_ids[:4] == ["chart-users", "chart-throughput", "chart-latency", "chart-status"]
    assert "chart-upstream" in chart_ids
    assert any(chart_id.startswith("chart-scraped-") for chart_id in chart_ids)
    ratio_points = page.evaluate(
        "document.getElementById('chart-upstream').data[0].y.filter(v => v !== null).length"
    )
    assert ratio_points >= 3
    same_axis = page.evaluate(
        "JSON.stringify(document.getElementById('chart-upstream')._fullLayout.xaxis.range)"
        " === JSON.stringify(document.getElementById('chart-throughput')._fullLayout.xaxis.range)"
    )
    assert same_axis
    shaded = page.evaluate(
        "document.getElementById('chart-upstream').layout.shapes"
        ".some(s => s.name === 'finding retry_amplification')"
    )
    assert shaded
    assert page_errors == []


def test_an_upstream_failing_enough_opens_the_breaker_and_says_when(
    gateway_factory: Callable[..., RunningGateway],
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
) -> None:
    gateway = gateway_factory()
    target = ("-H", gateway.api_url, "--scrape", f"{gateway.admin_url}/metrics")
    healthy, _ = run_scraped(loadgate, db_url, tmp_path, *target)
    assert "breaker_opened" not in kinds(healthy)
    gateway.set_fault("catalog", error_rate=0.9, error_status=503)
    faulty, _ = run_scraped(loadgate, db_url, tmp_path, *target)
    found = kinds(faulty)
    assert "breaker_opened" in found, faulty["findings"]
    breaker = found["breaker_opened"]
    assert (
        breaker["numbers"]["series"] == 'loadgate_gateway_circuit_breaker_state{upstream="catalog"}'
    )
    assert breaker["numbers"]["openings"] >= 1
    assert 0 <= breaker["from_s"] <= breaker["to_s"] <= 9


def test_the_builtin_gateway_is_scraped_unless_told_not_to(
    loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    scraped, _ = run_scraped(loadgate, db_url, tmp_path)
    (target,) = scraped["scraped"]["targets"]
    assert target["url"].startswith("http://127.0.0.1:") and target["url"].endswith("/metrics")
    assert target["series"] > 0 and target["gap_seconds"] == []
    # `report` charts other series than the run chose, when asked.
    report = tmp_path / "requests.html"
    only = "^loadgate_gateway_requests_total$"
    run_id = str(scraped["run_id"])
    result = loadgate("report", run_id, "--db", db_url, "-o", report, "--scrape-series", only)
    assert result.returncode == 0, result.stderr
    titles = re.findall(r"<strong>(loadgate_gateway_\w+)", report.read_text())
    assert titles == ["loadgate_gateway_requests_total"]
    plain, _ = run_scraped(loadgate, db_url, tmp_path, "--no-scrape")
    assert plain["scraped"] == {"targets": [], "series": []}


def test_a_scrape_target_that_is_down_is_gaps_and_one_warning_not_a_failed_run(
    gateway: RunningGateway, loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/metrics"
    summary, result = run_scraped(
        loadgate, db_url, tmp_path, "-H", gateway.api_url, "--scrape", nobody
    )
    assert result.returncode == 0, result.stderr
    (target,) = summary["scraped"]["targets"]
    assert target["first_error"] == "connection refused"
    assert len(target["gap_seconds"]) == target["scrapes"] >= 6
    assert result.stderr.count(f"cannot scrape {nobody}") == 1
    assert summary["total"]["requests"] > 0


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--scrape", "ftp://127.0.0.1/metrics"), "--scrape"),
        (("--scrape-series", "(unclosed"), "--scrape-series"),
        (("--scrape", "http://127.0.0.1:9/metrics", "--no-scrape"), "--no-scrape"),
    ],
)
def test_bad_scrape_options_are_one_line_errors(
    loadgate: RunLoadgate, db_url: str, args: tuple[str, ...], named: str
) -> None:
    result = loadgate("run", SCRIPT, "-t", "1s", "--db", db_url, *args)
    line = assert_one_line_error(result, 2)
    assert named in line


def test_a_distributed_run_is_scraped_by_its_master_alone(
    loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    summary, _ = run_scraped(loadgate, db_url, tmp_path, "--processes", "2")
    assert len(summary["workers"]) == 2
    (target,) = summary["scraped"]["targets"]
    # One scrape a second from one process: workers scraping too would double it.
    assert 6 <= target["scrapes"] <= 10
    assert target["gap_seconds"] == []


def test_a_plans_scrape_section_is_used_and_stored_with_the_run(
    loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text('[scrape]\nseries = "retries_total"\nbuiltin = false\n')
    summary, _ = run_scraped(loadgate, db_url, tmp_path, "--plan", plan)
    assert summary["scraped"]["targets"] == []  # the built-in gateway left alone
    assert summary["settings"]["scrape"] == {"urls": [], "series": "retries_total"}
