"""A histogram's recorded buckets as plain values, and quantiles read from them in one pass.

`LatencyHistogram.recorded_buckets()` gives these; every reader that needs
more than a value or two (timeline, comparison, threshold windows, CSV history)
works on them rather than on hdrh, whose own readers walk every sub-bucket in
Python.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate


@dataclass(frozen=True, slots=True)
class RecordedBuckets:
    """The non-empty buckets of an HDR histogram, ascending.

    Bucket i holds `counts[i]` values from `lowest_us[i]` to `highest_us[i]`
    (both included), HDR's lowest and highest equivalent values.
    `cumulative[i]` counts the values in buckets 0..i. `ids[i]` is the
    bucket's place in HDR's layout: a small dense number, the same for the
    same bucket in every histogram of that layout (all of ours), so a cheap
    key for adding up many histograms' buckets.
    """

    ids: tuple[int, ...] = ()
    lowest_us: tuple[int, ...] = ()
    highest_us: tuple[int, ...] = ()
    counts: tuple[int, ...] = ()
    cumulative: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cumulative", tuple(accumulate(self.counts)))

    def __len__(self) -> int:
        return len(self.counts)

    @property
    def count(self) -> int:
        return self.cumulative[-1] if self.cumulative else 0

    @property
    def midpoint_sum_us(self) -> int:
        """Σ count × bucket middle: the numerator of hdrh's mean, exact, so it can be added up."""
        return sum(
            count * (low + ((high - low + 1) >> 1))
            for low, high, count in zip(self.lowest_us, self.highest_us, self.counts, strict=True)
        )

    @property
    def mean_us(self) -> float:
        """The mean, counting each value as the middle of its bucket (as hdrh does)."""
        count = self.count
        return self.midpoint_sum_us / count if count else 0.0


def quantiles_us(buckets: RecordedBuckets, quantiles: Sequence[float]) -> list[int]:
    """The value at each quantile (0–1), in order; exactly hdrh's `get_value_at_percentile`."""
    return quantile_values_us(
        buckets.cumulative, buckets.lowest_us.__getitem__, buckets.highest_us.__getitem__, quantiles
    )


def quantile_values_us(
    cumulative: Sequence[int],
    lowest_us: Callable[[int], int],
    highest_us: Callable[[int], int],
    quantiles: Sequence[float],
) -> list[int]:
    """The value at each quantile (0–1), in order, from running counts over ascending buckets.

    `cumulative[i]` counts the values in buckets 0..i; `lowest_us(i)` and
    `highest_us(i)` give bucket i's edges, asked only for the buckets a
    quantile falls in (so a caller need not build them all). hdrh's rules:
    its target count (with its float arithmetic, so ties round alike), the
    bucket's highest equivalent value, its lowest for quantile 0, the maximum
    for 1. No buckets read 0 everywhere.
    """
    for quantile in quantiles:
        if not 0.0 <= quantile <= 1.0:
            raise ValueError(f"quantile must be within 0..1, not {quantile}")
    if not cumulative:
        return [0] * len(quantiles)
    total = cumulative[-1]
    last = len(cumulative) - 1
    values: list[int] = []
    for quantile in quantiles:
        if quantile == 1.0:
            values.append(highest_us(last))
            continue
        percentile = quantile * 100.0
        target = max(int(percentile * total / 100 + 0.5), 1)
        index = bisect_left(cumulative, target)
        values.append(highest_us(index) if percentile else lowest_us(index))
    return values
