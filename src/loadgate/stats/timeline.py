"""Per-second series of a run (throughput, percentiles, statuses, users) on one time axis."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from loadgate.model import EndpointSecond, RunInfo, UsersSample
from loadgate.stats.buckets import quantiles_us
from loadgate.stats.histogram import LatencyHistogram
from loadgate.stats.summary import TOTAL_NAME, US_PER_MS

Decoded = tuple[EndpointSecond, LatencyHistogram]


@dataclass(frozen=True, kw_only=True)
class EndpointTimeline:
    """One endpoint's (or the total's) series, one value per second of the axis.

    Percentiles are None in seconds without a measured latency: a gap on a
    chart, never a misleading zero. Counts are 0 in such seconds.
    """

    method: str
    name: str
    ok_per_s: tuple[int, ...]
    failed_per_s: tuple[int, ...]
    p50_ms: tuple[float | None, ...]
    p95_ms: tuple[float | None, ...]
    p99_ms: tuple[float | None, ...]
    status_per_s: Mapping[str, tuple[int, ...]]

    @property
    def label(self) -> str:
        """'GET /v1/products', or 'Total' for the total."""
        return f"{self.method} {self.name}".strip()


@dataclass(frozen=True, kw_only=True)
class Timeline:
    """A run's per-second series, aligned on seconds since the run started."""

    start_second: int
    offsets_s: tuple[int, ...]
    users: tuple[int | None, ...]
    endpoints: tuple[EndpointTimeline, ...]
    total: EndpointTimeline


def epoch_seconds(moment: datetime) -> float:
    """Unix time of `moment`; a naive datetime is taken as UTC, as the store keeps it."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.timestamp()


def epoch_second(moment: datetime) -> int:
    """The Unix second containing `moment`."""
    return math.floor(epoch_seconds(moment))


def _axis(run: RunInfo, seconds: Sequence[EndpointSecond], users: Sequence[UsersSample]) -> range:
    marks = [epoch_second(run.started_at)]
    if run.ended_at is not None:
        # The last second the run covered: a run ending at 20.0 s covers 0..19.
        marks.append(math.ceil(epoch_seconds(run.ended_at)) - 1)
    marks.extend(s.second for s in seconds)
    marks.extend(u.second for u in users)
    return range(min(marks), max(marks) + 1)


def _endpoint_series(
    method: str, name: str, axis: range, seconds: Iterable[Decoded]
) -> EndpointTimeline:
    """Merge `seconds` by their second (several endpoints for the total) into series."""
    histograms: dict[int, list[LatencyHistogram]] = defaultdict(list)
    ok = [0] * len(axis)
    failed = [0] * len(axis)
    statuses: dict[str, list[int]] = {}
    for second, histogram in seconds:
        index = second.second - axis.start
        histograms[index].append(histogram)
        ok[index] += second.requests - second.failures
        failed[index] += second.failures
        for counts in (second.ok_status_counts, second.failed_status_counts):
            for status, count in counts.items():
                statuses.setdefault(status, [0] * len(axis))[index] += count
    quantiles: dict[float, list[float | None]] = {q: [None] * len(axis) for q in (0.5, 0.95, 0.99)}
    for index, parts in histograms.items():
        # An endpoint has one stored histogram per second: merge only for the total.
        histogram = parts[0] if len(parts) == 1 else LatencyHistogram.merged(parts)
        if histogram.count:
            values_us = quantiles_us(histogram.recorded_buckets(), list(quantiles))
            for series, value_us in zip(quantiles.values(), values_us, strict=True):
                series[index] = value_us / US_PER_MS
    return EndpointTimeline(
        method=method,
        name=name,
        ok_per_s=tuple(ok),
        failed_per_s=tuple(failed),
        p50_ms=tuple(quantiles[0.5]),
        p95_ms=tuple(quantiles[0.95]),
        p99_ms=tuple(quantiles[0.99]),
        status_per_s={status: tuple(statuses[status]) for status in sorted(statuses)},
    )


def _users_series(axis: range, users: Sequence[UsersSample]) -> tuple[int | None, ...]:
    """Users at the end of each second, carried forward between samples.

    Users is a level, not a count of events: a second the engine did not sample
    still had the users of the last sample. Before the first sample and after
    the last one it is unknown (None).
    """
    series: list[int | None] = [None] * len(axis)
    by_second = {u.second: u.users for u in users}
    if not by_second:
        return tuple(series)
    last: int | None = None
    for second in range(min(by_second), max(by_second) + 1):
        last = by_second.get(second, last)
        series[second - axis.start] = last
    return tuple(series)


def build_timeline(
    run: RunInfo, seconds: Sequence[EndpointSecond], users: Sequence[UsersSample]
) -> Timeline:
    """Every endpoint's series and the total's, with users, from the stored seconds."""
    axis = _axis(run, seconds, users)
    # Decoded once: each second's histogram serves its endpoint and the total.
    decoded = [(s, LatencyHistogram.decode(s.histogram, s.out_of_range)) for s in seconds]
    by_endpoint: dict[tuple[str, str], list[Decoded]] = defaultdict(list)
    for second, histogram in decoded:
        by_endpoint[(second.method, second.name)].append((second, histogram))
    # Same order as the summary's endpoints, so tables and charts list them alike.
    keys = sorted(by_endpoint, key=lambda key: (key[1], key[0]))
    start = epoch_second(run.started_at)
    return Timeline(
        start_second=start,
        offsets_s=tuple(second - start for second in axis),
        users=_users_series(axis, users),
        endpoints=tuple(
            _endpoint_series(method, name, axis, by_endpoint[(method, name)])
            for method, name in keys
        ),
        total=_endpoint_series("", TOTAL_NAME, axis, decoded),
    )
