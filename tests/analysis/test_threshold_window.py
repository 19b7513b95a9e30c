"""Abort-on-fail: abortable thresholds judged on the last seconds, and the sparse histogram."""

from __future__ import annotations

import random

import pytest

from loadgate.analysis import (
    AbortCheck,
    LatencyBuckets,
    Verdict,
    abort_window_s,
    evaluate_window,
    parse_thresholds,
)
from loadgate.model import EndpointSecond
from loadgate.stats import LatencyHistogram
from tests.builders import START_S, endpoint_second

QUANTILES = (0.0, 0.001, 0.25, 0.5, 0.66, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0)


@pytest.mark.parametrize("seed", range(8))
def test_latency_buckets_read_exactly_like_the_histogram(seed: int) -> None:
    rng = random.Random(seed)
    histograms = []
    for _ in range(4):
        histogram = LatencyHistogram()
        spread = rng.uniform(0.0, 16.0)
        for _ in range(rng.randint(1, 2000)):
            histogram.record_us(int(rng.lognormvariate(spread, 1.0)))
        histograms.append(histogram)
    merged = LatencyHistogram.merged(histograms)
    buckets = LatencyBuckets()
    for histogram in histograms:
        buckets.merge(LatencyBuckets.decode(histogram.encode()))
    assert buckets.quantiles_us(QUANTILES) == merged.quantiles_us(QUANTILES)
    assert (buckets.count, buckets.min_us, buckets.max_us) == (
        merged.count,
        merged.min_us,
        merged.max_us,
    )
    assert buckets.mean_us == merged.mean_us


@pytest.mark.parametrize("seed", range(4))
def test_latency_buckets_after_removals_read_like_what_is_left(seed: int) -> None:
    rng = random.Random(100 + seed)
    histograms = []
    for _ in range(6):
        histogram = LatencyHistogram()
        for _ in range(rng.randint(1, 500)):
            histogram.record_us(int(rng.lognormvariate(rng.uniform(4.0, 12.0), 1.0)))
        histograms.append(histogram)
    parts = [LatencyBuckets.decode(h.encode()) for h in histograms]
    window = LatencyBuckets()
    for part in parts:
        window.merge(part)
        window.quantiles_us(QUANTILES)  # a reading between changes must not go stale
    for part in parts[:3]:
        window.remove(part)
    left = LatencyHistogram.merged(histograms[3:])
    assert window.quantiles_us(QUANTILES) == left.quantiles_us(QUANTILES)
    assert (window.count, window.min_us, window.max_us, window.mean_us) == (
        left.count,
        left.min_us,
        left.max_us,
        left.mean_us,
    )


def test_empty_latency_buckets() -> None:
    empty = LatencyBuckets.decode(LatencyHistogram().encode())
    assert (empty.count, empty.min_us, empty.max_us, empty.mean_us) == (0, 0, 0, 0.0)
    assert empty.quantile_us(0.99) == 0
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        empty.quantile_us(99.0)


def degrading_run(seconds_s: int = 20) -> list[EndpointSecond]:
    """GET /a, 10 requests a second: 0.5 ms and all ok for 10 s, then 1.5 ms with 5 failed 503s.

    GET /b: 4 requests a second at 1 ms throughout, all ok. (Exact in HDR below 2048 µs.)
    """
    seconds = []
    for s in range(seconds_s):
        if s < 10:
            seconds.append(endpoint_second(START_S + s, "GET", "/a", [500] * 10))
        else:
            seconds.append(
                endpoint_second(
                    START_S + s, "GET", "/a", [1500] * 10, ok={"200": 5}, failed={"503": 5}
                )
            )
        seconds.append(endpoint_second(START_S + s, "GET", "/b", [1000] * 4))
    return seconds


def labels(verdicts: list[Verdict]) -> dict[str, tuple[bool, str]]:
    return {v.label: (v.passed, v.measured) for v in verdicts}


