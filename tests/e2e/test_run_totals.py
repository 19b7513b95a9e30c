"""`loadgate run` stores its run's per-endpoint totals when it ends."""

from __future__ import annotations

import pytest

from loadgate.stats import summarize
from loadgate.store import RunStore
from tests.e2e.conftest import SCRIPTS, RunLoadgate, Target

pytestmark = pytest.mark.slow


def test_a_finished_run_has_totals_equal_to_its_seconds(
    loadgate: RunLoadgate, shared_target: Target, db_url: str
) -> None:
    result = loadgate(
        "run", SCRIPTS / "plain.py", "-H", shared_target.url, "-u", "2", "-r", "2", "-t", "3s",
        "--db", db_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with RunStore.open(db_url) as store:
        run = store.resolve("last")
        assert store.stored_fold(run.run_id) is not None
        from_totals = store.summary(run.run_id)
        seconds = list(store.iter_endpoint_seconds(run.run_id))
        from_seconds = summarize(run, seconds, store.user_samples(run.run_id))
    assert from_totals == from_seconds
    assert from_totals.total.requests > 0
