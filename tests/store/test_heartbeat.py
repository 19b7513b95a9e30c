"""Heartbeats: every append stamps the run; a RUNNING run not heard from reads as LOST."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from loadgate.errors import ConfigError
from loadgate.model import RunStatus, UsersSample
from loadgate.store import RunStore
from loadgate.store.liveness import LOST_AFTER_ENV_VAR, LOST_AFTER_S, lost_after_s_from_env
from tests.builders import START_S, STARTED_AT, new_run

WINDOW_S = 0.5


@pytest.fixture
def short_window(store_url: str) -> RunStore:
    return RunStore.open(store_url, lost_after_s=WINDOW_S)


def test_appends_are_heartbeats_and_a_silent_run_reads_as_lost(short_window: RunStore) -> None:
    store = short_window
    run_id = store.create_run(new_run())
    created = store.get_run(run_id)
    assert created.status is RunStatus.RUNNING
    assert created.heartbeat_at is not None, "creating a run is its first heartbeat"
    time.sleep(WINDOW_S + 0.2)
    assert store.get_run(run_id).status is RunStatus.LOST
    # An append (even an empty one) is a sign of life.
    store.append(run_id, [], [UsersSample(second=START_S, users=1)])
    assert store.get_run(run_id).status is RunStatus.RUNNING
    store.append(run_id, [])
    beat = store.get_run(run_id).heartbeat_at
    assert beat is not None and created.heartbeat_at is not None
    assert beat > created.heartbeat_at
    time.sleep(WINDOW_S + 0.2)
    assert store.get_run(run_id).status is RunStatus.LOST
    assert [listing.run.status for listing in store.list_runs()] == [RunStatus.LOST]
    assert store.resolve("last").status is RunStatus.LOST
    store.close()


def test_an_ended_run_is_never_lost(short_window: RunStore) -> None:
    store = short_window
    run_id = store.create_run(new_run())
    store.finish_run(run_id, RunStatus.ABORTED, STARTED_AT + timedelta(seconds=3), "SIGINT")
    time.sleep(WINDOW_S + 0.2)
    assert store.get_run(run_id).status is RunStatus.ABORTED
    store.close()


def test_the_window_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOST_AFTER_ENV_VAR, raising=False)
    assert lost_after_s_from_env() == LOST_AFTER_S
    monkeypatch.setenv(LOST_AFTER_ENV_VAR, "2.5")
    assert lost_after_s_from_env() == 2.5
    monkeypatch.setenv(LOST_AFTER_ENV_VAR, "soon")
    with pytest.raises(ConfigError, match=LOST_AFTER_ENV_VAR):
        lost_after_s_from_env()
