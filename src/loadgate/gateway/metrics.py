"""The gateway's Prometheus metrics, with label children bound once rather than per request.

Gateway processes write their metrics to files in PROMETHEUS_MULTIPROC_DIR
(prometheus-client's multiprocess mode, chosen before prometheus_client is
imported: see `worker.py`); the admin API merges them for /metrics.
"""

from __future__ import annotations

from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

PREFIX = "loadgate_gateway_"
ERROR_KINDS = (
    "connect", "reset", "timeout", "pool", "protocol", "truncated", "body_too_large",
    "breaker_open",
)  # fmt: skip
# The statuses the HTTP server answers on its own, exported as 0 before the first.
REFUSAL_STATUSES = (400, 408, 413, 414, 417, 431, 501, 505)
# How prometheus-client merges a gauge's per-process values for /metrics.
MultiprocessMode = Literal["livesum", "livemax"]
# Seconds; dense below 10 ms, where a gateway's own time lives.
LATENCY_BUCKETS_S = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip


class RouteMetrics:
    """Children bound to one route."""

    def __init__(self, metrics: GatewayMetrics, route: str) -> None:
        self.route = route
        self.gateway_latency = metrics.gateway_latency.labels(route)
        self.total_latency = metrics.request_duration.labels(route)
        self.cache_hit = metrics.cache.labels(route, "hit")
        self.cache_miss = metrics.cache.labels(route, "miss")
        self.cache_bypass = metrics.cache.labels(route, "bypass")
        self._requests = metrics.requests
        self._by_status: dict[tuple[str, int], Any] = {}

    def count(self, method: str, status: int) -> None:
        child = self._by_status.get((method, status))
        if child is None:
            child = self._by_status[(method, status)] = self._requests.labels(
                self.route, method, str(status)
            )
        child.inc()


class UpstreamMetrics:
    """Children bound to one upstream."""

    def __init__(self, metrics: GatewayMetrics, upstream: str) -> None:
        self.latency = metrics.upstream_latency.labels(upstream)
        self.retries = metrics.retries.labels(upstream)
        self.breaker_state = metrics.breaker_state.labels(upstream)
        self.breaker_state.set(0)
        self._errors = metrics.upstream_errors
        self._upstream = upstream
        # Bound up front so every kind is exported (as 0) before the first error.
        self._by_kind: dict[str, Any] = {
            kind: metrics.upstream_errors.labels(upstream, kind) for kind in ERROR_KINDS
        }

    def error(self, kind: str) -> None:
        child = self._by_kind.get(kind)
        if child is None:
            child = self._by_kind[kind] = self._errors.labels(self._upstream, kind)
        child.inc()


class _Declare:
    """Declares metrics named PREFIX + name in one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def counter(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        return Counter(PREFIX + name, doc, labels, registry=self._registry)

    def histogram(self, name: str, doc: str, label: str) -> Histogram:
        return Histogram(
            PREFIX + name, doc, [label], buckets=LATENCY_BUCKETS_S, registry=self._registry
        )

    def gauge(
        self, name: str, doc: str, mode: MultiprocessMode, labels: tuple[str, ...] = ()
    ) -> Gauge:
        return Gauge(PREFIX + name, doc, labels, multiprocess_mode=mode, registry=self._registry)


class GatewayMetrics:
    """Every metric the gateway exports, registered in a private registry.

    Declared by family: requests, cache and rate limits, upstreams, refusals.
    """

    requests: Counter
    request_duration: Histogram
    gateway_latency: Histogram
    in_flight: Gauge
    cache: Counter
    rate_limit: Counter
    rate_limit_backend_errors: Counter
    rate_limit_fallback: Gauge
    upstream_latency: Histogram
    retries: Counter
    upstream_errors: Counter
    breaker_state: Gauge
    refused: Counter

    def __init__(self) -> None:
        declare = _Declare(CollectorRegistry())
        self._declare_requests(declare)
        self._declare_cache_and_limits(declare)
        self._declare_upstreams(declare)
        self._declare_refusals(declare)
        self._consumers: dict[tuple[str, bool], Any] = {}

    def _declare_requests(self, declare: _Declare) -> None:
        self.requests = declare.counter(
            "requests_total",
            "Requests answered by the gateway, by route, method and status.",
            ("route", "method", "status"),
        )
        self.request_duration = declare.histogram(
            "request_duration_seconds",
            "Time from request to response at the gateway, upstream included.",
            "route",
        )
        self.gateway_latency = declare.histogram(
            "latency_seconds",
            "The gateway's own time per request (total minus upstream time).",
            "route",
        )
        self.in_flight = declare.gauge(
            "requests_in_flight", "Requests the gateway is working on.", "livesum"
        )

    def _declare_cache_and_limits(self, declare: _Declare) -> None:
        self.cache = declare.counter(
            "cache_total",
            "Response cache lookups by route and result (hit, miss, bypass).",
            ("route", "result"),
        )
        self.rate_limit = declare.counter(
            "rate_limit_total",
            "Rate limit decisions by consumer (configured name, jwt or anonymous).",
            ("consumer", "decision"),
        )
        self.rate_limit_backend_errors = declare.counter(
            "rate_limit_backend_errors_total",
            "Shared (Redis) rate limit checks that failed and fell back to local buckets.",
        )
        self.rate_limit_fallback = declare.gauge(
            "rate_limit_fallback",
            "Gateway processes limiting with their own buckets because Redis failed (1 each).",
            "livesum",
        )

    def _declare_upstreams(self, declare: _Declare) -> None:
        self.upstream_latency = declare.histogram(
            "upstream_latency_seconds",
            "Time from sending a request upstream to its last response byte, per attempt.",
            "upstream",
        )
        self.retries = declare.counter(
            "retries_total", "Retried attempts to an upstream.", ("upstream",)
        )
        self.upstream_errors = declare.counter(
            "upstream_errors_total",
            f"Attempts without a usable upstream response, by kind ({', '.join(ERROR_KINDS)}).",
            ("upstream", "kind"),
        )
        self.breaker_state = declare.gauge(
            "circuit_breaker_state",
            "Circuit breaker per upstream: 0 closed, 1 half-open, 2 open (worst process).",
            "livemax",
            ("upstream",),
        )

    def _declare_refusals(self, declare: _Declare) -> None:
        self.refused = declare.counter(
            "http_refused_total",
            "Requests the HTTP server answered itself, before routing (malformed, too large, "
            "too slow), by status.",
            ("status",),
        )
        # Bound up front so every status is exported (as 0) before the first refusal.
        self._refused_by_status: dict[int, Any] = {
            status: self.refused.labels(str(status)) for status in REFUSAL_STATUSES
        }

    def refusal(self, status: int) -> None:
        """Count an answer the server made without the gateway (its refusal hook)."""
        child = self._refused_by_status.get(status)
        if child is None:
            child = self._refused_by_status[status] = self.refused.labels(str(status))
        child.inc()

    def rate_limit_decision(self, consumer: str, allowed: bool) -> None:
        child = self._consumers.get((consumer, allowed))
        if child is None:
            decision = "allowed" if allowed else "rejected"
            child = self._consumers[(consumer, allowed)] = self.rate_limit.labels(
                consumer, decision
            )
        child.inc()
