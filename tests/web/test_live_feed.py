"""Live events shared per run: one read for every connection watching it, dropped at its end."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from loadgate.model import RunStatus
from loadgate.store import RunStore
from loadgate.web.live_feed import LiveEvent, LiveFeeds, live_update
from tests.builders import START_S, STARTED_AT, endpoint_second, new_run


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    with RunStore.open(f"sqlite:///{tmp_path / 'runs.db'}") as opened:
        yield opened


def _running(store: RunStore, seconds: int) -> int:
    run_id = store.create_run(new_run())
    store.append(run_id, [endpoint_second(START_S + s) for s in range(seconds)])
    return run_id


def test_connections_to_one_run_share_its_event_while_it_is_fresh(store: RunStore) -> None:
    run_id = _running(store, 5)
    feeds = LiveFeeds(store, fresh_s=60)
    first = feeds.event(run_id)
    assert feeds.event(run_id) is first  # a second connection, within fresh_s
    assert feeds.reads == 1
    assert first.name == "update"
    assert json.loads(first.data_json) == json.loads(json.dumps(live_update(store, run_id)))


def test_connections_asking_together_wait_for_one_read(store: RunStore) -> None:
    """Three browsers ask at once: one reads, the others wait for it and are given its event."""
    run_id = _running(store, 30)
    feeds = LiveFeeds(store)
    together = threading.Barrier(3)

    def ask() -> LiveEvent:
        together.wait()
        return feeds.event(run_id)

    with ThreadPoolExecutor(3) as pool:
        events = list(pool.map(lambda _: ask(), range(3)))
    assert events[0] is events[1] is events[2]
    assert feeds.reads == 1


def test_each_event_is_read_again_once_stale_and_the_last_ends_the_feed(store: RunStore) -> None:
    run_id = _running(store, 5)
    feeds = LiveFeeds(store, fresh_s=0)
    before = json.loads(feeds.event(run_id).data_json)["requests"]
    store.append(run_id, [endpoint_second(START_S + 5)])
    after = json.loads(feeds.event(run_id).data_json)["requests"]
    assert (before, after, feeds.reads) == (15, 18, 2)
    store.finish_run(run_id, RunStatus.COMPLETED, STARTED_AT + timedelta(seconds=6))
    last = feeds.event(run_id)
    assert last.ended and last.text().startswith("event: ended\ndata: {")
    assert len(feeds) == 0  # an ended run's read is not kept


def test_only_the_most_recently_watched_runs_keep_their_reads(store: RunStore) -> None:
    feeds = LiveFeeds(store, max_runs=1)
    first, second = _running(store, 3), _running(store, 3)
    feeds.event(first)
    feeds.event(second)
    assert len(feeds) == 1
