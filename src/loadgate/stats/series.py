"""A run's compact per-second series per endpoint, folded while the report reads its seconds.

Findings (analysis/) need each second of each endpoint: its requests,
failures, statuses, connection errors and p95, and the users running. The
timeline keeps buckets (wider than a second for long runs) and the summary
keeps totals, so this fold keeps what the findings need and nothing more: a
few numbers per endpoint-second (an hour of 8 endpoints is 28,800 points of
about ten numbers), never a histogram. It is fed by the same streamed read
that makes the summary and the timeline (store/run_view.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from loadgate.model import EndpointSecond, UsersSample, endpoint_label
from loadgate.stats.bucket_counts import BucketCounts, BucketSums
from loadgate.stats.fold import EndpointKey

P95 = (0.95,)
# A run whose users took at least this many values is a ramp: only then is a
# per-second p95 worth its cost (saturation compares load levels).
RAMP_MIN_LEVELS = 3
# The series holds every endpoint-second (about 0.75 KB each): beyond this
# span it is not kept, so memory stays flat however long a run is; a range
# of a long run (`report --from/--to`) gets its findings.
FINDINGS_MAX_SPAN_S = 1800


_NONE: Mapping[str, int] = {}


class SecondPoint:
    """One endpoint's numbers in one second (pieces of the second added up).

    `p95_us` is None when no latency was measured in it. Statuses are split
    as stored: `ok` counts responses the script accepted, `failed` the rest.
    `errors` are the stored error messages with their counts. Held for every
    endpoint-second of a run, so kept small: empty maps share one object.
    """

    __slots__ = ("_errors", "_failed", "failures", "ok", "p95_us", "requests")

    def __init__(self) -> None:
        self.requests = 0
        self.failures = 0
        self.ok: dict[str, int] = {}
        self._failed: dict[str, int] | None = None
        self._errors: dict[str, int] | None = None
        self.p95_us: int | None = None

    @classmethod
    def of(
        cls, *, requests: int, failures: int, ok: dict[str, int], failed: dict[str, int],
        errors: dict[str, int], p95_us: int | None,
    ) -> SecondPoint:  # fmt: skip
        """A point as folded before (a kept run view, store/kept_view.py)."""
        point = cls()
        point.requests, point.failures, point.ok, point.p95_us = requests, failures, ok, p95_us
        point._failed = failed or None
        point._errors = errors or None
        return point

    @property
    def failed(self) -> Mapping[str, int]:
        return self._failed if self._failed is not None else _NONE

    @property
    def errors(self) -> Mapping[str, int]:
        return self._errors if self._errors is not None else _NONE

    def add(self, second: EndpointSecond) -> None:
        self.requests += second.requests
        self.failures += second.failures
        _add_counts(self.ok, second.ok_status_counts)
        if second.failed_status_counts:
            if self._failed is None:
                self._failed = {}
            _add_counts(self._failed, second.failed_status_counts)
        if second.errors:
            if self._errors is None:
                self._errors = {}
            _add_counts(self._errors, second.errors)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecondPoint):
            return NotImplemented
        return (self.requests, self.failures, self.ok, self.failed, self.errors, self.p95_us) == (
            other.requests,
            other.failures,
            other.ok,
            other.failed,
            other.errors,
            other.p95_us,
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True)
class EndpointSeries:
    """One endpoint's seconds with data, ascending (Unix seconds as keys)."""

    method: str
    name: str
    points: Mapping[int, SecondPoint]

    @property
    def label(self) -> str:
        return endpoint_label(self.method, self.name)


@dataclass(frozen=True, kw_only=True)
class RunSeries:
    """Every endpoint's per-second series and the users per second, from one read.

    `start_second` is the run's first Unix second (offsets in findings are
    counted from it); `users` maps a second to the users running at its end,
    carried forward between samples.
    """

    start_second: int
    endpoints: tuple[EndpointSeries, ...]
    users: Mapping[int, int]
    skipped_span_s: int = 0  # not kept: the span (s) was over FINDINGS_MAX_SPAN_S

    def seconds(self) -> list[int]:
        """Every second with data of any endpoint, ascending."""
        return sorted({s for endpoint in self.endpoints for s in endpoint.points})


def _add_counts(into: dict[str, int], counts: Mapping[str, int]) -> None:
    for key, count in counts.items():
        into[key] = into.get(key, 0) + count


class SeriesFold:
    """Folds stored seconds (ascending, pieces in any order) into a RunSeries.

    A second's p95 is read from its merged histogram when the next second (or
    the end) comes, so one second's histograms are held at a time.
    """

    def __init__(self) -> None:
        self._points: dict[EndpointKey, dict[int, SecondPoint]] = {}
        self._open_second: int | None = None
        self._open: dict[EndpointKey, BucketSums] = {}

    def add(self, second: EndpointSecond, buckets: BucketCounts | None) -> None:
        """Add one stored second (or piece of one) and its decoded histogram.

        Without a histogram, only the counts are kept (p95 stays None): what
        the findings need when the run has no ramp to find saturation on.
        """
        if self._open_second is not None and second.second != self._open_second:
            self._close()
        self._open_second = second.second
        key = (second.method, second.name)
        points = self._points.setdefault(key, {})
        point = points.get(second.second)
        if point is None:
            point = points[second.second] = SecondPoint()
        point.add(second)
        if buckets is None:
            return
        sums = self._open.get(key)
        if sums is None:
            sums = self._open[key] = BucketSums()
        sums.add(buckets)

    def _close(self) -> None:
        at = self._open_second
        for key, sums in self._open.items():
            buckets = sums.total()
            if buckets.counts and at is not None:
                self._points[key][at].p95_us = buckets.quantiles_us(P95)[0]
        self._open = {}

    def series(self, start_second: int, users: Sequence[UsersSample]) -> RunSeries:
        self._close()
        keys = sorted(self._points, key=lambda key: (key[1], key[0]))
        return RunSeries(
            start_second=start_second,
            endpoints=tuple(
                EndpointSeries(method=m, name=n, points=dict(sorted(self._points[(m, n)].items())))
                for m, n in keys
            ),
            users=users_per_second(users),
        )


def keeps_series(span_s: int) -> bool:
    """Whether a read of `span_s` seconds keeps the findings' series."""
    return span_s <= FINDINGS_MAX_SPAN_S


def skipped_series(start_second: int, span_s: int) -> RunSeries:
    """The series of a read too long to keep one: no points, and why."""
    return RunSeries(start_second=start_second, endpoints=(), users={}, skipped_span_s=span_s)


def is_ramp(users: Iterable[UsersSample]) -> bool:
    """Whether the users took at least RAMP_MIN_LEVELS values above 0."""
    return len({u.users for u in users if u.users > 0}) >= RAMP_MIN_LEVELS


def users_per_second(users: Sequence[UsersSample]) -> dict[int, int]:
    """Users at the end of each second from the first sample to the last, carried forward."""
    by_second = {u.second: u.users for u in users}
    if not by_second:
        return {}
    series: dict[int, int] = {}
    last = 0
    for second in range(min(by_second), max(by_second) + 1):
        last = by_second.get(second, last)
        series[second] = last
    return series
