"""Summaries of a run: per endpoint and in total, from its stored seconds or their fold.

A pure function of stored data (RunInfo, EndpointSecond, UsersSample, or the
totals folded from them), so any old run can be summarised again exactly:
histograms merge without loss.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from loadgate.model import EndpointSecond, RunInfo, UsersSample
from loadgate.stats.bucket_counts import BucketCounts
from loadgate.stats.fold import EndpointFold, RunFold, fold_seconds
from loadgate.stats.histogram import LatencyHistogram

TOTAL_NAME = "Total"
US_PER_MS = 1000.0


@dataclass(frozen=True, kw_only=True)
class ErrorGroup:
    """One distinct error message of one endpoint, with how often it happened."""

    method: str
    name: str
    message: str
    count: int


@dataclass(frozen=True, kw_only=True)
class EndpointSummary:
    """The numbers of one endpoint (or of all, for the total) over a run."""

    method: str
    name: str
    requests: int
    failures: int
    rps: float
    bytes_received: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    min_ms: float
    mean_ms: float
    ok_status_counts: Mapping[str, int]
    failed_status_counts: Mapping[str, int]
    out_of_range: int
    histogram: LatencyHistogram = field(repr=False, compare=False)

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def status_counts(self) -> dict[str, int]:
        """Every response status with its count, successes and failures together."""
        merged = Counter(self.ok_status_counts)
        merged.update(self.failed_status_counts)
        return dict(sorted(merged.items()))

    def quantile_ms(self, quantile: float) -> float:
        return self.histogram.quantile_us(quantile) / US_PER_MS


@dataclass(frozen=True, kw_only=True)
class RunSummary:
    """A run with its per-endpoint and total numbers."""

    run: RunInfo
    duration_s: float
    users_max: int
    endpoints: tuple[EndpointSummary, ...]
    total: EndpointSummary
    errors: tuple[ErrorGroup, ...]


def _ms(value_us: float) -> float:
    return value_us / US_PER_MS


def summarize_endpoint(
    method: str, name: str, seconds: Iterable[EndpointSecond], duration_s: float
) -> EndpointSummary:
    """Merge one endpoint's seconds (or any set of seconds) into its summary."""
    endpoint = EndpointFold(method, name)
    for second in seconds:
        endpoint.add(second, BucketCounts.decode(second.histogram, second.out_of_range))
    return _endpoint_summary(endpoint, duration_s)


def _endpoint_summary(endpoint: EndpointFold, duration_s: float) -> EndpointSummary:
    histogram = endpoint.histogram
    q = histogram.quantiles_us((0.5, 0.9, 0.95, 0.99, 0.999))
    return EndpointSummary(
        method=endpoint.method,
        name=endpoint.name,
        requests=endpoint.requests,
        failures=endpoint.failures,
        rps=endpoint.requests / duration_s if duration_s > 0 else 0.0,
        bytes_received=endpoint.bytes_received,
        p50_ms=_ms(q[0.5]),
        p90_ms=_ms(q[0.9]),
        p95_ms=_ms(q[0.95]),
        p99_ms=_ms(q[0.99]),
        p999_ms=_ms(q[0.999]),
        max_ms=_ms(histogram.max_us),
        min_ms=_ms(histogram.min_us),
        mean_ms=_ms(histogram.mean_us),
        ok_status_counts=dict(sorted(endpoint.ok.items())),
        failed_status_counts=dict(sorted(endpoint.failed.items())),
        out_of_range=histogram.out_of_range,
        histogram=histogram,
    )


def span_duration_s(run: RunInfo, first_second: int | None, last_second: int | None) -> float:
    """The run's wall-clock length; for an unfinished run, first..last second of its data."""
    if run.ended_at is not None:
        return run.duration_s
    if first_second is None or last_second is None:
        return 0.0
    return float(last_second - first_second + 1)


def summarize(
    run: RunInfo, seconds: Iterable[EndpointSecond], users: Iterable[UsersSample]
) -> RunSummary:
    """The whole run: every endpoint, the total and the grouped errors."""
    fold = fold_seconds(seconds)
    return summarize_fold(run, fold, users_max=max((u.users for u in users), default=0))


def summarize_fold(
    run: RunInfo, fold: RunFold, *, users_max: int, duration_s: float | None = None
) -> RunSummary:
    """The summary of a folded run (or range of a run: then give its `duration_s`)."""
    if duration_s is None:
        duration_s = span_duration_s(run, fold.first_second, fold.last_second)
    ordered = sorted(fold.endpoints.values(), key=lambda e: (e.name, e.method))
    endpoints = tuple(_endpoint_summary(endpoint, duration_s) for endpoint in ordered)
    total = EndpointFold("", TOTAL_NAME)
    for endpoint in ordered:
        total.requests += endpoint.requests
        total.failures += endpoint.failures
        total.bytes_received += endpoint.bytes_received
        total.ok.update(endpoint.ok)
        total.failed.update(endpoint.failed)
        total.histogram.merge(endpoint.histogram)
    return RunSummary(
        run=run,
        duration_s=duration_s,
        users_max=users_max,
        endpoints=endpoints,
        total=_endpoint_summary(total, duration_s),
        errors=tuple(
            ErrorGroup(method=m, name=n, message=msg, count=c)
            for (m, n, msg), c in fold.error_counts().most_common()
        ),
    )
