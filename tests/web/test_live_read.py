"""The live view's incremental read gives, tick after tick, what a whole read of the run gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loadgate.model import EndpointSecond, Part, RunStatus, UsersSample
from loadgate.run_reading import read_for_report
from loadgate.store import RunStore
from loadgate.web.live_feed import update_of
from loadgate.web.live_read import LiveRead
from tests.builders import START_S, endpoint_second, new_run


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    with RunStore.open(f"sqlite:///{tmp_path / 'runs.db'}") as opened:
        yield opened


def _parts(offset_s: int) -> dict[Part, list[int]]:
    """Upstream and gateway time of each request; cache hits from 8 s on (a part starting late)."""
    parts = {Part.UPSTREAM: [150, 700, 1200 + 5 * offset_s], Part.GATEWAY: [50, 200, 300]}
    if offset_s >= 8:
        parts[Part.CACHE_HIT] = [200 + offset_s]
    return parts


def _second(offset_s: int) -> list[EndpointSecond]:
    """A second of three endpoints; one starts late, one fails now and then (a new status)."""
    at = START_S + offset_s
    latencies_us = [200 + offset_s, 900, 1500 + 7 * offset_s]
    seconds = [
        endpoint_second(at, "GET", "/items", latencies_us, parts=_parts(offset_s)),
        endpoint_second(
            at, "POST", "/orders", [3000, 4000 + offset_s],
            failed={"503": 1} if offset_s % 4 == 0 else None,
            errors={"HTTPError('503 Server Error')": 1} if offset_s % 4 == 0 else None,
        ),
    ]  # fmt: skip
    if offset_s >= 6:
        seconds.append(endpoint_second(at, "GET", "/late", [50_000, 70_000 + offset_s]))
    return seconds


def _users(offset_s: int) -> int:
    """Flat at first, then a ramp (from 20 s on): the findings then want each second's p95."""
    return 2 if offset_s < 20 else 2 + (offset_s - 20) // 3


def _store_until(store: RunStore, run_id: int, first_s: int, stop_s: int) -> None:
    for offset_s in range(first_s, stop_s):
        users = [UsersSample(second=START_S + offset_s, users=_users(offset_s))]
        store.append(run_id, _second(offset_s), users)
    # A second piece of the newest second, as another worker's report adds it.
    store.append(run_id, [endpoint_second(START_S + stop_s - 1, "GET", "/items", [1200, 1300])])


def _whole_and_live(store: RunStore, run_id: int, live: LiveRead) -> tuple[object, object]:
    """The event of a whole read and of `live`'s, once their reads are checked equal."""
    run = store.get_run(run_id)
    assert run.status is RunStatus.RUNNING
    whole, whole_timeline = read_for_report(store, run)
    incremental, timeline = live.read(run)
    assert timeline == whole_timeline
    assert incremental.summary == whole.summary
    assert incremental.series == whole.series  # the findings' numbers, p95s on a ramp
    assert incremental.parts == whole.parts  # cache hits, upstream and gateway time
    assert incremental.findings == whole.findings
    return update_of(run, whole, whole_timeline), update_of(run, incremental, timeline)


def test_every_tick_is_what_a_whole_read_gives(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    live = LiveRead(store, run_id, settle_s=3)
    stored_s = 0
    for stop_s in (1, 2, 5, 6, 7, 12, 13, 21, 24, 25, 40):
        _store_until(store, run_id, stored_s, stop_s)
        stored_s = stop_s
        whole, incremental = _whole_and_live(store, run_id, live)
        assert incremental == whole, f"after {stop_s} s"
        # Only the last seconds are read again: the rest is settled.
        assert live.settled_before == START_S + max(0, stop_s - 3)


def test_a_late_piece_of_a_settled_second_is_read(store: RunStore) -> None:
    """A distributed run's slow worker reports a second long after it was settled."""
    run_id = store.create_run(new_run())
    live = LiveRead(store, run_id, settle_s=3)
    _store_until(store, run_id, 0, 20)
    _whole_and_live(store, run_id, live)
    settled_before = live.settled_before
    store.append(run_id, [endpoint_second(START_S + 4, "GET", "/items", [9_000_000] * 40)])
    whole, incremental = _whole_and_live(store, run_id, live)
    assert incremental == whole
    assert live.settled_before == settled_before  # started over, and settled as far again


def test_wider_buckets_after_twelve_minutes_are_what_a_whole_read_gives(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    live = LiveRead(store, run_id, settle_s=3)
    _store_until(store, run_id, 0, 715)
    whole, incremental = _whole_and_live(store, run_id, live)
    assert incremental == whole
    stored_s = 715
    for stop_s in (725, 733, 741):  # 10 s buckets from 721 s on: started over once
        _store_until(store, run_id, stored_s, stop_s)
        stored_s = stop_s
        whole, incremental = _whole_and_live(store, run_id, live)
        assert incremental == whole, f"after {stop_s} s"
    assert live.settled_before == START_S + 730  # whole 10 s buckets, 3 s before the newest
