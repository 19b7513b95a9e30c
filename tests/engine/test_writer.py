"""The writer: finished seconds to the store, retried after a failure, and the live window."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from loadgate.engine.collector import Collector
from loadgate.engine.writer import SecondsWriter
from loadgate.errors import StoreError
from loadgate.model import EndpointSecond, GeneratorSecond, MeasuredBatch, UsersSample


class Clock:
    def __init__(self, now_s: float) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


class Sink:
    def __init__(self) -> None:
        self.seconds: list[EndpointSecond] = []
        self.users: list[UsersSample] = []
        self.generator: list[GeneratorSecond] = []
        self.fail = False
        self.sent_ids: list[list[str]] = []  # per call, failed ones included

    def append_batches(self, run_id: int, batches: Sequence[MeasuredBatch]) -> None:
        seconds = [s for b in batches for s in b.seconds]
        users = [u for b in batches for u in b.users]
        generator = [g for b in batches for g in b.generator]
        self.sent_ids.append([b.batch_id for b in batches])
        if self.fail:
            raise StoreError("the store is down")
        self.seconds.extend(seconds)
        self.users.extend(users)
        self.generator.extend(generator)


def fire(collector: Collector, response_time_ms: float, failed: bool = False) -> None:
    meta: dict[str, Any] = {
        "request_type": "GET",
        "name": "/a",
        "response_time": response_time_ms,
        "response_length": 1,
        "response": None,
        "exception": "boom" if failed else None,
    }
    collector.on_request(**meta)


def test_ticks_write_finished_seconds_and_users() -> None:
    clock = Clock(100.3)
    collector = Collector(clock)
    sink = Sink()
    writer = SecondsWriter(sink, 1, collector)
    fire(collector, 2.0)
    clock.now_s = 101.1
    fire(collector, 3.0)
    writer.tick(101.02, users=5)
    assert [(s.second, s.requests) for s in sink.seconds] == [(100, 1)]
    assert sink.users == [UsersSample(second=100, users=5)]
    writer.close(101.5, users=5)
    assert [(s.second, s.requests) for s in sink.seconds] == [(100, 1), (101, 1)]
    assert writer.requests_total == 2


def test_a_failed_flush_is_retried_with_the_next_tick() -> None:
    clock = Clock(100.0)
    collector = Collector(clock)
    sink = Sink()
    writer = SecondsWriter(sink, 1, collector)
    fire(collector, 1.0)
    sink.fail = True
    with pytest.raises(StoreError):
        writer.tick(101.0, users=1)
    assert writer.consecutive_failures == 1
    clock.now_s = 101.5
    fire(collector, 1.0)
    sink.fail = False
    writer.tick(102.0, users=1)
    assert writer.consecutive_failures == 0
    assert [(s.second, s.requests) for s in sink.seconds] == [(100, 1), (101, 1)]
    assert [u.second for u in sink.users] == [100, 101]
    # The retry sends the failed batch under its first id, beside the new one's:
    # had the failed commit landed after all, the store would skip it.
    failed, retried = sink.sent_ids
    assert retried[0] == failed[0]
    assert len(set(retried)) == 2


def test_the_recent_window_covers_the_last_whole_seconds() -> None:
    clock = Clock(100.0)
    collector = Collector(clock)
    writer = SecondsWriter(Sink(), 1, collector)
    for second in range(100, 108):
        clock.now_s = second + 0.5
        for _ in range(10):
            fire(collector, 1.0 if second < 105 else 8.0, failed=second == 107)
        writer.tick(second + 1.01, users=1)
    window = writer.recent_window(108.01, started_s=100.0)
    assert window.seconds == 5
    assert window.requests == 50
    assert window.failures == 10
    assert window.rate_per_s == 10.0
    assert 8000 <= window.histogram.quantile_us(0.99) <= 8008  # HDR: 3 significant digits
    assert writer.recent_window(101.5, started_s=100.0).seconds == 1


def test_trailing_seconds_keep_the_window_before_the_current_second() -> None:
    from loadgate.engine.abort import TrailingSeconds

    clock = Clock(100.0)
    collector = Collector(clock)
    trailing = TrailingSeconds(window_s=2)
    writer = SecondsWriter(Sink(), 1, collector, on_seconds=trailing.add)
    for second in range(100, 105):
        clock.now_s = second + 0.5
        fire(collector, 1.0)
        writer.tick(second + 1.01, users=1)
    assert [s.second for s in trailing.last(105)] == [103, 104]
    assert [s.second for s in trailing.last(104)] == [103]
