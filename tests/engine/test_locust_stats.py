"""Locust's environment.stats filled from the collector: the same figures as Locust's own listener.

Each test sends the same request events to Locust's own RequestStats (as its
runner's listener logs them) and to a Collector whose finished seconds feed a
second RequestStats (engine.locust_stats), then compares what scripts read.
Latencies are chosen so that HDR's 3 significant digits land in the same
Locust bucket as the raw value (Locust rounds to whole ms under 100 ms, then
to 10 ms, 100 ms...).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import locust
import pytest
from locust import stats as locust_stats_module
from locust.env import Environment
from locust.exception import CatchResponseError
from locust.stats import RequestStats, StatsError

from loadgate.engine.collector import Collector
from loadgate.engine.locust_stats import LocustStatsFeed, drop_locust_request_listener

SECOND = 1_700_000_000
# (seconds after SECOND, method, name, response time ms, bytes, error)
EVENTS: list[tuple[float, str, str, float | None, int, Exception | None]] = [
    (0.1, "GET", "/a", 1.0, 10, None),
    (0.2, "GET", "/a", 5.0, 10, None),
    (0.3, "POST", "/b", 12.0, 20, CatchResponseError("no token")),
    (0.4, "GET", "/a", 150.0, 10, None),
    (1.1, "GET", "/a", 1234.0, 10, None),
    (1.2, "POST", "/b", 12.0, 20, CatchResponseError("no token")),
    (1.3, "POST", "/b", None, 0, ConnectionRefusedError(111, "Connection refused")),
    (2.5, "GET", "/a", 48.0, 10, None),
    (3.5, "GET", "/a", 2.0, 10, None),
]


@dataclass
class Clock:
    now_s: float = float(SECOND)

    def __call__(self) -> float:
        return self.now_s


@dataclass
class Both:
    """Locust's own statistics and ours, fed the same events."""

    theirs: RequestStats = field(default_factory=RequestStats)
    environment: Any = field(default_factory=lambda: Environment(events=locust.events))

    @property
    def ours(self) -> RequestStats:
        stats: RequestStats = self.environment.stats
        return stats


@pytest.fixture
def both(monkeypatch: pytest.MonkeyPatch) -> Iterator[Both]:
    clock = Clock()
    # Locust's StatsEntry reads time.time() when it logs: the same clock for both.
    monkeypatch.setattr(locust_stats_module.time, "time", clock)
    pair = Both()
    collector = Collector(clock)
    collector.on_finished = LocustStatsFeed(pair.environment).add
    for offset_s, method, name, response_ms, length, error in EVENTS:
        clock.now_s = SECOND + offset_s
        pair.theirs.log_request(method, name, response_ms, length)  # type: ignore[arg-type]
        if error is not None:
            pair.theirs.log_error(method, name, error)
        collector.on_request(
            request_type=method,
            name=name,
            response_time=response_ms,
            response_length=length,
            exception=error,
        )
    collector.take_all()
    yield pair


def test_counts_per_endpoint_and_in_total_are_locusts(both: Both) -> None:
    for ours, theirs in [
        (both.ours.total, both.theirs.total),
        (both.ours.get("/a", "GET"), both.theirs.get("/a", "GET")),
        (both.ours.get("/b", "POST"), both.theirs.get("/b", "POST")),
    ]:
        assert ours.num_requests == theirs.num_requests
        assert ours.num_failures == theirs.num_failures
        assert ours.num_none_requests == theirs.num_none_requests
        assert ours.fail_ratio == theirs.fail_ratio
        assert ours.total_content_length == theirs.total_content_length
        assert dict(ours.num_reqs_per_sec) == dict(theirs.num_reqs_per_sec)
        assert dict(ours.num_fail_per_sec) == dict(theirs.num_fail_per_sec)
    assert sorted(both.ours.entries) == sorted(both.theirs.entries)


def test_latencies_are_locusts_buckets_and_percentiles(both: Both) -> None:
    for ours, theirs in [
        (both.ours.total, both.theirs.total),
        (both.ours.get("/a", "GET"), both.theirs.get("/a", "GET")),
    ]:
        assert dict(ours.response_times) == dict(theirs.response_times)
        for quantile in (0.5, 0.9, 0.95, 0.99, 1.0):
            assert ours.get_response_time_percentile(
                quantile
            ) == theirs.get_response_time_percentile(quantile)
        assert ours.min_response_time == pytest.approx(theirs.min_response_time, rel=1e-3)
        assert ours.max_response_time == pytest.approx(theirs.max_response_time, rel=1e-3)
        assert ours.avg_response_time == pytest.approx(theirs.avg_response_time, rel=1e-3)


def test_errors_are_keyed_and_named_as_on_locusts_master(both: Both) -> None:
    # A master holds its workers' errors as text, as we do: a catch_response
    # failure then reads 'no token' (quoted), where a single Locust process,
    # which holds the exception, shows no token.
    on_master = {k: StatsError.unserialize(e.serialize()) for k, e in both.theirs.errors.items()}
    ours = {key: (e.to_name(), e.occurrences) for key, e in both.ours.errors.items()}
    theirs = {key: (e.to_name(), e.occurrences) for key, e in on_master.items()}
    assert ours == theirs
    assert ("POST /b: 'no token'", 2) in ours.values()
    assert ("POST /b: ConnectionRefusedError(111, 'Connection refused')", 1) in ours.values()


def test_mid_run_the_rates_read_the_same_seconds_as_locusts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two requests a second; read at 5.2 s, when the seconds up to 5 are finished."""
    clock = Clock()
    monkeypatch.setattr(locust_stats_module.time, "time", clock)
    pair = Both()
    collector = Collector(clock)
    collector.on_finished = LocustStatsFeed(pair.environment).add
    for offset_s in (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0):
        clock.now_s = SECOND + offset_s
        pair.theirs.log_request("GET", "/", 1.0, 0)
        collector.on_request(request_type="GET", name="/", response_time=1.0, response_length=0)
    clock.now_s = SECOND + 5.2
    collector.take_finished(SECOND + 5)  # the run's tick: the second 5 is not over
    ours, theirs = pair.ours.total, pair.theirs.total
    # Ours ends at the last finished second's end, Locust's at its last request:
    # in a busy run both fall in the current second, so `current_rps` reads the
    # same seconds (up to 2 before the current one).
    assert int(pair.ours.last_request_timestamp) == int(pair.theirs.last_request_timestamp)
    assert ours.current_rps == theirs.current_rps == 2.0
    assert ours.total_rps == pytest.approx(2.0)
    assert ours.num_requests == theirs.num_requests - 1, "the current second joins when it ends"


def test_a_replaced_bucketing_function_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locust_stats_module, "bucket_response_time", lambda ms: 7)
    environment: Any = Environment(events=locust.events)
    collector = Collector(Clock())
    collector.on_finished = LocustStatsFeed(environment).add
    collector.on_request(request_type="GET", name="/", response_time=3.0, response_length=0)
    collector.take_all()
    assert dict(environment.stats.total.response_times) == {7: 1}


def test_the_runners_own_listener_is_the_one_dropped() -> None:
    events: Any = locust.events
    environment: Any = Environment(events=events)
    before = list(events.request._handlers)
    runner = environment.create_local_runner()
    try:
        added = [h for h in events.request._handlers if h not in before]
        assert len(added) == 1, "Locust's runner adds one request listener"
        assert drop_locust_request_listener(events.request)
        assert events.request._handlers == before
        assert not drop_locust_request_listener(events.request), "nothing left to drop"
    finally:
        runner.quit()
