"""Recorded buckets and one-pass quantiles: exactly hdrh's own readings, however wide or heavy."""

from __future__ import annotations

import random

import pytest

from loadgate.stats import HIGHEST_US, LatencyHistogram, RecordedBuckets, quantiles_us

QUANTILES = [0.0, 1e-9, 0.001, 0.1, 0.25, 0.5, 0.66, 0.9, 0.95, 0.99, 0.999, 0.9999, 1 - 1 / 3, 1.0]


def random_histogram(rng: random.Random, *, heavy: bool) -> LatencyHistogram:
    """Narrow, wide and lognormal latencies; `heavy` adds counts that need several bytes."""
    histogram = LatencyHistogram()
    for _ in range(rng.choice((1, 2, 7, 100, 3000))):
        value_us = rng.choice(
            (
                rng.randint(0, 3000),
                rng.randint(0, 10**8),
                HIGHEST_US,
                int(rng.lognormvariate(9, 2)),
            )
        )
        count = rng.choice((1, 1, 255, 256, 65_536, 2**40)) if heavy else 1
        histogram.record_us(value_us, count)
    return histogram


def hdrh_quantile_us(histogram: LatencyHistogram, quantile: float) -> int:
    """hdrh's own (slow) reading, as LatencyHistogram answered before it had buckets."""
    hdr = histogram._hdr
    if not histogram.count:
        return 0
    return int(
        hdr.get_max_value() if quantile == 1.0 else hdr.get_value_at_percentile(quantile * 100)
    )


def test_every_bucket_has_hdrh_edges() -> None:
    # One value in each of the ~23,000 buckets: both ends of every bucket as hdrh computes them.
    histogram = LatencyHistogram()
    hdr = histogram._hdr
    lowest = [hdr.get_value_from_index(index) for index in range(hdr.counts_len)]
    for value_us in lowest:
        if value_us <= HIGHEST_US:
            assert histogram.record_us(value_us)
    recorded = histogram.recorded_buckets()
    assert list(recorded.lowest_us) == [v for v in lowest if v <= HIGHEST_US]
    assert list(recorded.highest_us) == [
        hdr.get_highest_equivalent_value(v) for v in lowest if v <= HIGHEST_US
    ]
    assert set(recorded.counts) == {1}
    assert recorded.ids == tuple(range(len(recorded)))


@pytest.mark.parametrize("seed", range(12))
def test_buckets_and_quantiles_equal_hdrh_own(seed: int) -> None:
    rng = random.Random(seed)
    histogram = random_histogram(rng, heavy=seed % 2 == 1)
    if seed % 3 == 0:
        histogram = LatencyHistogram.decode(histogram.encode())
    hdr = histogram._hdr
    recorded = histogram.recorded_buckets()
    assert list(zip(recorded.highest_us, recorded.counts, strict=True)) == [
        (item.value_iterated_to, item.count_at_value_iterated_to)
        for item in hdr.get_recorded_iterator()
    ]
    assert list(recorded.lowest_us) == [
        hdr.get_lowest_equivalent_value(value) for value in recorded.highest_us
    ]
    assert list(recorded.ids) == [hdr.get_counts_array_index(v) for v in recorded.lowest_us]
    assert recorded.count == histogram.count
    expected = [hdrh_quantile_us(histogram, q) for q in QUANTILES]
    assert quantiles_us(recorded, QUANTILES) == expected
    assert [histogram.quantile_us(q) for q in QUANTILES] == expected
    assert recorded.midpoint_sum_us / histogram.count == recorded.mean_us == histogram.mean_us
    assert float(recorded.midpoint_sum_us) / histogram.count == hdr.get_mean_value()


def test_merged_histograms_read_like_one() -> None:
    rng = random.Random(21)
    parts = [random_histogram(rng, heavy=True) for _ in range(6)]
    merged = LatencyHistogram.merged(LatencyHistogram.decode(p.encode()) for p in parts)
    assert quantiles_us(merged.recorded_buckets(), QUANTILES) == [
        hdrh_quantile_us(merged, q) for q in QUANTILES
    ]


@pytest.mark.parametrize("seed", range(5))
def test_quantiles_in_one_pass_equal_the_histograms_own(seed: int) -> None:
    rng = random.Random(seed)
    histogram = LatencyHistogram()
    for _ in range(rng.choice((1, 2, 7, 100, 5000))):
        histogram.record_us(int(rng.lognormvariate(8, 1.5)) + 1)
    quantiles = [0.0, 0.999, 0.5, 0.1, 0.9, 0.95, 0.99, 1.0, 0.25, 1 - 1 / 3, 0.9999]
    expected = [hdrh_quantile_us(histogram, q) for q in quantiles]
    assert quantiles_us(histogram.recorded_buckets(), quantiles) == expected
    assert list(histogram.quantiles_us(quantiles).values()) == expected


def test_quantiles_of_an_empty_histogram_are_zero() -> None:
    empty = LatencyHistogram().recorded_buckets()
    assert empty == RecordedBuckets()
    assert (len(empty), empty.count, empty.mean_us, empty.midpoint_sum_us) == (0, 0, 0.0, 0)
    assert quantiles_us(empty, [0.0, 0.5, 1.0]) == [0, 0, 0]


@pytest.mark.parametrize("quantile", [-0.1, 1.01, 50.0, float("nan")])
def test_quantiles_outside_0_to_1_are_refused(quantile: float) -> None:
    for buckets in (RecordedBuckets(), LatencyHistogram().recorded_buckets()):
        with pytest.raises(ValueError, match=r"within 0\.\.1"):
            quantiles_us(buckets, [0.5, quantile])


def test_a_value_zero_is_its_own_bucket() -> None:
    histogram = LatencyHistogram()
    histogram.record_us(0, 3)
    histogram.record_us(5)
    recorded = histogram.recorded_buckets()
    assert recorded == RecordedBuckets(
        ids=(0, 5), lowest_us=(0, 5), highest_us=(0, 5), counts=(3, 1)
    )
    quantiles = [0.0, 0.5, 0.8, 0.9, 1.0]
    assert quantiles_us(recorded, quantiles) == [0, 0, 0, 5, 5]
    assert [hdrh_quantile_us(histogram, q) for q in quantiles] == [0, 0, 0, 5, 5]
