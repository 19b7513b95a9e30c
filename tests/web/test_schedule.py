"""Schedules: croniter's due times, missed ones reported not run late, real runs by a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loadgate.errors import ConfigError
from loadgate.model import RunStatus, SavedTest
from loadgate.store import RunStore
from loadgate.web.launcher import Launcher
from loadgate.web.schedule import check_cron, decide
from loadgate.web.scheduler import Scheduler
from tests.web.conftest import SCRIPT

TEN = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
RUN_WAIT_S = 90


def test_nothing_is_due_before_the_next_minute() -> None:
    decision = decide("* * * * *", TEN, TEN + timedelta(seconds=59))
    assert (decision.run_due_at, decision.missed, decision.handled_until) == (None, 0, None)


def test_a_due_time_within_the_grace_is_run() -> None:
    decision = decide("* * * * *", TEN, TEN + timedelta(minutes=1, seconds=20))
    assert decision.run_due_at == TEN + timedelta(minutes=1)
    assert (decision.missed, decision.note) == (0, "")


def test_due_times_missed_while_down_are_reported_and_only_the_latest_run() -> None:
    decision = decide("* * * * *", TEN, TEN + timedelta(minutes=10, seconds=30))
    assert decision.run_due_at == TEN + timedelta(minutes=10)
    assert decision.missed == 9
    assert decision.note.startswith("9 scheduled runs missed up to 2026-03-02 10:10 UTC")


def test_a_due_time_older_than_the_grace_is_missed_not_run_late() -> None:
    decision = decide("*/10 * * * *", TEN, TEN + timedelta(minutes=11, seconds=30))
    assert decision.run_due_at is None
    assert decision.missed == 1
    assert decision.handled_until == TEN + timedelta(minutes=10)


@pytest.mark.parametrize("text", ["every minute", "* * *", "61 * * * *", "* * * * * *"])
def test_bad_cron_expressions_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^cron: .* is not a cron expression like"):
        check_cron(text)


def _every_minute(store: RunStore) -> SavedTest:
    test_id = store.save_test(
        SavedTest(
            name="minutely", script_path=SCRIPT, script_text="", host="",
            users=2, spawn_rate=2, run_time="2s", cron="* * * * *",
        )
    )  # fmt: skip
    return store.saved_test(test_id)


def _wait_for_end(store: RunStore, launcher: Launcher, run_id: int) -> RunStatus:
    """The run's stored status once its `loadgate run` process has exited."""
    launch = launcher.launch_of_test("minutely")
    assert launch is not None and launch.run_id == run_id
    launch.process.wait(timeout=RUN_WAIT_S)
    return store.get_run(run_id).status


def test_a_test_scheduled_every_minute_runs_once_per_due_time(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'runs.db'}"
    now = [datetime.now(UTC)]
    with RunStore.open(db_url) as store:
        test = _every_minute(store)
        assert test.created_at is not None
        first_due = test.created_at.replace(second=0, microsecond=0) + timedelta(minutes=1)
        launcher = Launcher(db_url)
        scheduler = Scheduler(store, launcher, (), clock=lambda: now[0])
        try:
            now[0] = first_due - timedelta(seconds=1)
            assert scheduler.tick() == []
            now[0] = first_due + timedelta(seconds=5)
            [run_id] = scheduler.tick()
            assert store.get_run(run_id).name == "minutely"
            assert _wait_for_end(store, launcher, run_id) is RunStatus.COMPLETED
            # The same due time, again, and after a restart: not run twice.
            assert scheduler.tick() == []
            assert Scheduler(store, launcher, (), clock=lambda: now[0]).tick() == []
            # Down for ten minutes: the latest due time runs, the nine before are reported.
            now[0] = first_due + timedelta(minutes=10, seconds=5)
            [later_id] = scheduler.tick()
            assert _wait_for_end(store, launcher, later_id) is RunStatus.COMPLETED
        finally:
            launcher.close()
        assert [x.run.run_id for x in store.list_runs()] == [later_id, run_id]
        note = store.saved_test(test.test_id or 0).schedule_note
        assert note.startswith("9 scheduled runs missed")
