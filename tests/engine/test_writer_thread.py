"""The writer thread: the hub goes on while a write blocks; a stuck or failing store is noticed."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import gevent
import pytest

from loadgate.engine.collector import Collector
from loadgate.engine.writer import SecondsWriter
from loadgate.engine.writer_thread import (
    MAX_QUEUED_BATCHES,
    MAX_STORE_FAILURES,
    STORE_STALL_LIMIT_S,
    WriterThread,
)
from loadgate.errors import StoreError
from loadgate.model import EndpointSecond, MeasuredBatch
from tests.engine.test_writer import Clock, fire


class BlockingSink:
    """A store whose appends wait for `release` (or fail, when `fail` is set)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.fail = False
        self.seconds: list[EndpointSecond] = []
        self.threads: set[int] = set()

    def append_batches(self, run_id: int, batches: Sequence[MeasuredBatch]) -> None:
        self.threads.add(threading.get_ident())
        self.release.wait(5)
        if self.fail:
            raise StoreError("the store is down")
        self.seconds.extend(s for b in batches for s in b.seconds)


def _longest_hub_gap_s(while_running: gevent.Greenlet) -> float:
    longest_s, last_s = 0.0, time.perf_counter()
    while not while_running.ready():
        gevent.sleep(0.005)
        now_s = time.perf_counter()
        longest_s, last_s = max(longest_s, now_s - last_s), now_s
    return longest_s


def test_a_blocked_write_runs_on_another_thread_and_the_hub_goes_on() -> None:
    clock = Clock(100.5)
    collector = Collector(clock)
    sink = BlockingSink()
    writer = SecondsWriter(sink, 1, collector)
    thread = WriterThread(writer, started_s=100.0)
    fire(collector, 2.0)
    thread.hand_off(writer.take(101.02, users=1))
    gevent.spawn_later(0.3, sink.release.set)
    waiting = gevent.spawn(thread.wait_idle, 5)
    assert _longest_hub_gap_s(waiting) < 0.1, "the hub waited for the write"
    assert waiting.value is True
    assert [(s.second, s.requests) for s in sink.seconds] == [(100, 1)]
    assert threading.get_ident() not in sink.threads
    assert thread.state.requests_total == 1
    thread.shutdown()


def test_a_write_that_does_not_return_is_a_store_error() -> None:
    now_s = [0.0]
    sink = BlockingSink()
    collector = Collector(Clock(100.5))
    writer = SecondsWriter(sink, 1, collector)
    thread = WriterThread(writer, started_s=100.0, store_url="db://x", clock_s=lambda: now_s[0])
    thread.hand_off(writer.take(101.02, users=1))
    now_s[0] = STORE_STALL_LIMIT_S + 1
    error = thread.store_error()
    assert error is not None
    assert "the run store db://x has not answered a write for 11 s" in str(error)
    sink.release.set()
    assert thread.wait_idle(5)
    thread.shutdown()


def test_failing_writes_keep_their_data_and_stop_the_run_after_a_few() -> None:
    clock = Clock(100.5)
    collector = Collector(clock)
    sink = BlockingSink()
    sink.fail = True
    sink.release.set()
    writer = SecondsWriter(sink, 1, collector)
    thread = WriterThread(writer, started_s=100.0)
    for second in range(100, 100 + MAX_STORE_FAILURES):
        clock.now_s = second + 0.5
        fire(collector, 1.0)
        thread.hand_off(writer.take(second + 1.02, users=1, stall_ms=0.5))
        assert thread.wait_idle(5)
    assert thread.store_error() is not None
    unstored = thread.unstored()
    assert [s.second for b in unstored for s in b.seconds] == list(
        range(100, 100 + MAX_STORE_FAILURES)
    )
    assert len([g for b in unstored for g in b.generator]) == MAX_STORE_FAILURES
    assert len({b.batch_id for b in unstored}) == MAX_STORE_FAILURES, "one id per second's batch"
    thread.shutdown()


def test_seconds_queued_behind_a_slow_write_past_the_bound_are_a_store_error() -> None:
    clock = Clock(100.5)
    collector = Collector(clock)
    sink = BlockingSink()
    writer = SecondsWriter(sink, 1, collector)
    thread = WriterThread(writer, started_s=100.0, store_url="db://x")
    for second in range(100, 100 + MAX_QUEUED_BATCHES + 2):  # one in flight, the rest queued
        assert thread.store_error() is None
        thread.hand_off(writer.take(second + 1.02, users=1))
    error = thread.store_error()
    assert error is not None
    assert "the run store db://x is too slow" in str(error)
    sink.release.set()
    assert thread.wait_idle(5)
    thread.shutdown()


def test_after_stop_writing_no_write_starts_and_the_rest_is_unstored() -> None:
    clock = Clock(100.5)
    collector = Collector(clock)
    sink = BlockingSink()
    writer = SecondsWriter(sink, 1, collector)
    thread = WriterThread(writer, started_s=100.0)
    fire(collector, 1.0)
    thread.hand_off(writer.take(101.02, users=1))  # in flight
    clock.now_s = 101.5
    fire(collector, 1.0)
    thread.hand_off(writer.take(102.02, users=1))  # queued
    clock.now_s = 102.5
    fire(collector, 1.0)
    thread.stop_writing(writer.take(103.02, users=1))
    sink.release.set()
    assert thread.wait_idle(5)
    assert [s.second for s in sink.seconds] == [100], "only the write in flight went on"
    assert [s.second for b in thread.unstored() for s in b.seconds] == [101, 102]
    thread.shutdown()


def test_close_raises_the_store_error_when_the_last_writes_failed() -> None:
    collector = Collector(Clock(100.5))
    sink = BlockingSink()
    sink.fail = True
    sink.release.set()
    writer = SecondsWriter(sink, 1, collector)
    thread = WriterThread(writer, started_s=100.0)
    fire(collector, 1.0)
    with pytest.raises(StoreError, match="the store is down"):
        thread.close(writer.take_all(100.9, users=1), timeout_s=5)
    thread.shutdown()
