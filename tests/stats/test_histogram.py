"""LatencyHistogram: exact quantiles on 0–1, out-of-range counting, encoding, merging."""

from __future__ import annotations

import gc
import math
import random
import weakref

import pytest
from hdrh.histogram import HdrHistogram

from loadgate.stats import HIGHEST_US, LOWEST_US, LatencyHistogram
from loadgate.stats.histogram import SIGNIFICANT_DIGITS, bucket_floor_us


def histogram_of(values_us: list[int]) -> LatencyHistogram:
    histogram = LatencyHistogram()
    for value_us in values_us:
        assert histogram.record_us(value_us)
    return histogram


def nearest_rank(sorted_values: list[int], quantile: float) -> int:
    """HDR's definition: the value at rank round(quantile * count), at least the first."""
    rank = max(1, int(quantile * len(sorted_values) + 0.5))
    return sorted_values[rank - 1]


def test_sub_millisecond_quantiles_are_exact() -> None:
    # Below 2048 µs, 3 significant digits means every microsecond has its own bucket.
    histogram = histogram_of(list(range(1, 1001)))
    assert histogram.count == 1000
    assert histogram.quantile_us(0.5) == 500
    assert histogram.quantile_us(0.9) == 900
    assert histogram.quantile_us(0.95) == 950
    assert histogram.quantile_us(0.99) == 990
    assert histogram.quantile_us(0.999) == 999
    assert histogram.quantile_us(1.0) == 1000
    assert histogram.quantile_us(0.0) == 1
    assert (histogram.min_us, histogram.max_us) == (1, 1000)
    assert histogram.mean_us == pytest.approx(500.5)


def test_quantiles_are_within_three_significant_digits() -> None:
    rng = random.Random(7)
    values_us = sorted(int(rng.lognormvariate(math.log(20_000), 1.0)) + 1 for _ in range(20_000))
    histogram = histogram_of(values_us)
    for quantile in (0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999):
        truth = nearest_rank(values_us, quantile)
        assert histogram.quantile_us(quantile) == pytest.approx(truth, rel=1e-3), quantile
    assert histogram.max_us == pytest.approx(values_us[-1], rel=1e-3)
    assert histogram.max_us >= values_us[-1]


def test_a_known_bimodal_distribution() -> None:
    # 90 % at 800 µs (cache hits), 10 % at 120 ms (misses)
    histogram = histogram_of([800] * 900 + [120_000] * 100)
    assert histogram.quantile_us(0.5) == 800
    assert histogram.quantile_us(0.9) == 800
    assert histogram.quantile_us(0.95) == pytest.approx(120_000, rel=1e-3)
    assert histogram.quantile_us(0.99) == pytest.approx(120_000, rel=1e-3)


def test_out_of_range_values_are_counted_not_dropped() -> None:
    histogram = LatencyHistogram()
    assert histogram.record_us(LOWEST_US)
    assert histogram.record_us(HIGHEST_US)
    assert histogram.record_us(0)  # an instant answer is still a measurement
    assert not histogram.record_us(HIGHEST_US + 1)
    assert not histogram.record_us(-5)
    assert histogram.count == 3
    assert histogram.out_of_range == 2


def test_an_empty_histogram_reads_as_zero() -> None:
    histogram = LatencyHistogram()
    assert histogram.count == 0
    assert histogram.quantile_us(0.99) == 0
    assert (histogram.min_us, histogram.max_us, histogram.mean_us) == (0, 0, 0.0)
    assert histogram.recorded_values() == []
    assert LatencyHistogram.decode(histogram.encode()).count == 0


@pytest.mark.parametrize("quantile", [-0.1, 1.01, 50.0])
def test_quantiles_outside_0_to_1_are_refused(quantile: float) -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        LatencyHistogram().quantile_us(quantile)


def test_encode_decode_round_trip_is_exact() -> None:
    rng = random.Random(3)
    histogram = histogram_of([rng.randint(1, 5_000_000) for _ in range(5_000)] + [3, 3, 700])
    histogram.record_us(HIGHEST_US * 2)
    encoded = histogram.encode()
    assert isinstance(encoded, bytes)
    decoded = LatencyHistogram.decode(encoded, out_of_range=histogram.out_of_range)
    assert decoded.recorded_values() == histogram.recorded_values()
    assert decoded.count == histogram.count
    assert decoded.out_of_range == 1
    assert (decoded.min_us, decoded.max_us) == (histogram.min_us, histogram.max_us)
    assert decoded.mean_us == histogram.mean_us
    quantiles = (0.0, 0.5, 0.9, 0.99, 0.999, 1.0)
    assert decoded.quantiles_us(quantiles) == histogram.quantiles_us(quantiles)
    assert decoded.encode() == encoded


