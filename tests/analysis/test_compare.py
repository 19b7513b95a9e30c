"""Run comparison on synthetic runs whose latency moves in per-second waves, like real ones."""

from __future__ import annotations

import random
from collections.abc import Mapping

import pytest

from loadgate.analysis.compare import RunOutline, compare_runs
from loadgate.analysis.compare_blocks import (
    BlockFold,
    BlockLayout,
    LatencyGrid,
    grid_counts,
    quantile_bucket,
)
from loadgate.analysis.compare_types import (
    Change,
    ComparedMetric,
    CompareSettings,
    Comparison,
    EndpointComparison,
    Presence,
)
from loadgate.errors import ConfigError
from loadgate.model import EndpointSecond
from loadgate.stats import LatencyHistogram

START_S = 1_700_000_000
# Three endpoints with typical loopback latencies (ms at the median).
ENDPOINTS: dict[str, float] = {"GET /fast": 0.6, "GET /users": 2.0, "POST /orders": 8.0}
LATENCIES = (ComparedMetric.P50, ComparedMetric.P95, ComparedMetric.P99)


def synthetic_run(
    seed: int,
    *,
    seconds: int = 20,
    rate_per_s: int = 100,
    endpoints: Mapping[str, float] = ENDPOINTS,
    shift_ms: Mapping[str, float] | None = None,
    scale: Mapping[str, float] | None = None,
    error_rate: Mapping[str, float] | None = None,
) -> list[EndpointSecond]:
    """Lognormal latencies; each second shares a random slow-down, as on a busy machine."""
    rng = random.Random(seed)
    shift_ms, scale, error_rate = shift_ms or {}, scale or {}, error_rate or {}
    stored = []
    for offset_s in range(seconds):
        wave = rng.lognormvariate(0.0, 0.2)
        for label, median_ms in endpoints.items():
            histogram = LatencyHistogram()
            requests = rng.randint(int(rate_per_s * 0.8), int(rate_per_s * 1.2))
            failures = 0
            for _ in range(requests):
                latency_ms = median_ms * wave * rng.lognormvariate(0.0, 0.4)
                latency_ms = latency_ms * scale.get(label, 1.0) + shift_ms.get(label, 0.0)
                assert histogram.record_us(max(1, round(latency_ms * 1000)))
                failures += rng.random() < error_rate.get(label, 0.0)
            method, name = label.split(" ", 1)
            stored.append(
                EndpointSecond(
                    second=START_S + offset_s,
                    method=method,
                    name=name,
                    requests=requests,
                    failures=failures,
                    bytes_received=0,
                    histogram=histogram.encode(),
                )
            )
    return stored


def endpoint(comparison: Comparison, label: str) -> EndpointComparison:
    for compared in (*comparison.endpoints, comparison.total):
        if compared.label == label:
            return compared
    raise AssertionError(f"{label} is not in the comparison")


def verdicts(comparison: Comparison) -> dict[str, dict[str, Change]]:
    return {
        e.label: {m.metric.value: m.verdict for m in e.metrics}
        for e in (*comparison.endpoints, comparison.total)
    }


def judged(comparison: Comparison) -> set[Change]:
    return {
        m.verdict
        for e in (*comparison.endpoints, comparison.total)
        for m in e.metrics
        if m.metric != ComparedMetric.RPS
    }


@pytest.mark.parametrize("seeds", [(1, 2), (3, 4), (5, 6), (9, 10)])
def test_same_distribution_with_waves_is_unchanged(seeds: tuple[int, int]) -> None:
    comparison = compare_runs(synthetic_run(seeds[0]), synthetic_run(seeds[1]))
    assert judged(comparison) == {Change.UNCHANGED}, verdicts(comparison)
    assert not comparison.has_regression
    assert comparison.verdict == Change.UNCHANGED


def test_20ms_more_on_one_endpoint_is_a_regression_there_only() -> None:
    base = synthetic_run(11)
    candidate = synthetic_run(12, shift_ms={"GET /users": 20.0})
    comparison = compare_runs(base, candidate)
    slow = endpoint(comparison, "GET /users")
    for metric in LATENCIES:
        compared = slow.metric(metric)
        assert compared.verdict == Change.REGRESSION
        assert compared.delta == pytest.approx(20.0, abs=3.0)
        assert compared.interval is not None
        assert compared.interval[0] > 15.0
    for label in ("GET /fast", "POST /orders"):
        assert set(verdicts(comparison)[label].values()) <= {
            Change.UNCHANGED,
            Change.INFORMATIONAL,
        }
    assert comparison.has_regression
    assert {e.label for e, _ in comparison.findings(Change.REGRESSION)} == {"GET /users", "Total"}


