"""Parts of each endpoint's latency (cache hits and misses, upstream and gateway, timing phases).

Folded from the stored part-seconds (RunStore.iter_part_seconds, ascending)
on the same buckets as the report's timeline: per endpoint and part, the
requests and p95 of each bucket, and the whole read's p50/p95/p99. A bucket's
histograms are dropped once read, so memory holds one bucket plus one
histogram per endpoint and part, whatever the run's length. The cache and
gateway-time findings and the report's cache and timing views read this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from loadgate.model import Part, PartSecond, UsersSample, endpoint_label
from loadgate.stats.bucket_counts import BucketCounts, BucketSums
from loadgate.stats.buckets import quantiles_us
from loadgate.stats.histogram import LatencyHistogram
from loadgate.stats.series import users_per_second

US_PER_MS = 1000.0
PART_QUANTILES = (0.5, 0.95, 0.99)  # PartLatency's p50, p95 and p99

_PartKey = tuple[str, str, Part]  # (method, name, part)


@dataclass(frozen=True, kw_only=True)
class PartLatency:
    """One part of one endpoint over the whole read: how many, and how long."""

    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True, kw_only=True)
class PartBuckets:
    """One part of one endpoint per bucket: requests, and p95 (None without any)."""

    requests: tuple[int, ...]
    p95_ms: tuple[float | None, ...]


@dataclass(frozen=True, kw_only=True)
class EndpointParts:
    """What the responses of one endpoint said, part by part."""

    method: str
    name: str
    totals: Mapping[Part, PartLatency] = field(default_factory=dict)
    buckets: Mapping[Part, PartBuckets] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return endpoint_label(self.method, self.name)

    def requests(self, part: Part) -> int:
        total = self.totals.get(part)
        return total.requests if total is not None else 0


@dataclass(frozen=True, kw_only=True)
class RunParts:
    """Every endpoint's parts, on buckets of `bucket_s` seconds starting at `offsets_s`
    (seconds since the run's start).

    `users` is the most users running in each bucket (None: unknown).
    Endpoints whose responses never said anything are left out.
    """

    bucket_s: int = 1
    offsets_s: tuple[int, ...] = ()
    users: tuple[int | None, ...] = ()
    endpoints: tuple[EndpointParts, ...] = ()


NO_PARTS = RunParts()


class PartsFold:
    """Folds part-seconds, in ascending order of second, into the buckets of `axis`."""

    def __init__(self, axis: range, bucket_s: int) -> None:
        if bucket_s < 1:
            raise ValueError(f"bucket_s must be at least 1, not {bucket_s}")
        self._axis = axis
        self._bucket_s = bucket_s
        self._buckets = max(1, -(-len(axis) // bucket_s))
        self._totals: dict[_PartKey, LatencyHistogram] = {}
        self._requests: dict[_PartKey, list[int]] = {}
        self._p95_ms: dict[_PartKey, list[float | None]] = {}
        self._open_index: int | None = None
        self._open: dict[_PartKey, BucketSums] = {}

    def add(self, piece: PartSecond) -> None:
        if piece.second not in self._axis:
            return
        index = (piece.second - self._axis.start) // self._bucket_s
        if self._open_index is not None and index != self._open_index:
            if index < self._open_index:
                raise ValueError(f"part-seconds must come in ascending order: {piece.second}")
            self._close()
        self._open_index = index
        key = (piece.method, piece.name, piece.part)
        if key not in self._requests:
            self._requests[key] = [0] * self._buckets
            self._p95_ms[key] = [None] * self._buckets
            self._totals[key] = LatencyHistogram()
        self._requests[key][index] += piece.requests
        sums = self._open.get(key)
        if sums is None:
            sums = self._open[key] = BucketSums()
        sums.add(BucketCounts.decode(piece.histogram))

    def _close(self) -> None:
        """Read the open bucket's p95s, add its histograms to the totals, and drop them."""
        index = self._open_index
        for key, sums in self._open.items():
            buckets = sums.total()
            if buckets.counts and index is not None:
                self._p95_ms[key][index] = buckets.quantiles_us((0.95,))[0] / US_PER_MS
            self._totals[key].add_buckets(buckets.ids, buckets.counts)
        self._open = {}

    def parts(self, run_start_second: int, users: Sequence[UsersSample]) -> RunParts:
        self._close()
        axis, width = self._axis, self._bucket_s
        starts = range(axis.start, axis.stop, width)
        carried = users_per_second(users)
        totals: dict[tuple[str, str], dict[Part, PartLatency]] = {}
        buckets: dict[tuple[str, str], dict[Part, PartBuckets]] = {}
        for key in sorted(self._requests, key=lambda k: (k[1], k[0], k[2].value)):
            method, name, part = key
            p50_us, p95_us, p99_us = quantiles_us(
                self._totals[key].recorded_buckets(), PART_QUANTILES
            )
            totals.setdefault((method, name), {})[part] = PartLatency(
                requests=sum(self._requests[key]),
                p50_ms=p50_us / US_PER_MS,
                p95_ms=p95_us / US_PER_MS,
                p99_ms=p99_us / US_PER_MS,
            )
            buckets.setdefault((method, name), {})[part] = PartBuckets(
                requests=tuple(self._requests[key]), p95_ms=tuple(self._p95_ms[key])
            )
        return RunParts(
            bucket_s=width,
            offsets_s=tuple(start - run_start_second for start in starts),
            users=tuple(_most(carried, start, start + width) for start in starts),
            endpoints=tuple(
                EndpointParts(method=m, name=n, totals=totals[m, n], buckets=buckets[m, n])
                for m, n in totals
            ),
        )


def _most(users: Mapping[int, int], start: int, stop: int) -> int | None:
    known = [users[second] for second in range(start, stop) if second in users]
    return max(known) if known else None
