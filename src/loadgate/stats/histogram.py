"""Latency histograms: HdrHistogram in microseconds, with quantiles on 0–1.

One place converts between our conventions and hdrh's: quantiles are 0–1 here
(hdrh uses 0–100), values are integer microseconds, and a value the histogram
cannot hold is counted in `out_of_range`, never dropped silently.
"""

from __future__ import annotations

import math
import sys
import weakref
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from hdrh.histogram import HdrHistogram

from loadgate.stats.buckets import RecordedBuckets, quantiles_us

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour
SIGNIFICANT_DIGITS = 3
# HDR keeps values below 2**SUB_BUCKET_BITS exactly and, above, in
# 2**(SUB_BUCKET_BITS - 1) equal steps per power of two.
SUB_BUCKET_BITS = math.ceil(math.log2(2 * 10**SIGNIFICANT_DIGITS))
# memoryview formats of hdrh's counts array, by its word size in bytes
_COUNT_FORMATS: dict[int, Literal["H", "I", "Q"]] = {2: "H", 4: "I", 8: "Q"}
# bytes.translate table: every non-zero byte becomes 1, so bytes.find(1) finds it
_NON_ZERO_TO_ONE = bytes([0] + [1] * 255)
_LITTLE_ENDIAN = sys.byteorder == "little"


def bucket_floor_us(value_us: int) -> int:
    """The lowest value of `value_us`'s HDR bucket: counting under it loses nothing.

    The collector inlines this on its hot path, with SUB_BUCKET_BITS.
    """
    shift = value_us.bit_length() - SUB_BUCKET_BITS
    return value_us >> shift << shift if shift > 0 else value_us


