"""Thresholds judged on a summary of real histograms: every metric kind, both outcomes."""

from __future__ import annotations

import pytest

from loadgate.analysis import (
    Verdict,
    abort_reason,
    all_passed,
    evaluate,
    parse_threshold,
    parse_thresholds,
)
from loadgate.model import ArrivalSecond, RunStatus
from loadgate.stats import LatencyHistogram, RunSummary, summarize
from loadgate.stats.arrivals import add_up
from tests.analysis.builders import shop_summary
from tests.builders import START_S, endpoint_second, run_info


@pytest.fixture(scope="module")
def shop() -> RunSummary:
    return shop_summary()


def verdict_of(expression: str, summary: RunSummary) -> Verdict:
    (verdict,) = evaluate([parse_threshold(expression)], summary)
    return verdict


# (expression, passes, measured as shown, bound as shown); the numbers are
# those of tests/analysis/builders.py's shop, worked out by hand.
CASES = [
    # latencies of the total: 125 requests, p50 630 µs, p95 2 ms, max 1.5 s in HDR's bucket
    ("p50 < 1ms", True, "0.63 ms", "< 1 ms"),
    ("p50 > 1ms", False, "0.63 ms", "> 1 ms"),
    ("p95 <= 2ms", True, "2 ms", "<= 2 ms"),
    ("p95 < 2ms", False, "2 ms", "< 2 ms"),
    ("p95_ms <= 2", True, "2 ms", "<= 2 ms"),
    ("p95 < 2000us", False, "2 ms", "< 2 ms"),
    ("p99 < 1.6s", True, "1500.159 ms", "< 1600 ms"),
    ("p99 < 1.5s", False, "1500.159 ms", "< 1500 ms"),
    ("p99.9 >= 1500ms", True, "1500.159 ms", ">= 1500 ms"),
    ("p999 != 1500.159", False, "1500.159 ms", "!= 1500.159 ms"),
    ("p75 == 0.94ms", True, "0.94 ms", "== 0.94 ms"),
    ("p80 == 1ms", True, "1 ms", "== 1 ms"),
    ("p81 == 1ms", False, "1.5 ms", "== 1 ms"),
    ("max < 2s", True, "1500.159 ms", "< 2000 ms"),
    ("max_ms < 1000", False, "1500.159 ms", "< 1000 ms"),
    ("min >= 10us", True, "0.01 ms", ">= 0.01 ms"),
    ("min > 10us", False, "0.01 ms", "> 0.01 ms"),
    ("mean < 61ms", True, "60.67 ms", "< 61 ms"),
    ("mean_ms < 60", False, "60.67 ms", "< 60 ms"),
    # throughput: 125 requests in 10 s
    ("rps >= 12.5", True, "12.5/s", ">= 12.5/s"),
    ("rps > 12.5", False, "12.5/s", "> 12.5/s"),
    # counts
    ("requests == 125", True, "125", "== 125"),
    ("requests >= 1000", False, "125", ">= 1000"),
    ("bytes_received == 50000", True, "50000", "== 50000"),
    ("bytes_received < 1000", False, "50000", "< 1000"),
    ("out_of_range == 0", True, "0", "== 0"),
    ("out_of_range > 0", False, "0", "> 0"),
    # failures: 7 (2 failed 503, 5 without a response) of 125
    ("failures <= 7", True, "7", "<= 7"),
    ("failures < 7", False, "7", "< 7"),
    ("failures < 6%", True, "5.6%", "< 6%"),
    ("failures < 5%", False, "5.6%", "< 5%"),
    ("error_rate < 6%", True, "5.6%", "< 6%"),
    ("error_rate < 0.05", False, "5.6%", "< 5%"),
    ("error_rate == 0.056", True, "5.6%", "== 5.6%"),
    # statuses: 200×107, 201×10, 429×1 (accepted), 503×2 and 0×5 (failed)
    ("status_429 == 1", True, "1", "== 1"),
    ("status_429 == 0", False, "1", "== 0"),
    ("status_429 < 1%", True, "0.8%", "< 1%"),
    ("status_429 < 0.5%", False, "0.8%", "< 0.5%"),
    ("status_5xx <= 2", True, "2", "<= 2"),
    ("status_5xx == 0", False, "2", "== 0"),
    ("status_2xx == 117", True, "117", "== 117"),
    ("status_2xx > 95%", False, "93.6%", "> 95%"),
    ("status_4xx < 2", True, "1", "< 2"),
    ("status_4xx >= 2", False, "1", ">= 2"),
    ("status_0 == 5", True, "5", "== 5"),
    ("status_0 == 0", False, "5", "== 0"),
    ("status_0 < 5%", True, "4%", "< 5%"),
    ("status_200 >= 100", True, "107", ">= 100"),
    ("status_500 > 0", False, "0", "> 0"),
    ("unexpected == 7", True, "7", "== 7"),
    ("unexpected < 5%", False, "5.6%", "< 5%"),
    ("expected >= 118", True, "118", ">= 118"),
    ("expected_status_counts > 95%", False, "94.4%", "> 95%"),
    # of the whole run
    ("users_max >= 10", True, "10", ">= 10"),
    ("users_max > 10", False, "10", "> 10"),
    ("duration_s >= 10s", True, "10 s", ">= 10 s"),
    ("duration_s > 1000ms", True, "10 s", "> 1 s"),
    ("duration_s < 10", False, "10 s", "< 10 s"),
]


