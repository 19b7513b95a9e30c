"""The runs page over real runs: columns, filters, pages, bad input, numbers filled late."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import sqlalchemy as sa
from starlette.testclient import TestClient

from loadgate.store import RunStore
from loadgate.store.url import parse_db_url
from loadgate.web import DashboardSettings
from loadgate.web.runs_page import PAGE_SIZE
from tests.builders import new_run
from tests.web.conftest import SCRIPT, StoredRuns, client_of


def _listed_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-run-id="(\d+)"', html)]


def _cell(html: str, run_id: int, metric: str) -> str:
    row = html.split(f'<tr data-run-id="{run_id}"', 1)[1].split("</tr>", 1)[0]
    match = re.search(rf'data-metric="{metric}">([^<]*)<', row)
    assert match, (metric, row)
    return match.group(1)


def test_all_runs_newest_first_with_their_numbers(
    dashboard: TestClient, stored_runs: StoredRuns
) -> None:
    html = dashboard.get("/runs").text
    first, second = stored_runs.browse_ids
    assert _listed_ids(html) == [stored_runs.strict_id, second, first]
    assert SCRIPT in html
    assert _cell(html, stored_runs.strict_id, "verdict") == "failed"
    assert _cell(html, first, "verdict") == "passed"
    with RunStore.open(stored_runs.db_url) as store:
        summary = store.summary(first)
    assert int(_cell(html, first, "requests").replace(",", "")) == summary.total.requests
    assert _cell(html, first, "p95").endswith(" ms")
    assert float(_cell(html, first, "rps")) > 0


def test_filters_by_name_status_and_text(dashboard: TestClient, stored_runs: StoredRuns) -> None:
    assert _listed_ids(dashboard.get("/runs?name=browse").text) == list(
        reversed(stored_runs.browse_ids)
    )
    assert _listed_ids(dashboard.get("/runs?q=STRI").text) == [stored_runs.strict_id]
    aborted = dashboard.get("/runs?status=aborted").text
    assert _listed_ids(aborted) == []
    assert "no runs match this filter" in aborted
    before = dashboard.get(f"/runs?before={stored_runs.strict_id}").text
    assert _listed_ids(before) == list(reversed(stored_runs.browse_ids))


def test_bad_filters_are_a_400_with_one_line(dashboard: TestClient) -> None:
    for query, expected in (
        ("status=finished", "status must be one of"),
        ("before=abc", "before must be a run id"),
    ):
        response = dashboard.get(f"/runs?{query}")
        assert response.status_code == 400
        line = re.search(r'id="problem-line">([^<]*)<', response.text)
        assert line and expected in line.group(1)


def test_older_runs_are_a_page_away(tmp_path: Path) -> None:
    with RunStore.open(f"sqlite:///{tmp_path / 'many.db'}") as store:
        ids = [store.create_run(new_run(f"r{i}")) for i in range(PAGE_SIZE + 5)]
        with client_of(DashboardSettings(), store) as client:
            first = client.get("/runs?q=r").text
            assert _listed_ids(first) == ids[::-1][:PAGE_SIZE]
            link = re.search(r'href="(/runs\?[^"]+)" id="older-runs"', first)
            assert link
            second = client.get(link.group(1).replace("&amp;", "&")).text
            assert _listed_ids(second) == ids[::-1][PAGE_SIZE:]
            assert 'id="older-runs"' not in second


def test_runs_stored_without_listed_numbers_get_them_once(
    stored_runs: StoredRuns, tmp_path: Path
) -> None:
    source = Path(stored_runs.db_url.removeprefix("sqlite:///"))
    copy = tmp_path / "old.db"
    shutil.copy(source, copy)
    url = f"sqlite:///{copy}"
    engine = sa.create_engine(parse_db_url(url))
    with engine.begin() as conn:
        expected = conn.execute(sa.text("SELECT run_id, p95_ms, threshold_outcome FROM runs")).all()
        conn.execute(sa.text("UPDATE runs SET p95_ms = NULL, threshold_outcome = NULL"))
    with RunStore.open(url) as store, client_of(DashboardSettings(), store) as client:
        html = client.get("/runs").text
    assert _cell(html, stored_runs.strict_id, "verdict") == "failed"
    with engine.begin() as conn:
        filled = conn.execute(sa.text("SELECT run_id, p95_ms, threshold_outcome FROM runs")).all()
    engine.dispose()
    assert sorted(filled) == sorted(expected)
    assert all(row.p95_ms is not None for row in filled)