def test_30_percent_faster_is_an_improvement() -> None:
    # 40 s: over 20 s, the runs' waves alone move the median by ±10 % (see the method);
    # 25 ms: 30 % of it is well above the 2 ms floor.
    endpoints = {**ENDPOINTS, "POST /orders": 25.0}
    base = synthetic_run(21, seconds=40, endpoints=endpoints)
    candidate = synthetic_run(22, seconds=40, endpoints=endpoints, scale={"POST /orders": 0.7})
    comparison = compare_runs(base, candidate)
    faster = endpoint(comparison, "POST /orders")
    assert faster.metric(ComparedMetric.P50).verdict == Change.IMPROVEMENT
    assert faster.metric(ComparedMetric.P95).verdict == Change.IMPROVEMENT
    assert faster.metric(ComparedMetric.P50).relative == pytest.approx(-0.3, abs=0.08)
    assert not comparison.has_regression
    assert comparison.verdict == Change.IMPROVEMENT


@pytest.mark.parametrize(
    ("shift_ms", "scale"),
    [
        ({"POST /orders": 0.4}, {}),  # 5 % of 8 ms
        ({}, {"POST /orders": 1.04}),
        ({"GET /fast": 0.3}, {}),  # 50 % of 0.6 ms, but under the 2 ms floor
    ],
)
def test_noise_level_shifts_are_unchanged(
    shift_ms: dict[str, float], scale: dict[str, float]
) -> None:
    comparison = compare_runs(synthetic_run(31), synthetic_run(32, shift_ms=shift_ms, scale=scale))
    assert judged(comparison) == {Change.UNCHANGED}, verdicts(comparison)


def test_a_significant_but_small_change_is_unchanged() -> None:
    # 5 % more on 8 ms with a lot of data: the interval excludes zero, yet 5 % < 10 %.
    base = synthetic_run(41, seconds=40, rate_per_s=300, endpoints={"POST /orders": 8.0})
    candidate = synthetic_run(
        42,
        seconds=40,
        rate_per_s=300,
        endpoints={"POST /orders": 8.0},
        scale={"POST /orders": 1.05},
    )
    p50 = endpoint(compare_runs(base, candidate), "POST /orders").metric(ComparedMetric.P50)
    assert p50.verdict == Change.UNCHANGED


def test_too_few_seconds_is_insufficient_data() -> None:
    comparison = compare_runs(synthetic_run(51, seconds=3), synthetic_run(52, seconds=3))
    assert judged(comparison) == {Change.INSUFFICIENT}
    note = endpoint(comparison, "GET /fast").metric(ComparedMetric.P50).note
    assert "needs 5" in note
    assert comparison.verdict == Change.INSUFFICIENT


def test_p99_needs_enough_requests_beyond_it() -> None:
    # 10 s × ~20 req/s = ~200 requests: enough for p50 and p95, not for p99 (needs 500).
    base = synthetic_run(61, seconds=10, rate_per_s=20, shift_ms={"GET /users": 0.0})
    candidate = synthetic_run(62, seconds=10, rate_per_s=20, shift_ms={"GET /users": 20.0})
    users = endpoint(compare_runs(base, candidate), "GET /users")
    assert users.metric(ComparedMetric.P50).verdict == Change.REGRESSION
    assert users.metric(ComparedMetric.P95).verdict == Change.REGRESSION
    p99 = users.metric(ComparedMetric.P99)
    assert p99.verdict == Change.INSUFFICIENT
    assert "needs 500" in p99.note
    assert p99.delta > 15.0  # the values are still shown


def test_same_inputs_give_the_same_comparison() -> None:
    base, candidate = synthetic_run(71), synthetic_run(72, shift_ms={"GET /fast": 1.5})
    first = compare_runs(base, candidate)
    assert compare_runs(base, candidate) == first
    reseeded = compare_runs(base, candidate, settings=CompareSettings(seed=99))
    assert verdicts(reseeded) == verdicts(first)


def test_endpoints_only_in_one_run_are_added_or_removed() -> None:
    base = synthetic_run(81, endpoints={"GET /old": 1.0, "GET /both": 1.0})
    candidate = synthetic_run(82, endpoints={"GET /new": 1.0, "GET /both": 1.0})
    comparison = compare_runs(base, candidate)
    presence = {e.label: e.presence for e in comparison.endpoints}
    assert presence == {
        "GET /both": Presence.BOTH,
        "GET /new": Presence.ADDED,
        "GET /old": Presence.REMOVED,
    }
    added = endpoint(comparison, "GET /new")
    assert added.metrics == ()
    assert added.base_requests == 0
    assert added.candidate_requests > 1000