@pytest.mark.parametrize(("expression", "passes", "measured", "bound"), CASES)
def test_total_metrics(
    shop: RunSummary, expression: str, passes: bool, measured: str, bound: str
) -> None:
    verdict = verdict_of(expression, shop)
    assert (verdict.passed, verdict.measured, verdict.bound) == (passes, measured, bound)
    assert verdict.label == expression
    assert verdict.endpoint is None


def test_the_four_attributes_reports_render(shop: RunSummary) -> None:
    verdict = verdict_of("p95 < 300ms", shop)
    assert isinstance(verdict.label, str)
    assert isinstance(verdict.passed, bool)
    assert isinstance(verdict.measured, str)
    assert isinstance(verdict.bound, str)
    assert verdict.metric == "p95"
    assert verdict.measured_value == 2.0


ENDPOINT_CASES = [
    # GET /v1/products: 10..1000 µs, 100 requests at 10/s
    ("GET /v1/products: p95 < 1ms", True, "0.95 ms"),
    ("GET /v1/products: p99 < 0.99ms", False, "0.99 ms"),
    ("GET /v1/products: max <= 1ms", True, "1 ms"),
    ("GET /v1/products: mean == 0.505", True, "0.505 ms"),
    ("GET /v1/products: rps >= 10", True, "10/s"),
    ("GET /v1/products: error_rate == 0", True, "0%"),
    ("get /v1/products: requests == 100", True, "100"),
    # a name without a method: GET and POST /v1/products together (110 requests)
    ("/v1/products: requests == 110", True, "110"),
    ("/v1/products: p95 < 1ms", False, "1.5 ms"),
    ("/v1/products: p50 == 0.55ms", True, "0.55 ms"),
    ("/v1/products: mean < 0.6ms", True, "0.595 ms"),
    ("/v1/products: min == 10us", True, "0.01 ms"),
    ("/v1/products: max == 1.5ms", True, "1.5 ms"),
    ("/v1/products: rps == 11", True, "11/s"),
    ("POST /v1/products: status_201 == 10", True, "10"),
    # a name with colons in it
    ("GET /v1/products/:id: error_rate < 10%", False, "20%"),
    ("GET /v1/products/:id: status_503 == 2", True, "2"),
    ("GET /v1/products/:id: status_429 < 10%", False, "10%"),
    ("GET /v1/products/:id: status_5xx < 25%", True, "20%"),
    # no response at all: status 0, latencies up to the timeout
    ("/v1/search: status_0 < 1", False, "5"),
    ("/v1/search: error_rate <= 100%", True, "100%"),
    ("/v1/search: p50 > 1s", True, "1500.159 ms"),
]


@pytest.mark.parametrize(("expression", "passes", "measured"), ENDPOINT_CASES)
def test_endpoint_metrics(shop: RunSummary, expression: str, passes: bool, measured: str) -> None:
    verdict = verdict_of(expression, shop)
    assert (verdict.passed, verdict.measured) == (passes, measured)