def test_merge_equals_recording_everything_in_one() -> None:
    rng = random.Random(11)
    parts = [[rng.randint(1, 2_000_000) for _ in range(rng.randint(0, 300))] for _ in range(8)]
    histograms = [histogram_of(part) for part in parts]
    histograms[2].record_us(-1)
    histograms[5].record_us(HIGHEST_US + 1)
    merged = LatencyHistogram.merged(
        LatencyHistogram.decode(h.encode(), h.out_of_range) for h in histograms
    )
    everything = histogram_of([value for part in parts for value in part])
    assert merged.recorded_values() == everything.recorded_values()
    assert merged.count == everything.count
    assert merged.out_of_range == 2
    assert (merged.min_us, merged.max_us) == (everything.min_us, everything.max_us)
    assert merged.quantile_us(0.99) == everything.quantile_us(0.99)


def test_merging_empty_histograms_changes_nothing() -> None:
    histogram = histogram_of([5, 500, 5000])
    before = histogram.recorded_values()
    histogram.merge(LatencyHistogram())
    assert histogram.recorded_values() == before
    assert LatencyHistogram.merged([]).count == 0
    empty = LatencyHistogram()
    empty.merge(histogram_of([42]))
    assert (empty.min_us, empty.max_us, empty.count) == (42, 42, 1)


def test_repr_shows_the_essentials() -> None:
    text = repr(histogram_of([100, 200, 300]))
    assert "count=3" in text
    assert "p50_us=200" in text


def test_fast_readings_agree_with_hdrh_own_iterators() -> None:
    rng = random.Random(5)
    for _ in range(10):
        values_us = [
            rng.choice([rng.randint(0, 3000), rng.randint(0, 10**8), HIGHEST_US])
            for _ in range(rng.randint(1, 2000))
        ]
        histogram = LatencyHistogram.decode(histogram_of(values_us).encode())
        hdr = histogram._hdr
        assert histogram.recorded_values() == [
            (item.value_iterated_to, item.count_at_value_iterated_to)
            for item in hdr.get_recorded_iterator()
        ]
        assert histogram.mean_us == hdr.get_mean_value()


def test_bucket_floor_is_the_lowest_equivalent_value_of_hdr() -> None:
    hdr = HdrHistogram(1, HIGHEST_US, SIGNIFICANT_DIGITS)
    rng = random.Random(11)
    values_us = [*range(4200), *(rng.randint(0, HIGHEST_US) for _ in range(20_000))]
    for value_us in values_us:
        assert bucket_floor_us(value_us) == hdr.get_lowest_equivalent_value(value_us), value_us


def test_a_decoded_histogram_is_freed_without_the_cyclic_gc() -> None:
    # hdrh's histogram and its encoder point at each other; LatencyHistogram
    # makes the encoder's link weak so that reference counting frees a decoded
    # second at once. An hdrh release that breaks this brings back readers
    # whose memory grows with the run (150 MB more for 4 h than for 1 h).
    encoded = histogram_of([250, 900, 1500]).encode()
    gc.disable()
    try:
        decoded = LatencyHistogram.decode(encoded)
        assert decoded.count == 3
        hdr = weakref.ref(decoded._hdr)
        del decoded
        assert hdr() is None, "freed by reference counting, not left for gc.collect()"
    finally:
        gc.enable()


def test_recording_counts_at_once_equals_recording_each() -> None:
    rng = random.Random(11)
    counts: dict[int, int] = {0: 2, 1: 1, 2047: 3, 2048: 1, HIGHEST_US: 1}
    for _ in range(5000):
        value_us = bucket_floor_us(int(rng.lognormvariate(9, 1.5)))
        counts[value_us] = counts.get(value_us, 0) + rng.randint(1, 3)
    one_by_one, at_once = LatencyHistogram(), LatencyHistogram()
    for value_us, count in counts.items():
        one_by_one.record_us(value_us, count)
    at_once.record_counts({**counts, HIGHEST_US + 1: 4, -1: 1})

    assert at_once.encode() == one_by_one.encode()
    assert (at_once.count, at_once.min_us, at_once.max_us) == (
        one_by_one.count, one_by_one.min_us, one_by_one.max_us,
    )  # fmt: skip
    assert at_once.out_of_range == 5
    # Added to what the histogram held, as record_us adds.
    at_once.record_counts({500: 2})
    one_by_one.record_us(500, 2)
    assert at_once.encode() == one_by_one.encode()
    # A value counted zero times is not a latency seen: min and max ignore it.
    sparse = LatencyHistogram()
    sparse.record_counts({7: 0, 500: 1, 9000: 0})
    assert (sparse.count, sparse.min_us, sparse.max_us) == (1, 500, 500)
