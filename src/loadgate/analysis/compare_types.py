"""The result of comparing two runs: metrics, verdicts and the method's settings."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from loadgate.errors import ConfigError
from loadgate.model import endpoint_label
from loadgate.stats.histogram import LatencyHistogram


class ComparedMetric(StrEnum):
    """What is compared, per endpoint and for the total."""

    P50 = "p50"
    P95 = "p95"
    P99 = "p99"
    RPS = "rps"
    ERROR_RATE = "error_rate"


LATENCY_QUANTILES: dict[ComparedMetric, float] = {
    ComparedMetric.P50: 0.5,
    ComparedMetric.P95: 0.95,
    ComparedMetric.P99: 0.99,
}
METRIC_UNITS: dict[ComparedMetric, str] = {
    ComparedMetric.P50: "ms",
    ComparedMetric.P95: "ms",
    ComparedMetric.P99: "ms",
    ComparedMetric.RPS: "req/s",
    ComparedMetric.ERROR_RATE: "ratio",
}


class Change(StrEnum):
    REGRESSION = "regression"
    IMPROVEMENT = "improvement"
    UNCHANGED = "unchanged"
    INSUFFICIENT = "insufficient data"
    INFORMATIONAL = "informational"


class Presence(StrEnum):
    """Whether an endpoint is in both runs or only in one."""

    BOTH = "both"
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True, kw_only=True)
class CompareSettings:
    """The parameters of the method described in this module's docstring."""

    resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0
    max_blocks: int = 60
    grid_resolution: float = 0.01
    min_relative_change: float = 0.10
    min_latency_delta_ms: float = 2.0
    min_error_rate_delta: float = 0.005
    min_rps_delta: float = 1.0
    judge_rps: bool = False
    min_seconds: int = 5
    min_requests: int = 50
    min_tail_requests: int = 5

    def __post_init__(self) -> None:
        problems = []
        if self.resamples < 100:
            problems.append(f"resamples must be at least 100, but is {self.resamples}")
        if not 0.5 <= self.confidence < 1.0:
            problems.append(f"confidence must be within 0.5..1, but is {self.confidence}")
        if self.min_relative_change < 0 or self.min_latency_delta_ms < 0:
            problems.append("the minimum changes must not be negative")
        if self.max_blocks < self.min_seconds or self.min_seconds < 2:
            problems.append(
                f"min_seconds must be at least 2 and at most max_blocks ({self.max_blocks}), "
                f"but is {self.min_seconds}"
            )
        if problems:
            raise ConfigError("; ".join(problems))


@dataclass(frozen=True, kw_only=True)
class MetricComparison:
    """One metric of one endpoint in both runs, with its change and verdict.

    Latencies are in ms, throughput in req/s, the error rate as a ratio (0–1);
    `interval` is the bootstrap interval of candidate − base in the same unit.
    """

    metric: ComparedMetric
    base: float
    candidate: float
    interval: tuple[float, float] | None
    verdict: Change
    note: str = ""

    @property
    def unit(self) -> str:
        return METRIC_UNITS[self.metric]

    @property
    def delta(self) -> float:
        return self.candidate - self.base

    @property
    def relative(self) -> float | None:
        """The change relative to the base; None when the base is 0."""
        return self.delta / self.base if self.base else None


@dataclass(frozen=True, kw_only=True)
class EndpointComparison:
    """One endpoint (or the total) in both runs."""

    method: str
    name: str
    presence: Presence
    base_requests: int
    candidate_requests: int
    metrics: tuple[MetricComparison, ...]
    base_histogram: LatencyHistogram = field(repr=False, compare=False)
    candidate_histogram: LatencyHistogram = field(repr=False, compare=False)

    @property
    def label(self) -> str:
        return endpoint_label(self.method, self.name)

    def metric(self, metric: ComparedMetric) -> MetricComparison:
        for compared in self.metrics:
            if compared.metric == metric:
                return compared
        raise KeyError(f"{self.label} has no compared {metric.value}")

    def with_verdict(self, verdict: Change) -> tuple[MetricComparison, ...]:
        return tuple(m for m in self.metrics if m.verdict == verdict)


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """Every endpoint (matched by method and name) and the total, base against candidate."""

    endpoints: tuple[EndpointComparison, ...]
    total: EndpointComparison
    settings: CompareSettings

    def findings(self, verdict: Change) -> tuple[tuple[EndpointComparison, MetricComparison], ...]:
        return tuple(
            (endpoint, metric)
            for endpoint in (*self.endpoints, self.total)
            for metric in endpoint.with_verdict(verdict)
        )

    @property
    def has_regression(self) -> bool:
        return bool(self.findings(Change.REGRESSION))

    @property
    def verdict(self) -> Change:
        """Regression if anything got worse, else improvement if anything got better."""
        judged = [m.verdict for e in (*self.endpoints, self.total) for m in e.metrics]
        for verdict in (Change.REGRESSION, Change.IMPROVEMENT, Change.UNCHANGED):
            if verdict in judged:
                return verdict
        return Change.INSUFFICIENT

    @property
    def common_p50_change(self) -> float | None:
        """The relative p50 change every endpoint shares, when they all moved together.

        Two or more endpoints whose medians all moved the same way by more than
        the minimum, and by nearly the same factor (within the minimum of each
        other), look like one cause under all of them: the machine, or
        something every request passes through. None otherwise.
        """
        factors = []
        for endpoint in self.endpoints:
            if endpoint.presence != Presence.BOTH:
                continue
            p50 = endpoint.metric(ComparedMetric.P50)
            if p50.verdict == Change.INSUFFICIENT or p50.relative is None:
                return None
            factors.append(1.0 + p50.relative)
        if len(factors) < 2:
            return None
        minimum = self.settings.min_relative_change
        all_up = min(factors) >= 1.0 + minimum
        all_down = max(factors) <= 1.0 - minimum
        if not (all_up or all_down) or max(factors) / min(factors) > 1.0 + minimum:
            return None
        return math.prod(factors) ** (1.0 / len(factors)) - 1.0