@pytest.mark.parametrize(
    "expression",
    [
        "GET /v1/nothing: p95 < 300ms",
        "DELETE /v1/products: error_rate < 1%",
        "/v1/products/:id/reviews: status_5xx == 0",
    ],
)
def test_an_endpoint_missing_from_the_run_fails(shop: RunSummary, expression: str) -> None:
    verdict = verdict_of(expression, shop)
    endpoint = expression.rsplit(": ", 1)[0]
    assert verdict.passed is False
    assert verdict.measured == f"no endpoint {endpoint!r} in this run"
    assert verdict.measured_value is None
    assert verdict.message == (
        f"threshold {expression!r} failed: no endpoint {endpoint!r} in this run"
    )


def test_a_run_without_requests_fails_its_latency_thresholds() -> None:
    empty = summarize(run_info(duration_s=5.0), [], [])
    latency, errors, rps = evaluate(
        parse_thresholds(["p95 < 300ms", "error_rate < 1%", "rps > 0"]), empty
    )
    assert (latency.passed, latency.measured) == (False, "no requests in this run")
    assert (errors.passed, errors.measured) == (True, "0%")
    assert (rps.passed, rps.measured) == (False, "0/s")


def test_verdicts_keep_the_order_given_and_all_passed(shop: RunSummary) -> None:
    texts = ["rps > 1", "GET /v1/products: p95 < 1ms", "status_5xx == 0", "p50 < 1s"]
    verdicts = evaluate(parse_thresholds(texts), shop)
    assert [v.label for v in verdicts] == texts
    assert [v.passed for v in verdicts] == [True, True, False, True]
    assert not all_passed(verdicts)
    assert all_passed(verdicts[:2])


def test_abort_reason_names_the_first_broken_threshold(shop: RunSummary) -> None:
    verdicts = evaluate(
        parse_thresholds(["rps > 1", "status_5xx == 0", "p95 < 1ms", "p50 < 1s"]), shop
    )
    assert abort_reason(verdicts) == (
        "threshold 'status_5xx == 0' failed: status_5xx was 2, bound == 0 (and 1 more)"
    )
    assert abort_reason(verdicts[:1]) is None
    assert abort_reason([]) is None


def test_percentiles_come_from_the_histogram_not_the_rounded_summary() -> None:
    # 1,000 values 1..1000 µs: p99.5 and p66 are nowhere in the summary's fields.
    seconds = [
        endpoint_second(START_S, "GET", "/x", list(range(1, 1001))),
    ]
    summary = summarize(run_info(duration_s=1.0, status=RunStatus.COMPLETED), seconds, [])
    p995, p66 = evaluate(parse_thresholds(["p99.5 == 0.995", "p66 == 660us"]), summary)
    assert (p995.passed, p995.measured) == (True, "0.995 ms")
    assert (p66.passed, p66.measured) == (True, "0.66 ms")


def test_the_open_model_metrics_are_judged_on_the_runs_arrivals(shop: RunSummary) -> None:
    lags = [LatencyHistogram(), LatencyHistogram()]
    lags[0].record_us(800, 99)
    lags[1].record_us(12_000, 1)
    arrivals = add_up(
        [
            ArrivalSecond(second=START_S, iterations=99, dropped_iterations=0,
                          start_lag=lags[0].encode()),
            ArrivalSecond(second=START_S + 1, iterations=1, dropped_iterations=7,
                          start_lag=lags[1].encode()),
        ]
    )  # fmt: skip
    texts = ["dropped_iterations == 0", "iterations >= 100", "start_lag_p99 < 10ms",
             "start_lag_max < 10ms", "start_lag_p50 < 1ms"]  # fmt: skip
    verdicts = evaluate(parse_thresholds(texts), shop, arrivals=arrivals)
    assert [(v.passed, v.measured) for v in verdicts] == [
        (False, "7"),
        (True, "100"),
        (True, "0.8 ms"),
        (False, "12.007 ms"),  # the top of 12 ms's HDR bucket
        (True, "0.8 ms"),
    ]
    (closed,) = evaluate(parse_thresholds(["dropped_iterations == 0"]), shop)
    assert not closed.passed
    assert closed.measured.startswith("not an open-model run")
