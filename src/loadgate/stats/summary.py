"""Summaries of a run: per endpoint and in total, from its stored seconds.

A pure function of stored data (RunInfo, EndpointSecond, UsersSample), so any
old run can be summarised again exactly: histograms merge without loss.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from loadgate.model import EndpointSecond, RunInfo, UsersSample
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
    seconds = list(seconds)
    histogram = LatencyHistogram.merged(
        LatencyHistogram.decode(second.histogram, second.out_of_range) for second in seconds
    )
    return _endpoint_summary(method, name, seconds, histogram, duration_s)


def _endpoint_summary(
    method: str,
    name: str,
    seconds: Sequence[EndpointSecond],
    histogram: LatencyHistogram,
    duration_s: float,
) -> EndpointSummary:
    ok: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    requests = failures = bytes_received = 0
    for second in seconds:
        ok.update(second.ok_status_counts)
        failed.update(second.failed_status_counts)
        requests += second.requests
        failures += second.failures
        bytes_received += second.bytes_received
    q = histogram.quantiles_us((0.5, 0.9, 0.95, 0.99, 0.999))
    return EndpointSummary(
        method=method,
        name=name,
        requests=requests,
        failures=failures,
        rps=requests / duration_s if duration_s > 0 else 0.0,
        bytes_received=bytes_received,
        p50_ms=_ms(q[0.5]),
        p90_ms=_ms(q[0.9]),
        p95_ms=_ms(q[0.95]),
        p99_ms=_ms(q[0.99]),
        p999_ms=_ms(q[0.999]),
        max_ms=_ms(histogram.max_us),
        min_ms=_ms(histogram.min_us),
        mean_ms=_ms(histogram.mean_us),
        ok_status_counts=dict(sorted(ok.items())),
        failed_status_counts=dict(sorted(failed.items())),
        out_of_range=histogram.out_of_range,
        histogram=histogram,
    )


def measured_duration_s(run: RunInfo, seconds: Sequence[EndpointSecond]) -> float:
    """The run's wall-clock length; for an unfinished run, the span of its data."""
    if run.ended_at is not None:
        return run.duration_s
    if not seconds:
        return 0.0
    return float(max(s.second for s in seconds) - min(s.second for s in seconds) + 1)


def summarize(
    run: RunInfo, seconds: Sequence[EndpointSecond], users: Sequence[UsersSample]
) -> RunSummary:
    """The whole run: every endpoint, the total and the grouped errors."""
    duration_s = measured_duration_s(run, seconds)
    by_endpoint: dict[tuple[str, str], list[EndpointSecond]] = defaultdict(list)
    errors: Counter[tuple[str, str, str]] = Counter()
    for second in seconds:
        by_endpoint[(second.method, second.name)].append(second)
        for message, count in second.errors.items():
            errors[(second.method, second.name, message)] += count
    endpoints = tuple(
        summarize_endpoint(method, name, group, duration_s)
        for (method, name), group in sorted(
            by_endpoint.items(), key=lambda kv: (kv[0][1], kv[0][0])
        )
    )
    return RunSummary(
        run=run,
        duration_s=duration_s,
        users_max=max((u.users for u in users), default=0),
        endpoints=endpoints,
        # Decoding dominates the cost of a summary: each second is decoded once,
        # for its endpoint, and the total adds up the endpoints' histograms.
        total=_endpoint_summary(
            "",
            TOTAL_NAME,
            seconds,
            LatencyHistogram.merged(endpoint.histogram for endpoint in endpoints),
            duration_s,
        ),
        errors=tuple(
            ErrorGroup(method=m, name=n, message=msg, count=c)
            for (m, n, msg), c in errors.most_common()
        ),
    )
