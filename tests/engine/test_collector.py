"""The request listener: per endpoint and second, exact, with statuses and grouped errors."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import pytest
from geventhttpclient.header import Headers as FastHeaders
from requests.structures import CaseInsensitiveDict

from loadgate.engine.collector import (
    MAX_ERROR_MESSAGES,
    MAX_KEYS_PER_SECOND,
    OTHER_ERRORS,
    Collector,
    error_message,
)
from loadgate.model import Part
from loadgate.stats import LatencyHistogram


class Clock:
    def __init__(self, now_s: float = 1_000.0) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


@dataclass
class Response:
    status_code: int | None


class CatchResponseError(Exception):
    pass


def fire(collector: Collector, name: str = "/a", method: str = "GET", **kwargs: Any) -> None:
    meta: dict[str, Any] = {
        "request_type": method,
        "name": name,
        "response_time": 1.0,
        "response_length": 10,
        "response": Response(200),
        "exception": None,
        "context": {},
        "start_time": 0.0,
        "url": "http://127.0.0.1/a",
    }
    meta.update(kwargs)
    collector.on_request(**meta)


def test_requests_are_counted_per_endpoint_and_second() -> None:
    clock = Clock(1000.2)
    collector = Collector(clock)
    fire(collector, "/a")
    fire(collector, "/a")
    fire(collector, "/b", method="POST")
    clock.now_s = 1001.5
    fire(collector, "/a")
    finished = collector.take_finished(current_second=1001)
    assert [f.second for f in finished] == [1000]
    stored = {(s.method, s.name): s for s in finished[0].to_endpoint_seconds()}
    assert stored["GET", "/a"].requests == 2
    assert stored["POST", "/b"].requests == 1
    assert stored["GET", "/a"].bytes_received == 20
    # The current second stays until it is over, or until the end.
    assert collector.take_finished(current_second=1001) == []
    rest = collector.take_all()
    assert [(f.second, f.to_endpoint_seconds()[0].requests) for f in rest] == [(1001, 1)]


def test_latency_is_recorded_in_whole_microseconds() -> None:
    collector = Collector(Clock())
    for response_time_ms in (0.2994, 0.3006, 5.0, 49.9999):
        fire(collector, response_time=response_time_ms)
    (second,) = collector.take_all()
    histogram = LatencyHistogram.decode(second.to_endpoint_seconds()[0].histogram)
    recorded = [value for value, _ in histogram.recorded_values()]
    # Up to 3 significant digits: HDR reports the top of each value's bucket.
    assert recorded[:2] == [299, 301]
    assert 5000 <= recorded[2] <= 5005
    assert 50000 <= recorded[3] <= 50050


def test_no_response_time_counts_the_request_but_not_a_latency() -> None:
    collector = Collector(Clock())
    fire(collector, response_time=None)
    (stored,) = collector.take_all()[0].to_endpoint_seconds()
    assert stored.requests == 1
    assert LatencyHistogram.decode(stored.histogram).count == 0


def test_statuses_split_by_outcome_even_when_the_script_decided() -> None:
    collector = Collector(Clock())
    fire(collector, response=Response(429))  # accepted with catch_response: a success
    fire(collector, response=Response(200), exception=CatchResponseError("bad body"))
    fire(collector, response=Response(0), exception=ConnectionRefusedError(111, "refused"))
    fire(collector, response=None, exception=ConnectionResetError())
    fire(collector, response=Response(None))
    (stored,) = collector.take_all()[0].to_endpoint_seconds()
    assert stored.ok_status_counts == {"0": 1, "429": 1}
    assert stored.failed_status_counts == {"0": 2, "200": 1}
    assert stored.failures == 3
    assert stored.errors == {
        "CatchResponseError('bad body')": 1,
        "ConnectionRefusedError(111, 'refused')": 1,
        "ConnectionResetError()": 1,
    }


def test_an_empty_exception_is_a_success_as_in_locust() -> None:
    collector = Collector(Clock())
    fire(collector, exception="")
    (stored,) = collector.take_all()[0].to_endpoint_seconds()
    assert stored.failures == 0


def test_error_messages_lose_memory_addresses_and_are_bounded() -> None:
    class Thing:
        pass

    assert "0x" not in error_message(Thing())
    assert error_message("plain text") == "plain text"
    collector = Collector(Clock())
    for i in range(MAX_ERROR_MESSAGES + 10):
        fire(collector, exception=f"order {i} failed")
    (stored,) = collector.take_all()[0].to_endpoint_seconds()
    assert len(stored.errors) == MAX_ERROR_MESSAGES + 1
    assert stored.errors[OTHER_ERRORS] == 10
    assert sum(stored.errors.values()) == stored.failures


def test_a_clock_going_back_starts_a_new_piece_of_that_second() -> None:
    clock = Clock(1001.0)
    collector = Collector(clock)
    fire(collector)
    clock.now_s = 1000.5
    fire(collector)
    assert [f.second for f in collector.take_all()] == [1001, 1000]


def test_counting_by_hdr_bucket_loses_nothing() -> None:
    rng = random.Random(7)
    values_us = [rng.randint(0, 5_000_000) for _ in range(5000)]
    values_us += [rng.randint(0, 3000) for _ in range(2000)] + [2047, 2048, 2049, 4095, 4096]
    direct = LatencyHistogram()
    collector = Collector(Clock())
    for value_us in values_us:
        direct.record_us(value_us)
        fire(collector, response_time=value_us / 1000)
    (stored,) = collector.take_all()[0].to_endpoint_seconds()
    counted = LatencyHistogram.decode(stored.histogram)
    assert counted.recorded_values() == direct.recorded_values()


def test_latencies_beyond_an_hour_are_counted_out_of_range() -> None:
    collector = Collector(Clock())
    fire(collector, response_time=3_600_001_000.0)
    fire(collector, response_time=2.0)
    (stored,) = collector.take_all()[0].to_endpoint_seconds()
    assert stored.out_of_range == 1
    assert stored.requests == 2
    assert LatencyHistogram.decode(stored.histogram).count == 1


@dataclass
class HeadedResponse:
    status_code: int
    headers: dict[str, str]


def test_cache_status_and_upstream_time_are_counted_apart() -> None:
    collector = Collector(Clock(1000.0))
    hit = HeadedResponse(200, {"X-Cache-Status": "HIT", "Age": "3"})
    miss = HeadedResponse(
        200, {"X-Cache-Status": "MISS", "Server-Timing": "gateway;dur=2, upstream;dur=30"}
    )
    fire(collector, response=hit, response_time=1.0)
    fire(collector, response=hit, response_time=1.5)
    fire(collector, response=miss, response_time=35.0)
    fire(collector, response=Response(200), response_time=9.0)  # says nothing
    fire(collector, response=None, response_time=9.0, exception=ConnectionError("refused"))

    (stored,) = collector.take_all()[0].to_endpoint_seconds()

    assert stored.requests == 5
    assert {part: held.requests for part, held in stored.parts.items()} == {
        Part.CACHE_HIT: 2,
        Part.CACHE_MISS: 1,
        Part.UPSTREAM: 1,
        Part.GATEWAY: 1,
    }
    quantile_us = {
        part: LatencyHistogram.decode(held.histogram).quantile_us(1.0)
        for part, held in stored.parts.items()
    }
    assert quantile_us[Part.CACHE_HIT] == pytest.approx(1500, rel=0.001)
    assert quantile_us[Part.CACHE_MISS] == pytest.approx(35000, rel=0.001)
    assert quantile_us[Part.UPSTREAM] == pytest.approx(30000, rel=0.001)
    assert quantile_us[Part.GATEWAY] == pytest.approx(2000, rel=0.001)


def test_a_second_without_such_headers_has_no_parts() -> None:
    collector = Collector(Clock(1000.0))
    fire(collector, response=HeadedResponse(200, {"Content-Type": "text/plain"}))
    (stored,) = collector.take_all()[0].to_endpoint_seconds()
    assert stored.parts == {}


@dataclass
class SentRequest:
    headers: Any


@dataclass
class Answer:
    """A response as both of Locust's clients give it: headers, and the request sent."""

    status_code: int
    headers: Any
    request: SentRequest


