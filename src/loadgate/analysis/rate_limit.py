"""Rate-limit accuracy: the rate a gateway accepted per second against the limit it should hold.

`--expect-rate-limit "20/s"` (or `"GET /v1/search: 20/s"` for one endpoint,
or the plan's `[findings] expect_rate_limit`) states the limit. Accepted
responses are those with a status other than 429 and 0 (no response). While
the limit is active (seconds with 429s), the accepted rate should be the
limit: the finding gives the mean accepted rate then, its overshoot over
the limit, and the worst second. The first second of limiting is left out
of both: a token bucket's burst is allowed to pass there.

Per-key limits (`per X-API-Key`) and checks of `Retry-After`/`RateLimit-*`
headers need the collector to record response headers, which it does not yet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loadgate.analysis.finding import Chart, Finding, Severity
from loadgate.analysis.thresholds_eval import endpoint_matches
from loadgate.errors import ConfigError
from loadgate.stats.series import RunSeries

SETTING = "expect_rate_limit"
REJECTED = frozenset({"429", "0"})
# Mean accepted rate over the limit while limiting: from these, a warning and critical.
WARNING_OVERSHOOT = 0.15
CRITICAL_OVERSHOOT = 0.5
# Rejecting while accepting less than this share of the limit: the limit bites too early.
UNDERSHOOT = 0.7
_RATE = re.compile(r"(?P<rate>\d+(?:\.\d+)?)\s*/\s*(?P<unit>s|sec|second|m|min|minute)")
_UNIT_S = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
EXPECTED = (
    "a rate such as '50/s' or '600/min', optionally after an endpoint: 'GET /v1/search: 20/s'"
)


@dataclass(frozen=True, kw_only=True)
class ExpectedRateLimit:
    """The limit the target should hold: requests per second, on one endpoint or on all."""

    text: str
    rate_per_s: float
    endpoint: str | None = None


def parse_rate_limit(text: str) -> ExpectedRateLimit:
    """'50/s', '600/min', 'GET /v1/search: 20/s'; ConfigError naming what was expected."""
    stripped = " ".join(text.split())
    endpoint, _, rate_text = stripped.rpartition(": ")
    rate_text = rate_text.strip()
    if " per " in f" {rate_text} ":
        raise ConfigError(
            f"bad rate limit {text!r}: per-key limits ('per HEADER') need response headers, "
            "which loadgate does not record yet; give the limit of all requests, such as '50/s'"
        )
    match = _RATE.fullmatch(rate_text)
    if match is None or float(match.group("rate")) <= 0:
        raise ConfigError(f"bad rate limit {text!r}: expected {EXPECTED}")
    return ExpectedRateLimit(
        text=stripped,
        rate_per_s=float(match.group("rate")) / _UNIT_S[match.group("unit")],
        endpoint=endpoint.strip() or None,
    )


def expected_limit(settings: Mapping[str, Any] | None) -> ExpectedRateLimit | None:
    """The limit stored with the run (or given to show/report), if any."""
    text = (settings or {}).get(SETTING)
    return parse_rate_limit(str(text)) if text else None


def rate_limit_findings(series: RunSeries, limit: ExpectedRateLimit | None) -> list[Finding]:
    """One finding when a limit is expected: how accurately it held, or that it never bit."""
    if limit is None:
        return []
    accepted: dict[int, int] = {}
    rejected: dict[int, int] = {}
    chosen = [
        e
        for e in series.endpoints
        if limit.endpoint is None or endpoint_matches(limit.endpoint, e.method, e.name)
    ]
    for endpoint in chosen:
        for second, point in endpoint.points.items():
            statuses = [*point.ok.items(), *point.failed.items()]
            ok = sum(c for s, c in statuses if s not in REJECTED)
            accepted[second] = accepted.get(second, 0) + ok
            rejected[second] = rejected.get(second, 0) + sum(c for s, c in statuses if s == "429")
    start = series.start_second
    where = limit.endpoint or "all endpoints"
    if not accepted:
        return []
    limiting = sorted(s for s, count in rejected.items() if count)
    numbers: dict[str, float | int | str] = {
        "limit_per_s": limit.rate_per_s,
        "rejected_429": sum(rejected.values()),
        "max_accepted_per_s": max(accepted.values()),
    }
    if not limiting:
        return [_never_reached(limit, accepted, numbers, start, where)]
    # The bucket's burst passes in the first second; the run's last second is cut short.
    judged = limiting[1:] if len(limiting) >= 3 else limiting
    if len(judged) >= 3 and judged[-1] == max(accepted):
        judged = judged[:-1]
    mean = sum(accepted.get(s, 0) for s in judged) / len(judged)
    worst = max(judged, key=lambda s: (accepted.get(s, 0), -s))
    overshoot = mean / limit.rate_per_s - 1.0
    numbers |= {
        "accepted_per_s": round(mean, 2),
        "overshoot": round(overshoot, 4),
        "worst_second_s": worst - start,
        "worst_second_accepted": accepted.get(worst, 0),
        "limiting_seconds": len(limiting),
    }
    severity = Severity.INFO
    if overshoot >= CRITICAL_OVERSHOOT:
        severity = Severity.CRITICAL
    elif overshoot >= WARNING_OVERSHOOT or mean < UNDERSHOOT * limit.rate_per_s:
        severity = Severity.WARNING
    verdict = (
        "holds"
        if severity is Severity.INFO
        else ("overshoots" if overshoot > 0 else "rejects below the limit")
    )
    sentence = (
        f"Rate limit {limit.rate_per_s:g}/s on {where} {verdict}: while limiting, "
        f"{mean:.1f} accepted per second ({overshoot:+.0%} of the limit), "
        f"the worst second {accepted.get(worst, 0)} at {worst - start} s; "
        f"{numbers['rejected_429']:,} rejected with 429."
    )
    return [
        Finding(
            kind="rate_limit",
            severity=severity,
            sentence=sentence,
            numbers=numbers,
            from_s=limiting[0] - start,
            to_s=limiting[-1] - start,
            endpoint=limit.endpoint,
            chart=Chart.STATUS,
        )
    ]


def _never_reached(
    limit: ExpectedRateLimit,
    accepted: Mapping[int, int],
    numbers: dict[str, float | int | str],
    start: int,
    where: str,
) -> Finding:
    """No 429 at all: fine below the limit, a warning when more than the limit passed."""
    peak = max(accepted.values())
    over = [
        s for s, count in accepted.items() if count > limit.rate_per_s * (1 + WARNING_OVERSHOOT)
    ]
    if len(over) >= 2:
        sentence = (
            f"Rate limit {limit.rate_per_s:g}/s on {where} was not enforced: no 429, yet "
            f"{len(over)} seconds accepted more (up to {peak} in a second)."
        )
        severity = Severity.CRITICAL
    else:
        sentence = (
            f"Rate limit {limit.rate_per_s:g}/s on {where} was never reached: no 429, "
            f"at most {peak} requests in a second."
        )
        severity = Severity.INFO
    return Finding(
        kind="rate_limit",
        severity=severity,
        sentence=sentence,
        numbers=numbers,
        from_s=min(accepted) - start,
        to_s=max(accepted) - start,
        endpoint=limit.endpoint,
        chart=Chart.THROUGHPUT,
    )