def test_errors_spread_over_the_run_are_a_regression() -> None:
    comparison = compare_runs(synthetic_run(91), synthetic_run(92, error_rate={"GET /users": 0.05}))
    errors = endpoint(comparison, "GET /users").metric(ComparedMetric.ERROR_RATE)
    assert errors.verdict == Change.REGRESSION
    assert errors.base == 0.0
    assert errors.candidate == pytest.approx(0.05, abs=0.015)
    assert errors.relative is None
    other = endpoint(comparison, "GET /fast").metric(ComparedMetric.ERROR_RATE)
    assert other.verdict == Change.UNCHANGED


def test_a_few_errors_are_under_the_floor() -> None:
    comparison = compare_runs(
        synthetic_run(93), synthetic_run(94, error_rate={"GET /users": 0.002})
    )
    errors = endpoint(comparison, "GET /users").metric(ComparedMetric.ERROR_RATE)
    assert errors.verdict == Change.UNCHANGED


def test_errors_in_one_second_only_are_not_significant() -> None:
    base = synthetic_run(95)
    candidate = synthetic_run(96)
    burst = candidate[3]  # one endpoint's one second: every request failed
    candidate[3] = EndpointSecond(
        second=burst.second,
        method=burst.method,
        name=burst.name,
        requests=burst.requests,
        failures=burst.requests,
        bytes_received=0,
        histogram=burst.histogram,
    )
    label = f"{burst.method} {burst.name}"
    errors = endpoint(compare_runs(base, candidate), label).metric(ComparedMetric.ERROR_RATE)
    assert errors.candidate > 0.04
    assert errors.verdict == Change.UNCHANGED


def test_throughput_is_informational_unless_judged() -> None:
    base = synthetic_run(101, rate_per_s=100)
    candidate = synthetic_run(102, rate_per_s=50)
    shown = endpoint(compare_runs(base, candidate), "GET /fast").metric(ComparedMetric.RPS)
    assert shown.verdict == Change.INFORMATIONAL
    assert shown.relative == pytest.approx(-0.5, abs=0.05)
    settings = CompareSettings(judge_rps=True)
    rps = endpoint(compare_runs(base, candidate, settings=settings), "GET /fast").metric(
        ComparedMetric.RPS
    )
    assert rps.verdict == Change.REGRESSION


def test_shown_throughput_uses_the_run_durations() -> None:
    base, candidate = synthetic_run(111), synthetic_run(112)
    comparison = compare_runs(base, candidate, base_duration_s=40.0, candidate_duration_s=20.0)
    rps = comparison.total.metric(ComparedMetric.RPS)
    assert rps.base == pytest.approx(sum(s.requests for s in base) / 40.0)
    assert rps.candidate == pytest.approx(sum(s.requests for s in candidate) / 20.0)


def test_point_values_are_the_exact_histogram_quantiles() -> None:
    base, candidate = synthetic_run(121), synthetic_run(122)
    users = endpoint(compare_runs(base, candidate), "GET /users")
    merged = LatencyHistogram.merged(
        LatencyHistogram.decode(s.histogram) for s in base if s.name == "/users"
    )
    assert users.metric(ComparedMetric.P95).base == merged.quantile_us(0.95) / 1000
    assert users.base_histogram.count == merged.count


def test_long_runs_are_cut_into_at_most_max_blocks() -> None:
    endpoints = {"GET /users": 2.0}
    base = synthetic_run(131, seconds=300, rate_per_s=10, endpoints=endpoints)
    candidate = synthetic_run(132, seconds=300, rate_per_s=10, endpoints=endpoints)
    comparison = compare_runs(base, candidate, settings=CompareSettings(max_blocks=30))
    assert judged(comparison) == {Change.UNCHANGED}


