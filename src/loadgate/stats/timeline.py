"""Series of a run over time (throughput, percentiles, statuses, users), in time buckets.

A bucket is one second for runs up to about ten minutes, and wider for longer
runs (10 s, 1 min, ...: `bucket_width_s`), so that a chart has at most
MAX_CHART_POINTS points whatever the run's length. Seconds are folded into
their bucket while they are read (TimelineFold): a bucket's percentiles are
those of the merge of its seconds' histograms (exact, as for one second), its
counts are per second (the bucket's sum over its length), its users the most
running in it. Only the open bucket's histograms are held, so memory does not
grow with the run. A range of a run at full resolution is a timeline of that
range (`loadgate report --from/--to`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from loadgate.model import EndpointSecond, RunInfo, UsersSample, endpoint_label
from loadgate.stats.bucket_counts import BucketCounts, BucketSums, added
from loadgate.stats.fold import EndpointKey
from loadgate.stats.series import users_per_second
from loadgate.stats.summary import TOTAL_NAME, US_PER_MS

# Bucket widths to choose from, narrowest first; each divides a minute or an hour evenly.
BUCKET_WIDTHS_S = (1, 10, 60, 600, 3600)
# At most this many buckets per chart: 1 s buckets up to 12 min, 10 s up to 2 h, 1 min up to 12 h.
MAX_CHART_POINTS = 720
QUANTILES = (0.5, 0.95, 0.99)


@dataclass(frozen=True, kw_only=True)
class EndpointTimeline:
    """One endpoint's (or the total's) series, one value per bucket of the axis.

    Percentiles are None in buckets without a measured latency: a gap on a
    chart, never a misleading zero. Counts are 0 in such buckets. Counts are
    per second: whole numbers for one-second buckets, averages for wider ones.
    """

    method: str
    name: str
    ok_per_s: tuple[float, ...]
    failed_per_s: tuple[float, ...]
    p50_ms: tuple[float | None, ...]
    p95_ms: tuple[float | None, ...]
    p99_ms: tuple[float | None, ...]
    status_per_s: Mapping[str, tuple[float, ...]]

    @property
    def label(self) -> str:
        return endpoint_label(self.method, self.name)


@dataclass(frozen=True, kw_only=True)
class Timeline:
    """A run's series, aligned on seconds since the run started.

    `offsets_s` are the buckets' first seconds; each bucket is `bucket_s` long
    (the last one may be cut short by the end of the axis).
    """

    start_second: int
    offsets_s: tuple[int, ...]
    users: tuple[int | None, ...]
    endpoints: tuple[EndpointTimeline, ...]
    total: EndpointTimeline
    bucket_s: int = 1


def epoch_seconds(moment: datetime) -> float:
    """Unix time of `moment`; a naive datetime is taken as UTC, as the store keeps it."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.timestamp()


def epoch_second(moment: datetime) -> int:
    """The Unix second containing `moment`."""
    return math.floor(epoch_seconds(moment))