@pytest.fixture(params=["requests", "geventhttpclient"])
def header_type(request: pytest.FixtureRequest) -> type:
    """Both of Locust's clients' header containers (case-insensitive, stored lowercased)."""
    return CaseInsensitiveDict if request.param == "requests" else FastHeaders  # type: ignore[no-any-return]


def test_429s_without_a_retry_hint_are_counted_apart(header_type: type) -> None:
    collector = Collector(Clock(1000.0))
    sent = SentRequest(header_type({}))
    for hint in ({"Retry-After": "1"}, {"RateLimit-Remaining": "0"}, {"x-ratelimit-reset": "3"}):
        fire(collector, response=Answer(429, header_type(hint), sent), response_time=2.0)
    bare = Answer(429, header_type({"Content-Type": "application/json"}), sent)
    fire(collector, response=bare, response_time=4.0)
    fire(collector, response=bare, response_time=4.0)
    # Other statuses are not looked at: a 503 without a hint is not counted.
    fire(collector, response=Answer(503, header_type({}), sent))

    (stored,) = collector.take_all()[0].to_endpoint_seconds()
    assert {part: held.requests for part, held in stored.parts.items()} == {Part.UNHINTED_429: 2}
    histogram = LatencyHistogram.decode(stored.parts[Part.UNHINTED_429].histogram)
    assert histogram.quantile_us(1.0) == pytest.approx(4000, rel=0.001)


def test_distinct_keys_of_accepted_requests_are_counted_per_second(header_type: type) -> None:
    clock = Clock(1000.0)
    collector = Collector(clock, key_header="X-API-Key")
    ok, rejected = {"Content-Type": "text/plain"}, {"Retry-After": "1"}

    def answer(status: int, headers: dict[str, str], sent: dict[str, str]) -> Answer:
        return Answer(status, header_type(headers), SentRequest(header_type(sent)))

    for key in ("a", "b", "a", "a"):
        fire(collector, response=answer(200, ok, {"x-api-key": key}))
    # Rejected, unanswered and keyless requests add no key.
    fire(collector, response=answer(429, rejected, {"X-Api-Key": "c"}))
    fire(collector, response=None, exception=ConnectionError("refused"))
    fire(collector, response=answer(200, ok, {}))
    clock.now_s = 1001.0
    fire(collector, response=answer(200, ok, {"X-API-Key": "z"}))

    first, second = collector.take_all()
    (stored,) = first.to_endpoint_seconds()
    assert stored.key_values == {"a", "b"} and stored.parts == {}
    assert second.to_endpoint_seconds()[0].key_values == {"z"}


def test_keys_are_bounded_per_second_and_not_counted_without_a_key_header() -> None:
    collector = Collector(Clock(1000.0), key_header="X-API-Key")
    unkeyed = Collector(Clock(1000.0))
    for index in range(MAX_KEYS_PER_SECOND + 10):
        answer = Answer(200, {}, SentRequest(CaseInsensitiveDict({"X-API-Key": str(index)})))
        fire(collector, response=answer)
        fire(unkeyed, response=answer)
    (stored,) = collector.take_all()[0].to_endpoint_seconds()
    assert len(stored.key_values) == MAX_KEYS_PER_SECOND
    assert unkeyed.take_all()[0].to_endpoint_seconds()[0].key_values == frozenset()
