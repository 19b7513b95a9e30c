"""Latency histograms as sparse bucket counts, for reading many windows of a run cheaply.

Abort-on-fail judges windows every second and the CSV history reads
percentiles for every second: both add and take out stored seconds' buckets
here, instead of merging HDR histograms again for every reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate

from loadgate.stats.buckets import RecordedBuckets, quantile_values_us
from loadgate.stats.histogram import LatencyHistogram


class LatencyBuckets:
    """An HDR histogram as sparse bucket counts: cheap to merge, unmerge and read often.

    Its quantiles, mean, min and max equal LatencyHistogram's for the same
    samples (tested): it keeps the recorded buckets' counts and edges by
    bucket id and reads quantiles with the same `quantile_values_us`. The
    count and the midpoint-weighted sum are kept up to date, so the mean
    costs nothing; a reading sorts the bucket ids and sums their counts once,
    and looks up the edges of only the buckets it reports.
    """

    __slots__ = (
        "_counts",
        "_cumulative",
        "_highest",
        "_lowest",
        "_ordered",
        "_total",
        "_weighted_us",
    )

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}  # bucket id -> samples
        self._lowest: dict[int, int] = {}  # bucket id -> its lowest_us
        self._highest: dict[int, int] = {}  # bucket id -> its highest_us
        # the ids ascending and the running counts over them, until the counts change
        self._ordered: tuple[int, ...] | None = None
        self._cumulative: tuple[int, ...] = ()
        self._total = 0
        self._weighted_us = 0  # sum of count x bucket midpoint, as hdrh's mean has it

    def __repr__(self) -> str:
        return f"LatencyBuckets(count={self.count}, buckets={len(self._counts)})"

    @classmethod
    def decode(cls, encoded: bytes) -> LatencyBuckets:
        """From HdrHistogram's compressed encoding, as stored in EndpointSecond.histogram."""
        return cls.of(LatencyHistogram.decode(encoded).recorded_buckets())

    @classmethod
    def of(cls, recorded: RecordedBuckets) -> LatencyBuckets:
        buckets = cls()
        buckets._counts = dict(zip(recorded.ids, recorded.counts, strict=True))
        buckets._lowest = dict(zip(recorded.ids, recorded.lowest_us, strict=True))
        buckets._highest = dict(zip(recorded.ids, recorded.highest_us, strict=True))
        buckets._ordered = recorded.ids
        buckets._cumulative = recorded.cumulative
        buckets._total = recorded.count
        buckets._weighted_us = recorded.midpoint_sum_us
        return buckets

    def merge(self, other: LatencyBuckets) -> None:
        """Add every sample of `other`."""
        if not other._total:
            return
        counts = self._counts
        for bucket, count in other._counts.items():
            counts[bucket] = counts.get(bucket, 0) + count
        # Edges stay known after their bucket empties: a window sees the same buckets again.
        self._lowest.update(other._lowest)
        self._highest.update(other._highest)
        self._total += other._total
        self._weighted_us += other._weighted_us
        self._ordered = None

    def remove(self, other: LatencyBuckets) -> None:
        """Take out what `other` added earlier: how a sliding window forgets its oldest second."""
        counts = self._counts
        for bucket, count in other._counts.items():
            left = counts.get(bucket, 0) - count
            if left > 0:
                counts[bucket] = left
            elif left == 0:
                del counts[bucket]
            else:
                raise ValueError("cannot remove samples that were never added")
        self._total -= other._total
        self._weighted_us -= other._weighted_us
        self._ordered = None

    def _in_order(self) -> tuple[int, ...]:
        if self._ordered is None:
            self._ordered = tuple(sorted(self._counts))
            self._cumulative = tuple(accumulate(map(self._counts.__getitem__, self._ordered)))
        return self._ordered

    @property
    def count(self) -> int:
        return self._total

    @property
    def min_us(self) -> int:
        ordered = self._in_order()
        return self._lowest[ordered[0]] if ordered else 0

    @property
    def max_us(self) -> int:
        ordered = self._in_order()
        return self._highest[ordered[-1]] if ordered else 0

    @property
    def mean_us(self) -> float:
        return self._weighted_us / self._total if self._total else 0.0

    def quantile_us(self, quantile: float) -> int:
        """The value at `quantile` (0–1), as LatencyHistogram.quantile_us gives it."""
        return self.quantiles_us((quantile,))[quantile]

    def quantiles_us(self, quantiles: Sequence[float]) -> dict[float, int]:
        """Several quantiles (0–1) in one reading of the buckets."""
        ordered = self._in_order()
        values = quantile_values_us(
            self._cumulative,
            lambda index: self._lowest[ordered[index]],
            lambda index: self._highest[ordered[index]],
            quantiles,
        )
        return dict(zip(quantiles, values, strict=True))
