"""Latency histograms: HdrHistogram in microseconds, with quantiles on 0–1.

One place converts between our conventions and hdrh's: quantiles are 0–1 here
(hdrh uses 0–100), values are integer microseconds, and a value the histogram
cannot hold is counted in `out_of_range`, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import compress
from typing import Literal

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour
SIGNIFICANT_DIGITS = 3
# memoryview formats of hdrh's counts array, by its word size in bytes
_COUNT_FORMATS: dict[int, Literal["H", "I", "Q"]] = {2: "H", 4: "I", 8: "Q"}


class LatencyHistogram:
    """Response times in microseconds, 1 µs to 1 h, 3 significant digits."""

    __slots__ = ("_hdr", "out_of_range")

    def __init__(self, hdr: HdrHistogram | None = None, out_of_range: int = 0) -> None:
        self._hdr = (
            hdr if hdr is not None else HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
        )
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
        if not self.count:
            return 0.0
        hdr = self._hdr
        total = 0
        for value, count in self._buckets():
            lowest = hdr.get_lowest_equivalent_value(value)
            size = hdr.get_highest_equivalent_value(value) - lowest + 1
            total += count * (lowest + (size >> 1))
        return total / self.count

    def quantile_us(self, quantile: float) -> int:
        """The value at `quantile` (0–1); 0 for an empty histogram."""
        if not 0.0 <= quantile <= 1.0:
            raise ValueError(f"quantile must be within 0..1, not {quantile}")
        if not self.count:
            return 0
        if quantile == 1.0:
            return self.max_us
        return int(self._hdr.get_value_at_percentile(quantile * 100.0))

    def quantiles_us(self, quantiles: Sequence[float]) -> dict[float, int]:
        return {q: self.quantile_us(q) for q in quantiles}

    def recorded_values(self) -> list[tuple[int, int]]:
        """(value_us, count) for every distinct recorded bucket, ascending.

        The value is the bucket's highest equivalent value, as hdrh's recorded
        iterator gives it.
        """
        hdr = self._hdr
        return [(int(hdr.get_highest_equivalent_value(v)), c) for v, c in self._buckets()]

    def _buckets(self) -> Iterator[tuple[int, int]]:
        # hdrh's own iterators step through every sub-bucket in Python (tens of
        # milliseconds per wide histogram, per call); skipping the empty slots of
        # the counts array in C makes a summary of many endpoints fast.
        hdr = self._hdr
        counts = memoryview(hdr.counts).cast("B").cast(_COUNT_FORMATS[hdr.word_size])
        for index in compress(range(len(counts)), counts):
            yield int(hdr.get_value_from_index(index)), int(counts[index])
