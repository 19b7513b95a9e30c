"""Run summaries from stored seconds: per endpoint and total, rates, statuses, errors."""

from __future__ import annotations

import pytest

from loadgate.model import UsersSample
from loadgate.stats import TOTAL_NAME, summarize, summarize_endpoint
from loadgate.stats.summary import span_duration_s
from tests.builders import endpoint_second, run_info

SECONDS = [
    endpoint_second(
        100, "GET", "/items", [400] * 50 + [600] * 50, ok={"200": 100}, bytes_received=1000
    ),
    endpoint_second(
        101,
        "GET",
        "/items",
        [500] * 98 + [90_000] * 2,
        ok={"200": 97, "429": 1},
        failed={"500": 1, "0": 1},
        errors={"HTTPError('500')": 1, "ConnectionResetError(104)": 1},
        bytes_received=1000,
    ),
    endpoint_second(100, "POST", "/cart", [2_000] * 10, ok={"201": 10}, bytes_received=100),
    endpoint_second(
        101,
        "POST",
        "/cart",
        [3_000] * 10,
        ok={"201": 8},
        failed={"503": 2},
        errors={"HTTPError('500')": 5},
        bytes_received=100,
        out_of_range=1,
    ),
]
USERS = [UsersSample(second=100, users=10), UsersSample(second=101, users=25)]


def test_each_endpoint_and_the_total() -> None:
    summary = summarize(run_info(), SECONDS, USERS)
    assert [(e.method, e.name) for e in summary.endpoints] == [("POST", "/cart"), ("GET", "/items")]
    cart, items = summary.endpoints
    assert (items.requests, items.failures) == (200, 2)
    assert items.p50_ms == pytest.approx(0.5)
    assert items.p90_ms == pytest.approx(0.6)
    assert items.p99_ms == pytest.approx(0.6)  # rank 198 of 200
    assert items.p999_ms == pytest.approx(90.0, rel=1e-3)
    assert items.max_ms == pytest.approx(90.0, rel=1e-3)
    assert items.min_ms == pytest.approx(0.4)
    assert items.bytes_received == 2000
    assert (cart.requests, cart.failures, cart.out_of_range) == (21, 2, 1)
    assert cart.p50_ms == pytest.approx(2.0, rel=1e-3)
    total = summary.total
    assert (total.method, total.name) == ("", TOTAL_NAME)
    assert (total.requests, total.failures, total.out_of_range) == (221, 4, 1)
    assert total.histogram.count == 220
    assert total.max_ms == items.max_ms
    assert total.min_ms == items.min_ms


def test_rates_use_the_run_duration() -> None:
    summary = summarize(run_info(duration_s=4.0), SECONDS, USERS)
    assert summary.duration_s == 4.0
    assert summary.endpoints[1].rps == pytest.approx(50.0)
    assert summary.total.rps == pytest.approx(221 / 4)


def test_an_unfinished_run_is_measured_by_its_data() -> None:
    first, last = min(s.second for s in SECONDS), max(s.second for s in SECONDS)
    assert span_duration_s(run_info(duration_s=None), first, last) == 2.0
    assert span_duration_s(run_info(duration_s=None), None, None) == 0.0
    assert span_duration_s(run_info(duration_s=4.0), first, last) == 4.0, "an ended run's own"
    summary = summarize(run_info(duration_s=None), SECONDS, USERS)
    assert summary.duration_s == 2.0
    assert summary.total.rps == pytest.approx(221 / 2)
    assert summarize(run_info(duration_s=None), [], []).duration_s == 0.0


def test_status_counts_are_split_into_accepted_and_failed() -> None:
    items = summarize(run_info(), SECONDS, USERS).endpoints[1]
    assert items.ok_status_counts == {"200": 197, "429": 1}
    assert items.failed_status_counts == {"0": 1, "500": 1}
    assert items.status_counts == {"0": 1, "200": 197, "429": 1, "500": 1}
    total = summarize(run_info(), SECONDS, USERS).total
    assert total.ok_status_counts == {"200": 197, "201": 18, "429": 1}
    assert total.failed_status_counts == {"0": 1, "500": 1, "503": 2}
    assert total.error_rate == pytest.approx(4 / 221)


def test_errors_are_grouped_per_endpoint_most_frequent_first() -> None:
    errors = summarize(run_info(), SECONDS, USERS).errors
    assert [(e.method, e.name, e.message, e.count) for e in errors] == [
        ("POST", "/cart", "HTTPError('500')", 5),
        ("GET", "/items", "HTTPError('500')", 1),
        ("GET", "/items", "ConnectionResetError(104)", 1),
    ]


def test_errors_of_one_endpoint_add_up_across_seconds() -> None:
    seconds = [
        endpoint_second(at, "GET", "/x", [100], failed={"500": 1}, errors={"boom": 1})
        for at in range(5)
    ]
    [group] = summarize(run_info(), seconds, []).errors
    assert group.count == 5


def test_users_max_and_an_empty_run() -> None:
    assert summarize(run_info(), SECONDS, USERS).users_max == 25
    empty = summarize(run_info(), [], [])
    assert empty.endpoints == ()
    assert empty.users_max == 0
    assert (empty.total.requests, empty.total.p99_ms, empty.total.rps) == (0, 0.0, 0.0)


def test_summarize_endpoint_on_its_own() -> None:
    summary = summarize_endpoint("GET", "/items", SECONDS[:2], duration_s=0.0)
    assert summary.requests == 200
    assert summary.rps == 0.0
    assert summary.quantile_ms(0.5) == summary.p50_ms
