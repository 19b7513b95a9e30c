"""A test page's regression marks: compared once per pair of settled runs, again on a change."""

from __future__ import annotations

import shutil
from pathlib import Path

from loadgate.model import SavedTest
from loadgate.store import RunStore
from loadgate.web import DashboardSettings
from loadgate.web.regression_cache import RegressionCache
from tests.builders import endpoint_second
from tests.web.conftest import SCRIPT, StoredRuns, client_of


def _copy_of(stored_runs: StoredRuns, folder: Path) -> str:
    source = Path(stored_runs.db_url.removeprefix("sqlite:///"))
    shutil.copy(source, folder / "runs.db")
    return f"sqlite:///{folder / 'runs.db'}"


def test_a_second_view_does_not_compare_again_until_a_run_changes(
    stored_runs: StoredRuns, tmp_path: Path
) -> None:
    db_url = _copy_of(stored_runs, tmp_path)
    with RunStore.open(db_url) as store, client_of(DashboardSettings(), store) as client:
        test_id = store.save_test(
            SavedTest(name="browse", script_path=SCRIPT, script_text="", host="",
                      users=3, spawn_rate=3, run_time="3s")
        )  # fmt: skip
        cache: RegressionCache = client.app.state.regression_cache  # type: ignore[attr-defined]

        def view() -> str:
            response = client.get(f"/tests/{test_id}")
            assert response.status_code == 200
            return response.text

        first = view()
        assert cache.comparisons == 1  # the two completed "browse" runs
        assert view() == first
        assert cache.comparisons == 1
        # Seconds imported into the newer run (as `loadgate import` does): compared again.
        newer = stored_runs.browse_ids[1]
        span = store.second_span(newer)
        assert span is not None
        store.append(newer, [endpoint_second(span[1], "GET", "/late", [900_000] * 50)])
        view()
        assert cache.comparisons == 2
        view()
        assert cache.comparisons == 2


def test_the_cache_keeps_only_the_most_recent_verdicts(stored_runs: StoredRuns) -> None:
    with RunStore.open(stored_runs.db_url) as store:
        older, newer = (store.get_run(run_id) for run_id in stored_runs.browse_ids)
        strict = store.get_run(stored_runs.strict_id)
        cache = RegressionCache(max_verdicts=1)
        for base, candidate in ((older, newer), (older, newer), (newer, strict), (older, newer)):
            cache.has_regression(store, base, candidate)
        assert cache.comparisons == 3  # the first pair's verdict made way for the second's
