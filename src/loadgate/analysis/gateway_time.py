"""Gateway time: does the gateway's share of latency grow with load while the upstream's does not?

From the responses' split into upstream and gateway time
(engine.gateway_headers: Server-Timing, Kong's and Envoy's headers). Only a
run whose users took several levels (a ramp) can show growth with load: the
buckets (the report's timeline's) of the lowest third of the users' range
are compared with those of the highest third, by the median of their p95s.

`gateway_time` (warning), per endpoint: the gateway's p95 at high load is at
least GROWTH times, and MIN_GROWTH_MS more than, its p95 at low load, while
the upstream's p95 grew less than UPSTREAM_STEADY times. The time is spent
in the gateway: its own CPU, a connection pool to the upstream that is too
small (waiting for a connection is gateway time), its plugins. When both
grow, the upstream is the bottleneck (the saturation finding covers that),
and a gateway that adds little in absolute terms is no finding, however its
ratio moves: a few tenths of a millisecond double on any busy machine.
"""

from __future__ import annotations

from statistics import median

from loadgate.analysis.finding import Chart, Finding, Severity
from loadgate.model import Part
from loadgate.stats.parts import EndpointParts, RunParts

GROWTH = 2.0
MIN_GROWTH_MS = 5.0
UPSTREAM_STEADY = 1.5
MIN_LEVELS = 3
MIN_BUCKETS = 2  # in each of the low and high thirds
MIN_REQUESTS = 20  # in each of the low and high thirds
GATEWAY, UPSTREAM = Part.GATEWAY, Part.UPSTREAM


def gateway_time_findings(parts: RunParts) -> list[Finding]:
    """A warning per endpoint whose gateway time grew with load while its upstream's did not."""
    found: list[Finding] = []
    for endpoint in parts.endpoints:
        if GATEWAY in endpoint.buckets and UPSTREAM in endpoint.buckets:
            finding = _endpoint_finding(parts, endpoint)
            if finding is not None:
                found.append(finding)
    return found


def _endpoint_finding(parts: RunParts, endpoint: EndpointParts) -> Finding | None:
    gateway, upstream = endpoint.buckets[GATEWAY], endpoint.buckets[UPSTREAM]
    usable = [
        i for i, users in enumerate(parts.users)
        if users and gateway.p95_ms[i] is not None and upstream.p95_ms[i] is not None
    ]  # fmt: skip
    levels = {parts.users[i] or 0 for i in usable}
    if len(levels) < MIN_LEVELS:
        return None
    lowest, highest = min(levels), max(levels)
    third = (highest - lowest) / 3
    low = [i for i in usable if (parts.users[i] or 0) <= lowest + third]
    high = [i for i in usable if (parts.users[i] or 0) >= highest - third]
    if (
        min(len(low), len(high)) < MIN_BUCKETS
        or min(sum(gateway.requests[i] for i in low), sum(gateway.requests[i] for i in high))
        < MIN_REQUESTS
    ):
        return None
    gateway_low, gateway_high = _median_p95(gateway.p95_ms, low), _median_p95(gateway.p95_ms, high)
    upstream_low = _median_p95(upstream.p95_ms, low)
    upstream_high = _median_p95(upstream.p95_ms, high)
    grew = gateway_high >= GROWTH * gateway_low and gateway_high - gateway_low >= MIN_GROWTH_MS
    if not grew or upstream_high >= UPSTREAM_STEADY * upstream_low:
        return None
    share_low = gateway_low / (gateway_low + upstream_low) if gateway_low + upstream_low else 0.0
    share_high = gateway_high / (gateway_high + upstream_high)
    users_low = max(parts.users[i] or 0 for i in low)
    users_high = min(parts.users[i] or 0 for i in high)
    return Finding(
        kind="gateway_time",
        severity=Severity.WARNING,
        sentence=(
            f"the gateway's own p95 grew from {gateway_low:.1f} ms at up to {users_low} users "
            f"to {gateway_high:.1f} ms at {users_high} or more, while the upstream's went from "
            f"{upstream_low:.1f} to {upstream_high:.1f} ms: the gateway's share of the p95 "
            f"rose from {share_low:.0%} to {share_high:.0%} (its CPU, its pool to the "
            "upstream, or its plugins)"
        ),
        numbers={
            "gateway_p95_low_ms": gateway_low,
            "gateway_p95_high_ms": gateway_high,
            "upstream_p95_low_ms": upstream_low,
            "upstream_p95_high_ms": upstream_high,
            "gateway_share_low": round(share_low, 4),
            "gateway_share_high": round(share_high, 4),
            "users_low": users_low,
            "users_high": users_high,
        },
        from_s=parts.offsets_s[min(low + high)],
        to_s=parts.offsets_s[max(low + high)] + parts.bucket_s - 1,
        endpoint=endpoint.label,
        chart=Chart.TIMING,
    )


def _median_p95(p95_ms: tuple[float | None, ...], buckets: list[int]) -> float:
    return median(p95_ms[i] or 0.0 for i in buckets)