def test_only_abortable_thresholds_are_judged_on_the_last_window() -> None:
    thresholds = parse_thresholds(
        [
            "p95 <= 1ms abort@5s",
            "error_rate < 10% abort@5s",
            "GET /b: p99 < 3ms abort@5s",
            "p95 < 1ms",  # not abortable
            "requests > 10",  # not abortable
        ]
    )
    seconds = degrading_run()
    healthy = evaluate_window(thresholds, [s for s in seconds if s.second < START_S + 10])
    assert labels(healthy) == {
        "p95 <= 1ms abort@5s": (True, "1 ms"),
        "error_rate < 10% abort@5s": (True, "0%"),
        "GET /b: p99 < 3ms abort@5s": (True, "1 ms"),
    }
    broken = evaluate_window(thresholds, seconds)
    assert labels(broken) == {
        "p95 <= 1ms abort@5s": (False, "1.5 ms"),
        "error_rate < 10% abort@5s": (False, "35.714%"),  # 25 of 70 in the last 5 s
        "GET /b: p99 < 3ms abort@5s": (True, "1 ms"),
    }
    assert all(v.window_s == 5 for v in broken)


def test_each_threshold_reads_its_own_window() -> None:
    thresholds = parse_thresholds(
        ["GET /a: error_rate < 20% abort@20s", "status_5xx == 0 abort@5s"]
    )
    # at second 14: 5 bad seconds of 20 for /a (25 failures of 200 = 12.5%), 5xx in the last 5 s
    seconds = [s for s in degrading_run() if s.second <= START_S + 14]
    verdicts = evaluate_window(thresholds, seconds, run_started_s=START_S)
    assert labels(verdicts) == {"status_5xx == 0 abort@5s": (False, "25")}
    seconds = degrading_run(20)
    verdicts = evaluate_window(thresholds, seconds)
    assert labels(verdicts) == {
        "GET /a: error_rate < 20% abort@20s": (False, "25%"),
        "status_5xx == 0 abort@5s": (False, "25"),
    }


def test_nothing_is_judged_before_a_full_window() -> None:
    thresholds = parse_thresholds(["rps > 100 abort@10s"])
    seconds = degrading_run(9)
    assert evaluate_window(thresholds, seconds) == []
    assert evaluate_window(thresholds, seconds, run_started_s=START_S) == []
    # the run began a second before its first request finished: the window is full
    verdicts = evaluate_window(thresholds, seconds, run_started_s=START_S - 1)
    assert labels(verdicts) == {"rps > 100 abort@10s": (False, "12.6/s")}


def test_rps_over_the_window_and_a_target_that_stopped_answering() -> None:
    thresholds = parse_thresholds(["rps >= 14 abort@10s", "p95 < 10ms abort@10s"])
    seconds = degrading_run(10)
    assert labels(evaluate_window(thresholds, seconds)) == {
        "rps >= 14 abort@10s": (True, "14/s"),
        "p95 < 10ms abort@10s": (True, "1 ms"),
    }
    # 5 s later nothing finished: half the requests of the window
    assert labels(evaluate_window(thresholds, seconds, now_s=START_S + 14)) == {
        "rps >= 14 abort@10s": (False, "7/s"),
        "p95 < 10ms abort@10s": (True, "1 ms"),
    }
    # later still, no latency in the window to judge: only the rate is judged
    assert labels(evaluate_window(thresholds, [], now_s=START_S + 30, run_started_s=START_S)) == {
        "rps >= 14 abort@10s": (False, "0/s"),
    }
    assert evaluate_window(thresholds, []) == []