def test_an_empty_run_compares_as_all_added() -> None:
    comparison = compare_runs([], synthetic_run(141, seconds=6))
    assert {e.presence for e in comparison.endpoints} == {Presence.ADDED}
    assert comparison.total.presence == Presence.ADDED
    assert comparison.verdict == Change.INSUFFICIENT


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"resamples": 10}, "resamples must be at least 100, but is 10"),
        ({"confidence": 1.5}, "confidence must be within 0.5..1, but is 1.5"),
        ({"min_seconds": 1}, "min_seconds must be at least 2"),
    ],
)
def test_bad_settings_are_refused(settings: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CompareSettings(**settings)  # type: ignore[arg-type]


def test_grid_counts_hold_every_recorded_latency() -> None:
    grid = LatencyGrid(resolution=0.01)
    grid_of_id: dict[int, int] = {}  # shared across seconds, as BlockFold shares it
    for stored in synthetic_run(151, seconds=2):
        histogram = LatencyHistogram.decode(stored.histogram)
        buckets = grid_counts(histogram, grid, grid_of_id)
        assert buckets == grid_counts(histogram, grid), "the shared cache changes nothing"
        assert sum(buckets.values()) == histogram.count == stored.requests
        expected: dict[int, int] = {}
        for value_us, count in histogram.recorded_values():
            bucket = grid.bucket(value_us)
            expected[bucket] = expected.get(bucket, 0) + count
        # Lowest and highest equivalent values differ by 0.1 %: each latency lands in
        # the same grid bucket as recorded_values' value, or the one below.
        shift = sum(b * c for b, c in expected.items()) - sum(b * c for b, c in buckets.items())
        assert 0 <= shift <= histogram.count


def test_grid_quantile_of_the_whole_run_is_within_the_grid_resolution() -> None:
    stored = synthetic_run(161, endpoints={"GET /users": 2.0})
    grid = LatencyGrid(resolution=0.01)
    layout = BlockLayout.covering((s.second for s in stored), max_blocks=6)
    fold = BlockFold(layout, grid, None)
    for second in stored:  # in order, as the store streams them
        fold.add(second)
    fold.close_block()
    merged = fold.histograms[("GET", "/users")]
    assert merged.count == sum(s.requests for s in stored)
    blocks = fold.blocks[("GET", "/users")]
    assert blocks.requests == [sum(s.requests for s in stored[i : i + 4]) for i in range(0, 20, 4)]
    bucket_range = blocks.bucket_range()
    assert bucket_range is not None
    series = blocks.series(layout, *bucket_range)
    everything = [1] * layout.blocks
    for quantile in (0.5, 0.95, 0.99):
        exact_us = merged.quantile_us(quantile)
        for start in (0, grid.bucket(exact_us), 10_000):  # the search finds it from anywhere
            bucket = quantile_bucket(series, everything, quantile, start)
            assert bucket is not None
            assert grid.value_us(bucket) == pytest.approx(exact_us, rel=0.012)
    assert quantile_bucket(series, [0] * layout.blocks, 0.5, 0) is None


def test_labels_do_not_repeat_the_method() -> None:
    endpoints = {"GET GET /named": 1.0, "GET /plain": 1.0}
    comparison = compare_runs(
        synthetic_run(171, seconds=6, endpoints=endpoints),
        synthetic_run(172, seconds=6, endpoints=endpoints),
    )
    assert {e.label for e in comparison.endpoints} == {"GET /named", "GET /plain"}
    assert comparison.total.label == "Total"


def test_every_endpoint_moving_by_the_same_factor_is_pointed_out() -> None:
    endpoints = {"GET /a": 10.0, "GET /b": 20.0, "GET /c": 40.0}
    base = synthetic_run(181, endpoints=endpoints)
    everything_slower = synthetic_run(182, endpoints=endpoints, scale=dict.fromkeys(endpoints, 1.5))
    shared = compare_runs(base, everything_slower).common_p50_change
    assert shared == pytest.approx(0.5, abs=0.1)
    one_slower = synthetic_run(183, endpoints=endpoints, scale={"GET /b": 1.5})
    assert compare_runs(base, one_slower).common_p50_change is None
    assert compare_runs(base, synthetic_run(184, endpoints=endpoints)).common_p50_change is None


def test_folding_a_stream_of_seconds_compares_as_the_whole_list() -> None:
    # 200 seconds: longer blocks than one second, and pieces of seconds (as
    # workers send them) in the candidate.
    base = synthetic_run(71, seconds=200, rate_per_s=20)
    candidate = synthetic_run(72, seconds=200, rate_per_s=20, scale={"POST /orders": 1.5})
    pieces = [*candidate[:30], *candidate[:30]]  # the first 10 seconds, twice: their pieces
    doubled = [*pieces, *candidate[30:]]
    listed = compare_runs(base, doubled)
    streamed = compare_runs(
        iter(base),
        iter(doubled),
        base_outline=RunOutline(first_second=START_S, last_second=START_S + 199),
        candidate_outline=RunOutline(first_second=START_S, last_second=START_S + 199),
    )
    assert streamed == listed
    # A finished run's stored totals give the merged histograms: the same comparison.
    merged = {
        (method, name): LatencyHistogram.merged(
            LatencyHistogram.decode(s.histogram) for s in base if s.name == name
        )
        for method, name in {(s.method, s.name) for s in base}
    }
    outlined = compare_runs(
        iter(base),
        doubled,
        base_outline=RunOutline(first_second=START_S, last_second=START_S + 199, histograms=merged),
    )
    assert outlined == listed
    assert [e.base_histogram.quantiles_us((0.5, 0.99)) for e in outlined.endpoints] == [
        e.base_histogram.quantiles_us((0.5, 0.99)) for e in listed.endpoints
    ]
    assert verdicts(streamed) == verdicts(listed)
    orders = endpoint(streamed, "POST /orders")
    assert orders.candidate_requests == sum(s.requests for s in doubled if s.name == "/orders"), (
        "pieces add up"
    )
    assert orders.metric(ComparedMetric.P50).verdict == Change.REGRESSION
