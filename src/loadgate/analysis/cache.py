"""Cache findings: per endpoint, the share of cache hits over the run and hits' latency vs misses'.

From the responses' cache status (engine.gateway_headers: X-Cache-Status and
its kin). Only responses a cache answered for count: BYPASS, or no status,
is neither a hit nor a miss. Per endpoint with at least MIN_HITS hits and
MIN_MISSES misses:

- `cache.hit_ratio_falls` (warning): the hit ratio of the last third of the
  endpoint's span is at least FALL_POINTS below that of the first third
  (each third with THIRD_MIN cacheable responses): the cache stopped
  holding what the load asks for (evictions, a working set that grew, keys
  that vary).
- `cache.hits_not_faster` (warning): hits' p50 is at least NOT_FASTER of
  misses' p50: the cache costs as much as the upstream it should spare.
- `cache` (info), when neither: the cache works, with its hit ratio and the
  latency of each.

A rising ratio (a cache warming up) is no finding. Too few misses (a long
TTL on a short run) gives none either: one miss is no latency to compare.
"""

from __future__ import annotations

from loadgate.analysis.finding import Chart, Finding, Severity
from loadgate.model import Part
from loadgate.stats.parts import EndpointParts, RunParts

MIN_HITS = 10
MIN_MISSES = 5
FALL_POINTS = 0.2
THIRD_MIN = 20
NOT_FASTER = 0.9
HIT, MISS = Part.CACHE_HIT, Part.CACHE_MISS


def cache_findings(parts: RunParts) -> list[Finding]:
    """One finding per endpoint with enough hits and misses: a warning, or else the info."""
    found: list[Finding] = []
    for endpoint in parts.endpoints:
        if endpoint.requests(HIT) < MIN_HITS or endpoint.requests(MISS) < MIN_MISSES:
            continue
        found.append(_endpoint_finding(parts, endpoint))
    return found


def _endpoint_finding(parts: RunParts, endpoint: EndpointParts) -> Finding:
    hits = endpoint.buckets[HIT].requests
    misses = endpoint.buckets[MISS].requests
    used = [i for i, (h, m) in enumerate(zip(hits, misses, strict=True)) if h + m]
    first, last = used[0], used[-1]
    span = last - first + 1
    early = range(first, first + span // 3)
    late = range(last + 1 - span // 3, last + 1)
    early_ratio = _ratio(hits, misses, early)
    late_ratio = _ratio(hits, misses, late)
    hit, miss = endpoint.totals[HIT], endpoint.totals[MISS]
    cacheable = hit.requests + miss.requests
    numbers: dict[str, float | int | str] = {
        "hit_ratio": round(hit.requests / cacheable, 4),
        "hits": hit.requests,
        "misses": miss.requests,
        "hit_p50_ms": hit.p50_ms,
        "hit_p95_ms": hit.p95_ms,
        "miss_p50_ms": miss.p50_ms,
        "miss_p95_ms": miss.p95_ms,
    }
    kind, severity = "cache", Severity.INFO
    sentence = (
        f"{hit.requests / cacheable:.0%} of {cacheable:,} cacheable responses were cache "
        f"hits; hits took {hit.p50_ms:.1f} ms at p50 against {miss.p50_ms:.1f} ms for misses"
    )
    if early_ratio is not None and late_ratio is not None:
        numbers.update(first_third_hit_ratio=round(early_ratio, 4),
                       last_third_hit_ratio=round(late_ratio, 4))  # fmt: skip
        if late_ratio <= early_ratio - FALL_POINTS:
            kind, severity = "cache.hit_ratio_falls", Severity.WARNING
            sentence = (
                f"the cache hit ratio fell from {early_ratio:.0%} in the first third of the "
                f"run to {late_ratio:.0%} in the last; {sentence}"
            )
    if severity is Severity.INFO and hit.p50_ms >= NOT_FASTER * miss.p50_ms:
        kind, severity = "cache.hits_not_faster", Severity.WARNING
        sentence = (
            f"cache hits were not faster than misses ({hit.p50_ms:.1f} ms against "
            f"{miss.p50_ms:.1f} ms at p50), over {cacheable:,} cacheable responses"
        )
    return Finding(
        kind=kind,
        severity=severity,
        sentence=sentence,
        numbers=numbers,
        from_s=parts.offsets_s[first],
        to_s=parts.offsets_s[last] + parts.bucket_s - 1,
        endpoint=endpoint.label,
        chart=Chart.CACHE,
    )


def _ratio(hits: tuple[int, ...], misses: tuple[int, ...], within: range) -> float | None:
    """Hits over hits and misses in the buckets `within`; None under THIRD_MIN of them."""
    hit_count = sum(hits[i] for i in within)
    total = hit_count + sum(misses[i] for i in within)
    return hit_count / total if total >= THIRD_MIN else None
