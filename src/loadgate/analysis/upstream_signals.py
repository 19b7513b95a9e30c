"""The scraped series that tell about a gateway's upstreams: attempts, retries, breaker state.

Named by exporter. The reference gateway's are tested end to end; the
others are the names their gateways document (GATEWAYS.md), recognised so
that a run against them gets the same findings, untested here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from loadgate.scraped import SeriesKey, SeriesKind


class Counts(Enum):
    """What an upstream counter counts."""

    ATTEMPTS = "attempts"  # every request sent upstream, retries included
    RETRIES = "retries"  # only the retried ones: attempts = client requests + retries


@dataclass(frozen=True, kw_only=True)
class UpstreamCounter:
    name: str
    gateway: str
    counts: Counts


# In order of preference: the first with samples in a run is used.
UPSTREAM_COUNTERS = (
    # One latency observation per attempt that reached an upstream.
    UpstreamCounter(
        name="loadgate_gateway_upstream_latency_seconds_count",
        gateway="the reference gateway",
        counts=Counts.ATTEMPTS,
    ),
    UpstreamCounter(
        name="envoy_cluster_upstream_rq_total", gateway="Envoy", counts=Counts.ATTEMPTS
    ),
    UpstreamCounter(name="envoy_cluster_upstream_rq_retry", gateway="Envoy", counts=Counts.RETRIES),
    UpstreamCounter(name="traefik_service_retries_total", gateway="Traefik", counts=Counts.RETRIES),
    UpstreamCounter(
        name="haproxy_backend_retry_warnings_total", gateway="HAProxy", counts=Counts.RETRIES
    ),
)


@dataclass(frozen=True, kw_only=True)
class BreakerGauge:
    """A gauge saying whether a circuit breaker is open: open at `open_at` and above."""

    pattern: re.Pattern[str]
    gateway: str
    open_at: float


BREAKER_GAUGES = (
    # 0 closed, 1 half-open, 2 open (gateway/breaker.py).
    BreakerGauge(
        pattern=re.compile(r"loadgate_gateway_circuit_breaker_state"),
        gateway="the reference gateway",
        open_at=2.0,
    ),
    # 1 while a circuit breaker threshold is reached and requests are refused.
    BreakerGauge(
        pattern=re.compile(r"envoy_cluster_circuit_breakers_(default|high)_\w+_open"),
        gateway="Envoy",
        open_at=1.0,
    ),
)


def upstream_counter(key: SeriesKey) -> UpstreamCounter | None:
    if key.kind is not SeriesKind.RATE:
        return None
    return next((c for c in UPSTREAM_COUNTERS if c.name == key.name), None)


def breaker_gauge(key: SeriesKey) -> BreakerGauge | None:
    if key.kind is not SeriesKind.GAUGE:
        return None
    return next((g for g in BREAKER_GAUGES if g.pattern.fullmatch(key.name)), None)


def read_by_findings(key: SeriesKey) -> bool:
    """Whether the findings need this series' values (what a reader must fetch for them)."""
    return upstream_counter(key) is not None or breaker_gauge(key) is not None
