"""A histogram as the ids and counts of its non-empty buckets: what a read of stored seconds folds.

A stored second fills a few hundred of the 23,552 buckets of our HDR layout.
Readers that fold thousands of seconds (the report's timeline, the findings'
series, the summary of a run without totals) decode each one into these
(stats/hdr_wire.py), add them up by bucket id, and read quantiles from them,
exactly as from the HDR histograms, without hdrh's full array per second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from loadgate.stats.buckets import quantile_values_us
from loadgate.stats.hdr_wire import decode_buckets
from loadgate.stats.histogram import SUB_BUCKET_BITS

_HALF_MAGNITUDE = SUB_BUCKET_BITS - 1  # log2 of the buckets per power of two above the first


def bucket_lowest_us(bucket_id: int) -> int:
    """The lowest value of a bucket (a counts-array index of our layout)."""
    shift = max((bucket_id >> _HALF_MAGNITUDE) - 1, 0)
    return (bucket_id - (shift << _HALF_MAGNITUDE)) << shift


def bucket_highest_us(bucket_id: int) -> int:
    """The highest value of a bucket: hdrh's highest equivalent value."""
    shift = max((bucket_id >> _HALF_MAGNITUDE) - 1, 0)
    return ((bucket_id - (shift << _HALF_MAGNITUDE)) << shift) + (1 << shift) - 1


@dataclass(frozen=True, slots=True)
class BucketCounts:
    """The non-empty buckets of a histogram: `ids` ascending, `counts` above 0.

    `out_of_range` counts the values beyond the layout, as LatencyHistogram
    does; `cumulative[i]` the values in buckets 0..i.
    """

    ids: Sequence[int] = ()
    counts: Sequence[int] = ()
    out_of_range: int = 0
    cumulative: Sequence[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cumulative", list(accumulate(self.counts)))

    @classmethod
    def decode(cls, encoded: bytes, out_of_range: int = 0) -> BucketCounts:
        """A stored histogram (LatencyHistogram.encode's bytes); ValueError if it is not one."""
        ids, counts = decode_buckets(encoded)
        return cls(ids, counts, out_of_range)

    @property
    def count(self) -> int:
        return self.cumulative[-1] if self.cumulative else 0

    def quantiles_us(self, quantiles: Sequence[float]) -> list[int]:
        """The value at each quantile (0–1), as LatencyHistogram.quantiles_us gives it."""
        ids = self.ids
        return quantile_values_us(
            self.cumulative,
            lambda index: bucket_lowest_us(ids[index]),
            lambda index: bucket_highest_us(ids[index]),
            quantiles,
        )


class BucketSums:
    """Bucket counts being added up: as many as come, in memory bounded by the layout.

    One part added is kept as it is (most buckets of a timeline are one
    stored second); from the second on, counts are summed by bucket id.
    """

    __slots__ = ("_only", "_out_of_range", "_sums")

    def __init__(self) -> None:
        self._only: BucketCounts | None = None
        self._sums: dict[int, int] = {}
        self._out_of_range = 0

    def add(self, part: BucketCounts) -> None:
        if self._only is None and not self._sums:
            self._only = part
            return
        if self._only is not None:
            self._sum(self._only)
            self._only = None
        self._sum(part)

    def _sum(self, part: BucketCounts) -> None:
        sums = self._sums
        get = sums.get
        for bucket_id, count in zip(part.ids, part.counts, strict=True):
            sums[bucket_id] = get(bucket_id, 0) + count
        self._out_of_range += part.out_of_range

    def total(self) -> BucketCounts:
        if self._only is not None:
            return self._only
        ids = sorted(self._sums)
        return BucketCounts(ids, [self._sums[i] for i in ids], self._out_of_range)


def added(parts: Sequence[BucketCounts]) -> BucketCounts:
    """The histogram of every value of `parts` (one part: itself)."""
    sums = BucketSums()
    for part in parts:
        sums.add(part)
    return sums.total()