class LatencyHistogram:
    """Response times in microseconds, 1 µs to 1 h, 3 significant digits."""

    __slots__ = ("_hdr", "out_of_range")

    def __init__(self, hdr: HdrHistogram | None = None, out_of_range: int = 0) -> None:
        self._hdr = (
            hdr if hdr is not None else HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
        )
        # hdrh's histogram and its encoder point at each other: a reference
        # cycle that only the cyclic GC frees, and it runs too rarely for
        # buffers this size. Reading a 4-hour run (115,200 decoded seconds)
        # held 150 MB more than reading 1 hour; with the encoder's link made
        # weak, each decoded histogram is freed as soon as it is dropped.
        self._hdr.encoder.histogram = weakref.proxy(self._hdr)
        self.out_of_range = out_of_range

    def __repr__(self) -> str:
        return (
            f"LatencyHistogram(count={self.count}, p50_us={self.quantile_us(0.5)}, "
            f"max_us={self.max_us}, out_of_range={self.out_of_range})"
        )

    # -- recording -----------------------------------------------------------

    def record_us(self, value_us: int, count: int = 1) -> bool:
        """Record a latency (`count` times); False (and counted) when it is out of range."""
        if value_us <= HIGHEST_US and self._hdr.record_value(value_us, count):
            return True
        self.out_of_range += count
        return False

    def record_counts(self, counts: Mapping[int, int]) -> None:
        """Record many latencies at once, {µs: how many}; those out of range are counted.

        The same histogram as record_us per value (tests/stats/test_histogram.py
        compares their encodings), about 5x quicker: the HDR index is computed
        inline from hdrh's own layout constants, where hdrh's record_value makes
        four method calls per value. The collector builds its histograms so.
        """
        hdr = self._hdr
        array = hdr.counts
        mask = hdr.sub_bucket_mask
        unit = hdr.unit_magnitude
        half_magnitude = hdr.sub_bucket_half_count_magnitude
        half = hdr.sub_bucket_half_count
        bucket_base = half_magnitude + 1 + unit
        recorded = 0
        low, high = hdr.min_value, hdr.max_value
        for value_us, count in counts.items():
            if count <= 0:
                continue
            if not 0 <= value_us <= HIGHEST_US:
                self.out_of_range += count
                continue
            bucket = (value_us | mask).bit_length() - bucket_base
            array[((bucket + 1) << half_magnitude) + (value_us >> (bucket + unit)) - half] += count
            recorded += count
            low = min(low, value_us)
            high = max(high, value_us)
        hdr.total_count += recorded
        hdr.min_value, hdr.max_value = low, high

    def add_buckets(self, ids: Sequence[int], counts: Sequence[int], out_of_range: int = 0) -> None:
        """Add counts by bucket id (counts-array indices of our layout, ascending): a BucketCounts.

        What merge does with a decoded histogram, without decoding one: the
        readers that fold stored seconds decode them into bucket counts.
        """
        self.out_of_range += out_of_range
        if not ids:
            return
        hdr = self._hdr
        array = hdr.counts
        for bucket_id, count in zip(ids, counts, strict=True):
            array[bucket_id] += count
        hdr.total_count += sum(counts)
        hdr.min_value = min(hdr.min_value, hdr.get_value_from_index(ids[0]))
        hdr.max_value = max(hdr.max_value, hdr.get_value_from_index(ids[-1]))

    def merge(self, other: LatencyHistogram) -> None:
        """Add every value of `other` into this histogram."""
        if other.count:
            self._hdr.add(other._hdr)
        self.out_of_range += other.out_of_range

    # -- encoding ------------------------------------------------------------

    def encode(self) -> bytes:
        """HdrHistogram's compressed, base64 encoding (out_of_range is not included)."""
        encoded: bytes = self._hdr.encode()
        return encoded

    @classmethod
    def decode(cls, encoded: bytes, out_of_range: int = 0) -> LatencyHistogram:
        return cls(HdrHistogram.decode(encoded), out_of_range)

    @classmethod
    def merged(cls, histograms: Iterable[LatencyHistogram]) -> LatencyHistogram:
        total = cls()
        for histogram in histograms:
            total.merge(histogram)
        return total

    # -- reading -------------------------------------------------------------

    @property
    def count(self) -> int:
        count: int = self._hdr.get_total_count()
        return count

    @property
    def max_us(self) -> int:
        return int(self._hdr.get_max_value()) if self.count else 0

    @property
    def min_us(self) -> int:
        return int(self._hdr.get_min_value()) if self.count else 0

    @property
    def mean_us(self) -> float:
        """The mean, counting each value as the middle of its bucket (as hdrh does)."""
        return self.recorded_buckets().mean_us

    def quantile_us(self, quantile: float) -> int:
        """The value at `quantile` (0–1), as hdrh's get_value_at_percentile; 0 when empty."""
        return quantiles_us(self.recorded_buckets(), (quantile,))[0]

    def quantiles_us(self, quantiles: Sequence[float]) -> dict[float, int]:
        """Several quantiles (0–1) in one pass over the buckets."""
        return dict(zip(quantiles, quantiles_us(self.recorded_buckets(), quantiles), strict=True))

    def recorded_values(self) -> list[tuple[int, int]]:
        """(value_us, count) for every distinct recorded bucket, ascending.

        The value is the bucket's highest equivalent value, as hdrh's recorded
        iterator gives it.
        """
        buckets = self.recorded_buckets()
        return list(zip(buckets.highest_us, buckets.counts, strict=True))

    def recorded_buckets(self) -> RecordedBuckets:
        """Every non-empty bucket, ascending: its value range and count."""
        indices, counts = self._recorded_indices()
        lowest_us, highest_us = self._bucket_edges(indices)
        return RecordedBuckets(
            ids=tuple(indices), lowest_us=lowest_us, highest_us=highest_us, counts=tuple(counts)
        )

    def recorded_counts(self) -> tuple[list[int], list[int]]:
        """(bucket id, count) of the non-empty buckets, ascending: recorded_buckets without edges.

        Cheaper, for readers that add up many histograms by bucket id and need
        the edges of each distinct id once (`bucket_edges_us`).
        """
        return self._recorded_indices()

    def bucket_edges_us(self, ids: list[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(lowest_us, highest_us) of each bucket id (ascending), the same in all our histograms."""
        return self._bucket_edges(ids)

    def _recorded_indices(self) -> tuple[list[int], list[int]]:
        """(counts-array index, count) of the non-empty buckets, ascending.

        hdrh's own readers step through every one of the ~23,000 sub-buckets in
        Python (milliseconds per call). This reads only the span between the
        minimum's and the maximum's index, and finds its non-zero counts with
        bytes operations in C: a stored second's buckets cost about as much as
        decoding it.
        """
        hdr = self._hdr
        total: int = hdr.get_total_count()
        if not total:
            return [], []
        word_size: int = hdr.word_size
        counts = memoryview(hdr.counts).cast("B").cast(_COUNT_FORMATS[word_size])
        first: int = hdr.get_counts_array_index(hdr.get_min_value())
        last = min(len(counts) - 1, hdr.get_counts_array_index(hdr.get_max_value()))
        window = counts[first : last + 1]
        raw = window.cast("B").tobytes()
        # A count is at most the total, so only the total's low bytes of each
        # word can be non-zero: OR those byte lanes into one flag byte per word.
        lanes = min(word_size, (total.bit_length() + 7) // 8)
        lane_offsets = (
            range(lanes) if _LITTLE_ENDIAN else range(word_size - 1, word_size - 1 - lanes, -1)
        )
        flags = 0
        for offset in lane_offsets:
            flags |= int.from_bytes(raw[offset::word_size], "little")
        find = flags.to_bytes(len(window), "little").translate(_NON_ZERO_TO_ONE).find
        non_zero: list[int] = []
        position = find(1)
        while position >= 0:
            non_zero.append(position)
            position = find(1, position + 1)
        return [first + i for i in non_zero], [window[i] for i in non_zero]

    def _bucket_edges(self, indices: list[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(lowest_us, highest_us) of each counts-array index (ascending), from HDR's layout.

        hdrh's per-value calls cost a microsecond each; within one of its
        buckets (half_count indices of one width) the edges are a shift away.
        """
        hdr = self._hdr
        magnitude: int = hdr.sub_bucket_half_count_magnitude
        unit: int = hdr.unit_magnitude
        lowest: list[int] = []
        highest: list[int] = []
        start = 0
        while start < len(indices):
            # Indices below 2 * half_count are in bucket 0; bucket b > 0 starts
            # at index (b + 1) * half_count.
            bucket = max((indices[start] >> magnitude) - 1, 0)
            end = bisect_left(indices, (bucket + 2) << magnitude, start)
            base, shift = bucket << magnitude, bucket + unit
            part = [(index - base) << shift for index in indices[start:end]]
            width = (1 << shift) - 1
            lowest += part
            highest += [low + width for low in part]
            start = end
        return tuple(lowest), tuple(highest)
