"""A run's page: the report's sections from the report's code, its downloads, and bad run ids."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from markupsafe import escape
from starlette.testclient import TestClient

from loadgate.store import RunStore
from tests.web.conftest import StoredRuns


def test_the_run_page_has_the_reports_sections_and_numbers(
    dashboard: TestClient, stored_runs: StoredRuns
) -> None:
    run_id = stored_runs.browse_ids[0]
    html = dashboard.get(f"/runs/{run_id}").text
    for section in ("findings", "thresholds", "over-time", "distribution", "endpoints",
                    "statuses", "errors", "settings", "script"):  # fmt: skip
        assert f'<section id="{section}">' in html, section
    with RunStore.open(stored_runs.db_url) as store:
        summary = store.summary(run_id)
        script_text = store.get_run(run_id).script_text
    total = re.search(r'data-metric="requests" data-endpoint="Total" data-value="(\d+)"', html)
    assert total and int(total.group(1)) == summary.total.requests
    assert 'data-endpoint="GET /v1/products"' in html
    assert "GET GET" not in html
    # The script, as escaped text.
    assert str(escape(script_text)) in html
    assert 'src="/static/plotly.min.js"' in html
    assert "<script>" not in html  # no inline script: the CSP would refuse it


def test_downloads_are_what_the_cli_writes(dashboard: TestClient, stored_runs: StoredRuns) -> None:
    run_id = stored_runs.strict_id
    with RunStore.open(stored_runs.db_url) as store:
        summary = store.summary(run_id)
    document = dashboard.get(f"/runs/{run_id}/summary.json")
    assert document.headers["content-disposition"] == (
        f'attachment; filename="run-{run_id}-summary.json"'
    )
    assert document.json()["total"]["requests"] == summary.total.requests
    report = dashboard.get(f"/runs/{run_id}/report.html").text
    assert report.startswith("<!DOCTYPE html>") and "Plotly" in report
    csv_text = dashboard.get(f"/runs/{run_id}/stats.csv").text
    assert csv_text.splitlines()[-1].split(",")[1] == "Aggregated"
    junit = ET.fromstring(dashboard.get(f"/runs/{run_id}/junit.xml").content)
    assert int(junit.get("failures") or junit[0].get("failures") or 0) == 1


def test_unknown_runs_and_files_are_404_pages_with_one_line(dashboard: TestClient) -> None:
    for path, expected in (
        ("/runs/999999", "no run 999999"),
        ("/runs/abc", "a run is named by its id"),
        ("/runs/1/secrets.txt", "has no download 'secrets.txt'"),
    ):
        response = dashboard.get(path)
        assert response.status_code == 404, path
        line = re.search(r'id="problem-line">([^<]*)<', response.text)
        assert line and expected in line.group(1).replace("&#39;", "'"), path


def test_compare_two_runs_or_a_run_and_its_baseline(
    dashboard: TestClient, stored_runs: StoredRuns
) -> None:
    first, second = stored_runs.browse_ids
    explicit = dashboard.get(f"/compare?base={first}&candidate={second}").text
    implied = dashboard.get(f"/compare?candidate={second}").text
    for html in (explicit, implied):
        assert f'<a href="/runs/{first}">{first}</a> → run <a href="/runs/{second}">' in html
        data = re.search(r'id="comparison-json">([^<]*)<', html)
        assert data
        compared = json.loads(data.group(1))
        assert (compared["base"]["run_id"], compared["candidate"]["run_id"]) == (first, second)


def test_bad_comparisons_are_one_line(dashboard: TestClient, stored_runs: StoredRuns) -> None:
    first = stored_runs.browse_ids[0]
    for query, status, expected in (
        (f"candidate={first}", 404, "has no baseline"),
        (f"candidate={first}&base={first}", 400, "the same run"),
        ("candidate=x", 400, "candidate must be a run id"),
    ):
        response = dashboard.get(f"/compare?{query}")
        assert response.status_code == status, query
        line = re.search(r'id="problem-line">([^<]*)<', response.text)
        assert line and expected in line.group(1), query
