"""Latency histograms as sparse bucket counts, for reading many windows of a run cheaply.

hdrh answers every quantile and mean by walking its whole counts array in
Python (milliseconds each); abort-on-fail judges windows every second and the
CSV history reads percentiles for every second, so both read this instead.
"""

from __future__ import annotations

import ctypes
from array import array
from collections.abc import Sequence
from itertools import compress

from hdrh.histogram import HdrHistogram


class LatencyBuckets:
    """An HDR histogram as sparse bucket counts: cheap to merge, unmerge and read often.

    Its quantiles, mean, min and max equal LatencyHistogram's for the same
    samples (tested): the same target count per quantile, the same bucket
    edges and the same bucket midpoints for the mean. Bucket edges come from
    the HDR layout's arithmetic, as hdrh's own per-value calls cost ~1 µs each;
    the count and the midpoint-weighted sum are kept up to date, so the mean
    costs nothing.
    """

    __slots__ = (
        "_counts",
        "_half_magnitude",
        "_ordered",
        "_total",
        "_unit_magnitude",
        "_weighted_us",
    )

    def __init__(self, half_magnitude: int = 0, unit_magnitude: int = 0) -> None:
        self._counts: dict[int, int] = {}  # counts-array index -> samples
        self._half_magnitude = half_magnitude  # log2 of half a bucket's sub-buckets
        self._unit_magnitude = unit_magnitude  # log2 of the smallest unit
        self._ordered: list[int] | None = None  # the indices, ascending
        self._total = 0
        self._weighted_us = 0  # sum of count x bucket midpoint, as hdrh's mean has it

    def __repr__(self) -> str:
        return f"LatencyBuckets(count={self.count}, buckets={len(self._counts)})"

    @classmethod
    def decode(cls, encoded: bytes) -> LatencyBuckets:
        """From HdrHistogram's compressed encoding, as stored in EndpointSecond.histogram."""
        hdr = HdrHistogram.decode(encoded)
        buckets = cls(int(hdr.sub_bucket_half_count_magnitude), int(hdr.unit_magnitude))
        if not hdr.get_total_count():
            return buckets
        # Reading a ctypes array item by item is slow: copy only the span between
        # the minimum's and the maximum's index into an array, then pick the non-zeros.
        first = hdr.get_counts_array_index(hdr.get_min_value())
        last = hdr.get_counts_array_index(hdr.get_max_value())
        item_size = ctypes.sizeof(hdr.counts._type_)
        span = array(
            hdr.counts._type_._type_,
            ctypes.string_at(
                ctypes.addressof(hdr.counts) + first * item_size, (last - first + 1) * item_size
            ),
        )
        buckets._counts = {first + i: span[i] for i in compress(range(len(span)), span)}
        buckets._total = sum(buckets._counts.values())
        buckets._weighted_us = sum(
            count * buckets._midpoint(index) for index, count in buckets._counts.items()
        )
        return buckets

    def _edges(self, index: int) -> tuple[int, int]:
        """(lowest_us, highest_us) of the bucket at a counts-array index, as hdrh has them."""
        half_count = 1 << self._half_magnitude
        bucket = (index >> self._half_magnitude) - 1
        sub_bucket = (index & (half_count - 1)) + half_count
        if bucket < 0:
            sub_bucket -= half_count
            bucket = 0
        shift = bucket + self._unit_magnitude
        lowest = sub_bucket << shift
        return lowest, lowest + (1 << shift) - 1

    def _midpoint(self, index: int) -> int:
        lowest, highest = self._edges(index)
        return lowest + ((highest - lowest + 1) >> 1)

    def merge(self, other: LatencyBuckets) -> None:
        """Add every sample of `other`."""
        if not other._total:
            return
        if not self._total:
            self._half_magnitude = other._half_magnitude
            self._unit_magnitude = other._unit_magnitude
        elif (self._half_magnitude, self._unit_magnitude) != (
            other._half_magnitude,
            other._unit_magnitude,
        ):
            raise ValueError("cannot merge histograms of different precision or unit")
        counts = self._counts
        for index, count in other._counts.items():
            counts[index] = counts.get(index, 0) + count
        self._total += other._total
        self._weighted_us += other._weighted_us
        self._ordered = None

    def remove(self, other: LatencyBuckets) -> None:
        """Take out what `other` added earlier: how a sliding window forgets its oldest second."""
        counts = self._counts
        for index, count in other._counts.items():
            left = counts.get(index, 0) - count
            if left > 0:
                counts[index] = left
            elif left == 0:
                del counts[index]
            else:
                raise ValueError("cannot remove samples that were never added")
        self._total -= other._total
        self._weighted_us -= other._weighted_us
        self._ordered = None

    def _sorted(self) -> list[int]:
        if self._ordered is None:
            self._ordered = sorted(self._counts)
        return self._ordered

    @property
    def count(self) -> int:
        return self._total

    @property
    def min_us(self) -> int:
        ordered = self._sorted()
        return self._edges(ordered[0])[0] if ordered else 0

    @property
    def max_us(self) -> int:
        ordered = self._sorted()
        return self._edges(ordered[-1])[1] if ordered else 0

    @property
    def mean_us(self) -> float:
        return self._weighted_us / self._total if self._total else 0.0

    def quantile_us(self, quantile: float) -> int:
        """The value at `quantile` (0–1), as LatencyHistogram.quantile_us gives it."""
        return self.quantiles_us((quantile,))[quantile]

    def quantiles_us(self, quantiles: Sequence[float]) -> dict[float, int]:
        """Several quantiles (0–1) in one walk over the buckets."""
        for quantile in quantiles:
            if not 0.0 <= quantile <= 1.0:
                raise ValueError(f"quantile must be within 0..1, not {quantile}")
        if not self._total:
            return dict.fromkeys(quantiles, 0)
        # hdrh's own rounding of each target count, so both agree on every quantile.
        targets = sorted(
            (max(int(min(q * 100.0, 100.0) * self._total / 100 + 0.5), 1), q)
            for q in quantiles
            if q < 1.0
        )
        values = {q: self.max_us for q in quantiles if q == 1.0}
        seen = 0
        pending = iter(targets)
        target, quantile = next(pending, (0, -1.0))
        for index in self._sorted():
            seen += self._counts[index]
            while quantile >= 0 and seen >= target:
                lowest, highest = self._edges(index)
                values[quantile] = highest if quantile > 0 else lowest
                target, quantile = next(pending, (0, -1.0))
            if quantile < 0:
                break
        return {q: values[q] for q in quantiles}
