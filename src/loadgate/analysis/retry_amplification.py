"""Retry amplification: upstream requests per client request, from the gateway's scraped counters.

A gateway that retries sends a failing upstream more requests than its
clients send it: with a failure rate f and R retries, (1 − f^(R+1)) / (1 − f)
attempts per request, load that lands when the upstream can least take it.
The ratio is taken over sliding windows of WINDOW_S seconds (a scrape's
second and a client's second do not line up exactly), and only where the
client sent at least MIN_WINDOW_REQUESTS in the window. A finding needs the
ratio at or above WARNING_RATIO for MIN_SECONDS seconds in a row.

The client side is this run's requests only: other clients of the same
gateway would raise the ratio, cache hits and refusals (429, open breaker)
lower it.
"""

from __future__ import annotations

from collections.abc import Mapping

from loadgate.analysis.finding import Chart, Finding, Severity
from loadgate.analysis.upstream_signals import UPSTREAM_COUNTERS, Counts, UpstreamCounter
from loadgate.scraped import ScrapedRun
from loadgate.stats.series import RunSeries

WINDOW_S = 3
MIN_WINDOW_REQUESTS = 10
WARNING_RATIO = 1.5
CRITICAL_RATIO = 2.5
MIN_SECONDS = 3


def client_requests_per_second(series: RunSeries) -> dict[int, int]:
    per_second: dict[int, int] = {}
    for endpoint in series.endpoints:
        for second, point in endpoint.points.items():
            per_second[second] = per_second.get(second, 0) + point.requests
    return per_second


def upstream_per_second(scraped: ScrapedRun) -> tuple[UpstreamCounter, dict[int, float]] | None:
    """The first recognised upstream counter with samples, summed over its series and URLs."""
    for counter in UPSTREAM_COUNTERS:
        per_second: dict[int, float] = {}
        for key, samples in scraped.samples.items():
            if key.name == counter.name:
                for second, rate in samples.items():
                    per_second[second] = per_second.get(second, 0.0) + rate
        if per_second:
            return counter, per_second
    return None


def amplification_ratios(
    client: Mapping[int, int], upstream: Mapping[int, float], counts: Counts
) -> dict[int, float]:
    """Upstream requests per client request over the WINDOW_S seconds ending at each second.

    Only windows whose every second has an upstream value: a gap (or the
    first scrape, which gives no rate) would count as no upstream requests.
    """
    if not client:
        return {}
    ratios: dict[int, float] = {}
    for second in range(min(client), max(client) + 1):
        window = range(second - WINDOW_S + 1, second + 1)
        if any(s not in upstream for s in window):
            continue
        sent = sum(client.get(s, 0) for s in window)
        if sent < MIN_WINDOW_REQUESTS:
            continue
        upstream_sum = sum(upstream.get(s, 0.0) for s in window)
        attempts = upstream_sum + sent if counts is Counts.RETRIES else upstream_sum
        ratios[second] = attempts / sent
    return ratios


def _stretches(ratios: Mapping[int, float]) -> list[tuple[int, int]]:
    """(first, last) seconds of each run of consecutive seconds at or above WARNING_RATIO."""
    stretches: list[tuple[int, int]] = []
    for second in sorted(s for s, r in ratios.items() if r >= WARNING_RATIO):
        if stretches and second == stretches[-1][1] + 1:
            stretches[-1] = (stretches[-1][0], second)
        else:
            stretches.append((second, second))
    return [(a, b) for a, b in stretches if b - a + 1 >= MIN_SECONDS]


def retry_amplification_findings(series: RunSeries, scraped: ScrapedRun) -> list[Finding]:
    """One finding when the gateway sent its upstreams many more requests than it got."""
    found = upstream_per_second(scraped)
    if found is None:
        return []
    counter, upstream = found
    client = client_requests_per_second(series)
    ratios = amplification_ratios(client, upstream, counter.counts)
    stretches = _stretches(ratios)
    if not stretches:
        return []
    first, last = max(stretches, key=lambda pair: (pair[1] - pair[0], -pair[0]))
    above_s = sum(b - a + 1 for a, b in stretches)
    peak = max(ratios.values())
    # Over the seconds with an upstream value only, as the ratios are.
    sent = sum(client.get(s, 0) for s in upstream)
    upstream_total = sum(upstream.values()) + (sent if counter.counts is Counts.RETRIES else 0.0)
    run_ratio = upstream_total / max(1, sent)
    start = series.start_second
    return [
        Finding(
            kind="retry_amplification",
            severity=Severity.CRITICAL if peak >= CRITICAL_RATIO else Severity.WARNING,
            sentence=(
                f"{counter.gateway} sent its upstreams up to {peak:.2f} requests per client "
                f"request ({run_ratio:.2f} over the run), {WARNING_RATIO:g} or more for "
                f"{above_s} s: its retries multiply the load on failing upstreams"
            ),
            numbers={
                "peak_ratio": round(peak, 3),
                "run_ratio": round(run_ratio, 3),
                "seconds_above": above_s,
                "upstream_requests": round(upstream_total),
                "client_requests": sent,
                "counter": counter.name,
            },
            from_s=first - start,
            to_s=last - start,
            chart=Chart.UPSTREAM,
        )
    ]