def test_the_abort_check_the_engine_calls_each_second() -> None:
    thresholds = parse_thresholds(["p99 < 3ms", "error_rate < 1%", "requests > 5"])
    assert not AbortCheck(thresholds)
    assert AbortCheck(thresholds).window_s == 0
    check = AbortCheck(
        parse_thresholds(["p99 < 1.2ms abort@3s", "error_rate < 1% abort@5s", "requests > 5"]),
        run_started_s=START_S,
    )
    assert check
    assert check.window_s == 5
    seconds = degrading_run()
    reasons = []
    for now in range(20):
        # the engine keeps the last window_s seconds
        recent = [s for s in seconds if now - check.window_s < s.second - START_S <= now]
        reasons.append(check(recent))
    assert reasons[:10] == [None] * 10
    assert reasons[10] == (
        "threshold 'p99 < 1.2ms abort@3s' failed over the last 3 s: p99 was 1.5 ms, bound < 1.2 ms "
        "(and 1 more)"
    )
    assert all(reason is not None for reason in reasons[10:])


def test_the_abort_check_agrees_with_a_fresh_evaluation_every_second() -> None:
    thresholds = parse_thresholds(
        ["p50 < 1ms abort@4s", "GET /a: mean < 1ms abort@2s", "max <= 1ms abort"]
    )
    check = AbortCheck(thresholds, run_started_s=START_S)
    seconds = degrading_run()
    for now in range(20):
        recent = [s for s in seconds if s.second - START_S <= now]
        expected = evaluate_window(thresholds, recent, run_started_s=START_S)
        assert check.verdicts(recent) == expected


def test_abort_window_s() -> None:
    assert abort_window_s(parse_thresholds(["p95 < 3ms", "p99 < 4ms abort@1m"])) == 60
    assert abort_window_s(parse_thresholds(["p95 < 3ms"])) == 0


def test_a_piece_given_again_with_other_content_replaces_the_first() -> None:
    check = AbortCheck(
        parse_thresholds(["max < 1ms abort@2s", "requests < 25 abort@2s"]), run_started_s=START_S
    )
    first = [
        endpoint_second(START_S, "GET", "/a", [500] * 10),
        endpoint_second(START_S + 1, "GET", "/a", [500]),
    ]
    assert labels(check.verdicts(first)) == {
        "max < 1ms abort@2s": (True, "0.5 ms"),
        "requests < 25 abort@2s": (True, "11"),
    }
    # the caller now holds second 1 as one piece of 15 requests, one of them slow
    again = [first[0], endpoint_second(START_S + 1, "GET", "/a", [500] * 14 + [1500])]
    assert labels(check.verdicts(again)) == {
        "max < 1ms abort@2s": (False, "1.5 ms"),
        "requests < 25 abort@2s": (False, "25"),
    }
    assert check.verdicts(again) == evaluate_window(check.thresholds, again)


def test_equal_pieces_of_one_second_are_all_counted() -> None:
    """Two workers may send the same second with the same counts: both pieces count."""
    thresholds = parse_thresholds(["requests < 25 abort@2s", "p99 < 1ms abort@2s"])
    piece = endpoint_second(START_S + 1, "GET", "/a", [500] * 9 + [1500])
    pieces = [endpoint_second(START_S, "GET", "/a", [500] * 5), piece, piece]
    check = AbortCheck(thresholds, run_started_s=START_S)
    assert labels(check.verdicts(pieces)) == {
        "requests < 25 abort@2s": (False, "25"),
        "p99 < 1ms abort@2s": (False, "1.5 ms"),
    }
    as_one = [pieces[0], endpoint_second(START_S + 1, "GET", "/a", ([500] * 9 + [1500]) * 2)]
    assert check.verdicts(pieces) == evaluate_window(thresholds, as_one, run_started_s=START_S)
    # a third equal piece arrives: the window adds it too
    assert labels(check.verdicts([*pieces, piece]))["requests < 25 abort@2s"] == (False, "35")


def test_latency_buckets_refuse_to_remove_what_they_never_held() -> None:
    held = LatencyBuckets.decode(second_histogram([500, 600]))
    other = LatencyBuckets.decode(second_histogram([700]))
    with pytest.raises(ValueError, match="never added"):
        held.remove(other)


def second_histogram(latencies_us: list[int]) -> bytes:
    histogram = LatencyHistogram()
    for value in latencies_us:
        histogram.record_us(value)
    return histogram.encode()
