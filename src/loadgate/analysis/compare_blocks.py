"""Block-bootstrap machinery: a run's per-second data cut into time blocks, resampled fast."""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import mul

from loadgate.model import EndpointSecond
from loadgate.stats.histogram import LatencyHistogram

# How many times each block is drawn in one resample (length = number of blocks).
Weights = list[int]


@dataclass(frozen=True, kw_only=True)
class LatencyGrid:
    """Log-spaced latency buckets, each `resolution` wide relative to its value.

    The bootstrap works on these buckets rather than HDR's 0.1 % ones: a 1 %
    grid keeps the arrays short (hundreds of buckets for latencies spanning
    three decades), and 1 % is far below any change we would call.
    """

    resolution: float

    def bucket(self, value_us: int) -> int:
        return math.floor(math.log(max(value_us, 1)) / math.log1p(self.resolution))

    def value_us(self, bucket: int) -> float:
        """The bucket's geometric middle."""
        return math.exp((bucket + 0.5) * math.log1p(self.resolution))


@dataclass(frozen=True, kw_only=True)
class BlockLayout:
    """A run's span of seconds cut into equal consecutive blocks (the last may be shorter)."""

    first_second: int
    seconds: int
    block_length_s: int

    @classmethod
    def covering(cls, seconds: Iterable[int], max_blocks: int) -> BlockLayout:
        present = list(seconds)
        if not present:
            return cls(first_second=0, seconds=0, block_length_s=1)
        first = min(present)
        count = max(present) - first + 1
        return cls(first_second=first, seconds=count, block_length_s=-(-count // max_blocks))

    @property
    def blocks(self) -> int:
        return -(-self.seconds // self.block_length_s)

    def block_of(self, second: int) -> int:
        return (second - self.first_second) // self.block_length_s

    def lengths_s(self) -> tuple[int, ...]:
        full, rest = divmod(self.seconds, self.block_length_s)
        return (self.block_length_s,) * full + ((rest,) if rest else ())


def grid_counts(
    histogram: LatencyHistogram, grid: LatencyGrid, grid_of_id: dict[int, int] | None = None
) -> dict[int, int]:
    """The histogram's counts by grid bucket.

    Bucket values are HDR's lowest equivalent values (0.1 % below the
    highest), far finer than the grid. `grid_of_id` remembers the grid bucket
    of each HDR bucket id across calls (ids are the same in every histogram):
    a logarithm per recorded bucket was most of the cost of reading a long run.
    """
    ids, counts = histogram.recorded_counts()
    known = grid_of_id if grid_of_id is not None else {}
    unknown = [bucket_id for bucket_id in ids if bucket_id not in known]
    if unknown:
        lowest_us, _highest_us = histogram.bucket_edges_us(unknown)
        for bucket_id, value_us in zip(unknown, lowest_us, strict=True):
            known[bucket_id] = grid.bucket(value_us)
    buckets: dict[int, int] = {}
    for bucket_id, count in zip(ids, counts, strict=True):
        bucket = known[bucket_id]
        buckets[bucket] = buckets.get(bucket, 0) + count
    return buckets


@dataclass(frozen=True, kw_only=True)
class BlockSeries:
    """One run's data for one endpoint (or the total), summed per block.

    `cumulative[g][i]` is how many latencies of block i fall at or below bucket
    `first_bucket + g`: stored bucket-major so that the weighted count below a
    bucket for a whole resample is one `sum(map(mul, weights, column))`.
    """

    lengths_s: tuple[int, ...]
    requests: tuple[int, ...]
    failures: tuple[int, ...]
    first_bucket: int
    cumulative: tuple[tuple[int, ...], ...]

    @property
    def active_blocks(self) -> int:
        return sum(1 for count in self.requests if count)


class BlockCounts:
    """One endpoint's (or the total's) seconds of one run, summed per block as they are read.

    What the bootstrap needs of a run, in memory bounded by the number of
    blocks (at most `max_blocks`), not by the run's length.
    """

    __slots__ = ("buckets", "failures", "requests", "seconds")

    def __init__(self, blocks: int) -> None:
        self.requests = [0] * blocks
        self.failures = [0] * blocks
        self.buckets: list[dict[int, int]] = [{} for _ in range(blocks)]
        self.seconds = 0  # seconds (or pieces) added

    def count(self, block: int, requests: int, failures: int) -> None:
        """One second's (or piece's) requests and failures."""
        self.requests[block] += requests
        self.failures[block] += failures
        self.seconds += 1

    def add_latencies(self, block: int, buckets: Iterable[tuple[int, int]]) -> None:
        """(grid bucket, count) pairs of latencies in `block`."""
        counts = self.buckets[block]
        for bucket, count in buckets:
            counts[bucket] = counts.get(bucket, 0) + count

    def add_blocks(self, other: BlockCounts) -> None:
        """Add another endpoint's blocks (of the same layout): how the total is made."""
        for block, counts in enumerate(other.buckets):
            self.requests[block] += other.requests[block]
            self.failures[block] += other.failures[block]
            self.add_latencies(block, counts.items())
        self.seconds += other.seconds

    def bucket_range(self) -> tuple[int, int] | None:
        present = [bucket for counts in self.buckets for bucket in counts]
        return (min(present), max(present)) if present else None

    def series(self, layout: BlockLayout, first_bucket: int, last_bucket: int) -> BlockSeries:
        """The blocks as the bootstrap reads them, over grid buckets first..last."""
        width = last_bucket - first_bucket + 1
        rows = []
        for counts in self.buckets:
            row = [0] * width
            for bucket, count in counts.items():
                row[bucket - first_bucket] += count
            rows.append(tuple(accumulate(row)))
        return BlockSeries(
            lengths_s=layout.lengths_s(),
            requests=tuple(self.requests),
            failures=tuple(self.failures),
            first_bucket=first_bucket,
            cumulative=tuple(zip(*rows, strict=True)) if rows else (),
        )


class BlockFold:
    """One run's seconds folded into blocks; the block being read is merged as HDR histograms.

    Seconds come in order (the store streams them by second), so one block is
    open at a time: each second's histogram is added to its endpoint's in that
    block (HDR's add, in C), and a block's latencies are put on the grid once,
    when the next block starts, instead of once per second.
    """

    def __init__(
        self,
        layout: BlockLayout,
        grid: LatencyGrid,
        known: Mapping[tuple[str, str], LatencyHistogram] | None,
    ) -> None:
        self.layout, self.grid, self.known = layout, grid, known
        self.histograms: dict[tuple[str, str], LatencyHistogram] = dict(known or {})
        self.blocks: dict[tuple[str, str], BlockCounts] = {}
        self._grid_of_id: dict[int, int] = {}
        self._open_block = -1
        self._open: dict[tuple[str, str], LatencyHistogram] = {}

    def add(self, second: EndpointSecond) -> None:
        block = self.layout.block_of(second.second)
        if block != self._open_block:
            self.close_block()
            self._open_block = block
        key = (second.method, second.name)
        counts = self.blocks.get(key)
        if counts is None:
            counts = self.blocks[key] = BlockCounts(self.layout.blocks)
        counts.count(block, second.requests, second.failures)
        held = self._open.get(key)
        if held is None:
            held = self._open[key] = LatencyHistogram()
        held.merge(LatencyHistogram.decode(second.histogram, second.out_of_range))

    def close_block(self) -> None:
        for key, histogram in self._open.items():
            buckets = grid_counts(histogram, self.grid, self._grid_of_id)
            self.blocks[key].add_latencies(self._open_block, buckets.items())
            if self.known is None:
                self.histograms.setdefault(key, LatencyHistogram()).merge(histogram)
        self._open = {}


def resample_weights(rng: random.Random, blocks: int, resamples: int) -> list[Weights]:
    """`resamples` draws of `blocks` blocks with replacement, as per-block counts."""
    population = range(blocks)
    draws: list[Weights] = []
    for _ in range(resamples):
        weights = [0] * blocks
        for index in rng.choices(population, k=blocks):
            weights[index] += 1
        draws.append(weights)
    return draws


def quantile_bucket(
    series: BlockSeries, weights: Sequence[int], quantile: float, start: int
) -> int | None:
    """The grid bucket holding `quantile` of the weighted blocks; None when they hold nothing.

    Searches outward from `start` (the full run's bucket): resampled quantiles
    sit close to it, so a galloping search needs a handful of probes.
    """
    columns = series.cumulative
    if not columns:
        return None
    total = sum(map(mul, weights, columns[-1]))
    if total == 0:
        return None
    rank = max(1, math.ceil(quantile * total))

    def below(index: int) -> int:
        return sum(map(mul, weights, columns[index]))

    last = len(columns) - 1
    low, high = _bracket(below, rank, min(max(start - series.first_bucket, 0), last), last)
    found = bisect_left(range(low + 1, high + 1), rank, key=below) + low + 1
    return found + series.first_bucket


def _bracket(below: Callable[[int], int], rank: int, start: int, last: int) -> tuple[int, int]:
    """(low, high) with below(low) < rank <= below(high); low may be -1."""
    step = 1
    if below(start) >= rank:
        high = start
        while True:
            low = high - step
            if low < 0:
                return -1, high
            if below(low) < rank:
                return low, high
            high, step = low, step * 2
    low = start
    while True:
        high = low + step
        if high >= last:
            return low, last
        if below(high) >= rank:
            return low, high
        low, step = high, step * 2


def weighted_ratio(
    numerators: Sequence[int], denominators: Sequence[int], weights: Sequence[int]
) -> float | None:
    """Σ w·num / Σ w·den over the blocks of one resample; None when the denominator is 0."""
    denominator = sum(map(mul, weights, denominators))
    if denominator == 0:
        return None
    numerator: int = sum(map(mul, weights, numerators))
    return float(numerator) / float(denominator)


def percentile_interval(values: Sequence[float], confidence: float) -> tuple[float, float]:
    """The two-sided percentile interval of bootstrap replicates."""
    ordered = sorted(values)
    tail = (1.0 - confidence) / 2.0
    low_index = min(len(ordered) - 1, math.floor(tail * len(ordered)))
    high_index = max(0, math.ceil((1.0 - tail) * len(ordered)) - 1)
    return ordered[low_index], ordered[high_index]
