"""A saved test in Chromium, end to end: the form, one click, the live view, stop, the trend.

Over its own dashboard and a copy of the session's store (two runs named
"browse" in it already), so the run it adds changes no other test's store.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from playwright.sync_api import Page

from loadgate.model import RunStatus
from loadgate.store import RunStore
from tests.web.conftest import SCRIPT, StoredRuns, serve_dashboard
from tests.web.test_browser import CHARTS_DRAWN

LIVE_UPDATES = "() => Number(document.getElementById('live').dataset.updates || 0)"
STOPPED_TIMEOUT_MS = 60_000


def _copy_of(stored_runs: StoredRuns, folder: Path) -> str:
    source = Path(stored_runs.db_url.removeprefix("sqlite:///"))
    shutil.copy(source, folder / "runs.db")
    return f"sqlite:///{folder / 'runs.db'}"


def _watch_live(page: Page, changes: int) -> list[str]:
    """The request counts the live view showed, until it changed `changes` times."""
    seen: list[str] = []
    updates = 0
    while len(set(seen)) <= changes:
        page.wait_for_function(f"() => ({LIVE_UPDATES})() > {updates}")
        updates = page.evaluate(LIVE_UPDATES)
        seen.append(page.locator("#live-requests").inner_text())
    return seen


def _wait_listed(db_url: str, run_id: int) -> None:
    """Until the run's listed numbers (its p95) are stored.

    `loadgate run` stores them after its status, once it has read the ended
    run for its outputs: a page opened as soon as the status shows may not
    list the run in its trend yet.
    """
    deadline = time.monotonic() + STOPPED_TIMEOUT_MS / 1000
    with RunStore.open(db_url) as store:
        while next(x for x in store.list_runs(5) if x.run.run_id == run_id).p95_ms is None:
            assert time.monotonic() < deadline, f"run {run_id} was never listed"
            time.sleep(0.1)


def test_a_saved_test_from_its_form_to_a_stopped_run_and_its_trend(
    page: Page, page_errors: list[str], stored_runs: StoredRuns, tmp_path: Path
) -> None:
    db_url = _copy_of(stored_runs, tmp_path)
    for served in serve_dashboard(db_url):
        page.goto(served.url + "/tests")
        page.fill("input[name=name]", "browse")
        page.fill("input[name=script_path]", SCRIPT)
        page.fill("input[name=users]", "3")
        page.fill("input[name=spawn_rate]", "3")
        page.fill("input[name=run_time]", "2m")
        page.click("#test-form button")
        page.wait_for_url("**/tests/*")
        test_url = page.url

        page.click("#start-form button")
        page.wait_for_url("**/runs/*")
        run_id = int(page.url.rsplit("/", 1)[1])
        page.wait_for_function(CHARTS_DRAWN)
        seen = _watch_live(page, changes=2)
        assert [int(s.replace(",", "")) for s in seen] == sorted(
            int(s.replace(",", "")) for s in seen
        )

        page.click("#stop-form button")
        page.wait_for_selector(".page-header .badge.status-aborted", timeout=STOPPED_TIMEOUT_MS)
        with RunStore.open(db_url) as store:
            assert store.get_run(run_id).status is RunStatus.ABORTED
        _wait_listed(db_url, run_id)

        page.goto(test_url)
        page.wait_for_function(CHARTS_DRAWN)
        p95 = page.evaluate(
            "document.getElementById('trend-latency').data.find(t => t.name === 'p95')"
        )
        assert p95["x"] == [str(i) for i in (*stored_runs.browse_ids, run_id)]
        assert all(value > 0 for value in p95["y"])
        assert page.locator("#test-runs tbody tr").count() == 3
    assert page_errors == []
