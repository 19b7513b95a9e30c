"""Runs the dashboard starts: each launch learns its own run's id from the run itself."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from loadgate.cli.run_id_file import RUN_ID_FILE_ENV as WRITTEN_BY_RUN
from loadgate.model import RunStatus, SavedTest
from loadgate.store import RunStore
from loadgate.web.launcher import RUN_ID_FILE_ENV, Launcher
from tests.web.conftest import SCRIPT

STOP_WAIT_S = 60


def test_the_launcher_and_the_run_agree_on_the_file_variable() -> None:
    assert RUN_ID_FILE_ENV == WRITTEN_BY_RUN


def test_two_launches_of_one_test_started_together_each_get_their_own_run(
    tmp_path: Path,
) -> None:
    """Two dashboards on one store start the same saved test in the same second."""
    db_url = f"sqlite:///{tmp_path / 'runs.db'}"
    test = SavedTest(
        name="twin", script_path=SCRIPT, script_text="", host="",
        users=1, spawn_rate=1, run_time="2m",
    )  # fmt: skip
    launchers = (Launcher(db_url), Launcher(db_url))
    with RunStore.open(db_url) as store:
        try:
            with ThreadPoolExecutor(2) as pool:
                first, second = pool.map(lambda launcher: launcher.start(test), launchers)
            assert first.run_id is not None and second.run_id is not None
            assert first.run_id != second.run_id
            assert {x.run.run_id for x in store.list_runs()} == {first.run_id, second.run_id}
            # Each launcher stops its own process, and that is its own run which ends.
            assert launchers[0].stop(first.run_id)
            first.process.wait(timeout=STOP_WAIT_S)
            assert store.get_run(first.run_id).status is RunStatus.ABORTED
            assert store.get_run(second.run_id).status is RunStatus.RUNNING
            assert not launchers[0].stop(second.run_id)  # not one it started
            assert launchers[1].stop(second.run_id)
            second.process.wait(timeout=STOP_WAIT_S)
            assert store.get_run(second.run_id).status is RunStatus.ABORTED
        finally:
            for launcher in launchers:
                launcher.close()