def bucket_width_s(span_s: int) -> int:
    """The narrowest width that keeps a span of `span_s` seconds within MAX_CHART_POINTS buckets."""
    for width_s in BUCKET_WIDTHS_S:
        if -(-span_s // width_s) <= MAX_CHART_POINTS:
            return width_s
    return -(-span_s // MAX_CHART_POINTS)


def time_axis(run: RunInfo, marks: Iterable[int]) -> range:
    """The seconds a run's charts cover: from its start to its end, widened to its data.

    `marks` are seconds with data (measurements or user samples).
    """
    bounds = [epoch_second(run.started_at)]
    if run.ended_at is not None:
        # The last second the run covered: a run ending at 20.0 s covers 0..19.
        bounds.append(math.ceil(epoch_seconds(run.ended_at)) - 1)
    bounds.extend(marks)
    return range(min(bounds), max(bounds) + 1)


class _SeriesFold:
    """One endpoint's (or the total's) counts and percentiles per bucket, as they are folded."""

    __slots__ = ("failed", "method", "name", "ok", "quantiles_ms", "statuses")

    def __init__(self, method: str, name: str, buckets: int) -> None:
        self.method = method
        self.name = name
        self.ok = [0] * buckets
        self.failed = [0] * buckets
        self.statuses: dict[str, list[int]] = {}
        self.quantiles_ms: list[list[float | None]] = [[None] * buckets for _ in QUANTILES]

    def count(self, index: int, second: EndpointSecond) -> None:
        self.ok[index] += second.requests - second.failures
        self.failed[index] += second.failures
        for counts in (second.ok_status_counts, second.failed_status_counts):
            for status, count in counts.items():
                series = self.statuses.get(status)
                if series is None:
                    series = self.statuses[status] = [0] * len(self.ok)
                series[index] += count

    def read(self, index: int, buckets: BucketCounts) -> None:
        if buckets.counts:
            values_us = buckets.quantiles_us(QUANTILES)
            for series, value_us in zip(self.quantiles_ms, values_us, strict=True):
                series[index] = value_us / US_PER_MS

    def series(self, widths_s: Sequence[int]) -> EndpointTimeline:
        def per_s(counts: list[int]) -> tuple[float, ...]:
            if all(width == 1 for width in widths_s):
                return tuple(counts)  # whole numbers, as one-second charts always had
            return tuple(c / w for c, w in zip(counts, widths_s, strict=True))

        p50, p95, p99 = (tuple(series) for series in self.quantiles_ms)
        return EndpointTimeline(
            method=self.method,
            name=self.name,
            ok_per_s=per_s(self.ok),
            failed_per_s=per_s(self.failed),
            p50_ms=p50,
            p95_ms=p95,
            p99_ms=p99,
            status_per_s={status: per_s(self.statuses[status]) for status in sorted(self.statuses)},
        )


class TimelineFold:
    """Folds a run's seconds, in ascending order, into the buckets of a timeline.

    Pieces of one second, and the seconds of one bucket, are added into one
    histogram per endpoint when the bucket closes: its percentiles are read,
    and its histograms dropped, as soon as a later bucket's second arrives.
    """

    def __init__(self, axis: range, bucket_s: int) -> None:
        if bucket_s < 1:
            raise ValueError(f"bucket_s must be at least 1, not {bucket_s}")
        self.axis = axis
        self.bucket_s = bucket_s
        self._buckets = max(1, -(-len(axis) // bucket_s))
        self._series: dict[EndpointKey, _SeriesFold] = {}
        self._total = _SeriesFold("", TOTAL_NAME, self._buckets)
        # bucket index -> endpoint -> its seconds' (and pieces') bucket counts added up
        self._open: dict[int, dict[EndpointKey, BucketSums]] = {}
        self._closed_below = 0  # every bucket before this one is read and dropped

    def add(self, second: EndpointSecond, buckets: BucketCounts) -> None:
        """Add one stored second (or piece) and its decoded histogram."""
        if second.second not in self.axis:
            return
        index = (second.second - self.axis.start) // self.bucket_s
        if index < self._closed_below:
            raise ValueError(f"seconds must be folded in ascending order: {second.second} is late")
        for earlier in [b for b in self._open if b < index]:
            self._close(earlier)
        key = (second.method, second.name)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _SeriesFold(*key, self._buckets)
        series.count(index, second)
        self._total.count(index, second)
        held = self._open.setdefault(index, {})
        sums = held.get(key)
        if sums is None:
            sums = held[key] = BucketSums()
        sums.add(buckets)

    def _close(self, index: int) -> None:
        by_endpoint = {key: sums.total() for key, sums in self._open.pop(index).items()}
        for key, buckets in by_endpoint.items():
            self._series[key].read(index, buckets)
        self._total.read(index, added(list(by_endpoint.values())))
        self._closed_below = index + 1

    def timeline(self, run_start_second: int, users: Sequence[UsersSample]) -> Timeline:
        """The folded series; `users` are the run's samples (one per second at most)."""
        for index in sorted(self._open):
            self._close(index)
        axis, width = self.axis, self.bucket_s
        starts = range(axis.start, axis.stop, width)
        widths_s = [min(width, axis.stop - start) for start in starts]
        per_second_users = _users_series(axis, users)
        # Same order as the summary's endpoints, so tables and charts list them alike.
        keys = sorted(self._series, key=lambda key: (key[1], key[0]))
        return Timeline(
            start_second=run_start_second,
            offsets_s=tuple(start - run_start_second for start in starts),
            users=tuple(
                _most(per_second_users[start - axis.start : start - axis.start + width])
                for start in starts
            ),
            endpoints=tuple(self._series[key].series(widths_s) for key in keys),
            total=self._total.series(widths_s),
            bucket_s=width,
        )


def _most(levels: Sequence[int | None]) -> int | None:
    known = [level for level in levels if level is not None]
    return max(known) if known else None


def _users_series(axis: range, users: Sequence[UsersSample]) -> list[int | None]:
    """Users at the end of each second of `axis`, carried forward between samples.

    Users is a level, not a count of events: a second the engine did not sample
    still had the users of the last sample. Before the first sample and after
    the last one it is unknown (None).
    """
    carried = users_per_second(users)
    return [carried.get(second) for second in axis]
