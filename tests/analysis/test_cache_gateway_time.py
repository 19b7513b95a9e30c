"""The cache and gateway-time findings on folded parts: each fires on its cause, and only then."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from loadgate.analysis.cache import cache_findings
from loadgate.analysis.finding import Chart, Severity
from loadgate.analysis.gateway_time import gateway_time_findings
from loadgate.model import Part, PartSecond, UsersSample
from loadgate.stats.parts import NO_PARTS, PartsFold, RunParts
from tests.builders import START_S, histogram_of

HIT, MISS, UPSTREAM, GATEWAY = Part.CACHE_HIT, Part.CACHE_MISS, Part.UPSTREAM, Part.GATEWAY
SECONDS = 30

# offset_s -> the latencies (µs) of each part in that second
Plan = Callable[[int], Mapping[Part, Sequence[int]]]


def fold(plan: Plan, users: Callable[[int], int] = lambda _s: 4) -> RunParts:
    folder = PartsFold(range(START_S, START_S + SECONDS), 1)
    for offset_s in range(SECONDS):
        for part, values in sorted(plan(offset_s).items()):
            if values:
                histogram = histogram_of(values)
                folder.add(
                    PartSecond(second=START_S + offset_s, method="GET", name="/search",
                               part=part, requests=len(values), histogram=histogram.encode())
                )  # fmt: skip
    samples = [UsersSample(second=START_S + s, users=users(s)) for s in range(SECONDS)]
    return folder.parts(START_S, samples)


def steady_cache(offset_s: int) -> Mapping[Part, Sequence[int]]:
    # 9 hits (0.4 ms) and 1 miss (25 ms, of which 24 upstream) a second.
    return {HIT: [400] * 9, MISS: [25_000], UPSTREAM: [24_000], GATEWAY: [800]}


def test_a_working_cache_is_an_info_with_its_ratio_and_latencies() -> None:
    (finding,) = cache_findings(fold(steady_cache))
    assert (finding.kind, finding.severity, finding.chart) == ("cache", Severity.INFO, Chart.CACHE)
    assert finding.endpoint == "GET /search"
    assert finding.numbers["hit_ratio"] == 0.9
    assert (finding.numbers["hits"], finding.numbers["misses"]) == (270, 30)
    assert 0.39 <= float(finding.numbers["hit_p50_ms"]) <= 0.41
    assert 24.9 <= float(finding.numbers["miss_p50_ms"]) <= 25.1
    assert (finding.from_s, finding.to_s) == (0, SECONDS - 1)


def test_a_falling_hit_ratio_is_a_warning() -> None:
    def falling(offset_s: int) -> Mapping[Part, Sequence[int]]:
        hits = 9 if offset_s < 10 else 5 if offset_s < 20 else 2
        return {HIT: [400] * hits, MISS: [25_000] * (10 - hits)}

    (finding,) = cache_findings(fold(falling))
    assert (finding.kind, finding.severity) == ("cache.hit_ratio_falls", Severity.WARNING)
    assert finding.numbers["first_third_hit_ratio"] == 0.9
    assert finding.numbers["last_third_hit_ratio"] == 0.2


def test_a_rising_hit_ratio_is_a_cache_warming_up_not_a_warning() -> None:
    def warming(offset_s: int) -> Mapping[Part, Sequence[int]]:
        hits = min(9, offset_s)
        return {HIT: [400] * hits, MISS: [25_000] * (10 - hits)}

    (finding,) = cache_findings(fold(warming))
    assert finding.severity is Severity.INFO


def test_hits_as_slow_as_misses_are_a_warning() -> None:
    def useless(offset_s: int) -> Mapping[Part, Sequence[int]]:
        return {HIT: [24_000] * 9, MISS: [25_000]}

    (finding,) = cache_findings(fold(useless))
    assert (finding.kind, finding.severity) == ("cache.hits_not_faster", Severity.WARNING)


def test_too_few_misses_to_compare_is_no_finding() -> None:
    # A long TTL on a short run: one miss, then hits.
    def one_miss(offset_s: int) -> Mapping[Part, Sequence[int]]:
        return {HIT: [400] * 9, MISS: [25_000] if offset_s == 0 else []}

    assert cache_findings(fold(one_miss)) == []


def test_no_parts_no_findings() -> None:
    assert cache_findings(NO_PARTS) == []
    assert gateway_time_findings(NO_PARTS) == []
    # Only a split, no cache status (an uncached route): no cache finding.
    split_only = fold(lambda _s: {UPSTREAM: [24_000] * 5, GATEWAY: [800] * 5})
    assert cache_findings(split_only) == []


def ramp_users(offset_s: int) -> int:
    return 1 + offset_s // 5  # 1 to 6 users, 5 s each


def test_a_gateway_time_growing_with_load_is_a_warning() -> None:
    def queueing(offset_s: int) -> Mapping[Part, Sequence[int]]:
        users = ramp_users(offset_s)
        gateway_us = 500 if users <= 2 else 30_000 * (users - 2)
        return {UPSTREAM: [20_000] * 10, GATEWAY: [gateway_us] * 10}

    (finding,) = gateway_time_findings(fold(queueing, ramp_users))
    assert (finding.kind, finding.severity, finding.chart) == (
        "gateway_time", Severity.WARNING, Chart.TIMING,
    )  # fmt: skip
    numbers = finding.numbers
    assert numbers["users_low"] == 2
    assert numbers["users_high"] == 5
    assert 0.49 <= float(numbers["gateway_p95_low_ms"]) <= 0.51
    assert float(numbers["gateway_p95_high_ms"]) > 60
    assert float(numbers["gateway_share_high"]) > 0.7


def test_a_flat_or_upstream_bound_gateway_time_is_no_finding() -> None:
    def flat(offset_s: int) -> Mapping[Part, Sequence[int]]:
        return {UPSTREAM: [20_000] * 10, GATEWAY: [500] * 10}

    def tiny_growth(offset_s: int) -> Mapping[Part, Sequence[int]]:
        # Doubles and more, but by a millisecond or two: a busy machine, not a finding.
        return {UPSTREAM: [20_000] * 10, GATEWAY: [300 * ramp_users(offset_s)] * 10}

    def upstream_bound(offset_s: int) -> Mapping[Part, Sequence[int]]:
        users = ramp_users(offset_s)
        return {UPSTREAM: [20_000 * users] * 10, GATEWAY: [500 * users * 20] * 10}

    for plan in (flat, tiny_growth, upstream_bound):
        assert gateway_time_findings(fold(plan, ramp_users)) == [], plan.__name__


def test_without_a_ramp_there_is_no_growth_to_find() -> None:
    def queueing(offset_s: int) -> Mapping[Part, Sequence[int]]:
        return {UPSTREAM: [20_000] * 10, GATEWAY: [500 if offset_s < 15 else 50_000] * 10}

    assert gateway_time_findings(fold(queueing)) == []
