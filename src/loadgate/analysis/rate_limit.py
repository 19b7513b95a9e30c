"""Rate-limit accuracy: the rate a gateway accepted per second against the limit it should hold.

`--expect-rate-limit "20/s"` (or `"GET /v1/search: 20/s"` for one endpoint,
or the plan's `[findings] expect_rate_limit`) states the limit. Accepted
responses are those with a status other than 429 and 0 (no response). While
the limit is active (seconds with 429s), the accepted rate should be the
limit: the finding gives the mean accepted rate then, its overshoot over
the limit, and the worst second. The first second of limiting is left out
of both: a token bucket's burst is allowed to pass there.

`"50/s per X-API-Key"`: the limit holds per value of that request header.
The collector counts, per endpoint and second, the distinct values the
accepted requests carried (engine.collector, Part.KEYS), but only in runs
started with the per-key limit in their plan; the limit of a second is then
the rate times the keys active in it. The keys of a second are the most
any one chosen endpoint saw (a key that called two endpoints counts once,
two keys that called one each count once: a lower bound), spread evenly
over the report bucket they were read in.

Rejections are also checked: a 429 should say when to retry (`Retry-After`
or a `RateLimit-*` header; the collector counts those that do not,
Part.UNHINTED_429), and a gateway that limits should answer 429, not 5xx,
in the seconds it limits. Either, over a few percent, makes a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loadgate.analysis.finding import Chart, Finding, Severity
from loadgate.analysis.thresholds_eval import endpoint_matches
from loadgate.errors import ConfigError
from loadgate.model import Part
from loadgate.rate import per_second
from loadgate.stats.parts import NO_PARTS, RunParts
from loadgate.stats.series import EndpointSeries, RunSeries

SETTING = "expect_rate_limit"
REJECTED = frozenset({"429", "0"})
# Mean accepted rate over the limit while limiting: from these, a warning and critical.
WARNING_OVERSHOOT = 0.15
CRITICAL_OVERSHOOT = 0.5
# Rejecting while accepting less than this share of the limit: the limit bites too early.
UNDERSHOOT = 0.7
# Shares of the 429s without a retry hint, and of 5xx among rejections, that make a warning.
WARNING_UNHINTED = 0.05
WARNING_SERVER_ERRORS = 0.05
# An HTTP field name (RFC 9110's token).
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
EXPECTED = (
    "a rate such as '50/s' or '600/min', optionally after an endpoint ('GET /v1/search: 20/s') "
    "and before 'per HEADER' for a limit per key ('50/s per X-API-Key')"
)


@dataclass(frozen=True, kw_only=True)
class ExpectedRateLimit:
    """The limit the target should hold: requests per second, on one endpoint or on all,
    for all requests or per value of `key_header`."""

    text: str
    rate_per_s: float
    endpoint: str | None = None
    key_header: str | None = None


def parse_rate_limit(text: str) -> ExpectedRateLimit:
    """'50/s', '600/min', 'GET /v1/search: 20/s', '50/s per X-API-Key'; ConfigError otherwise."""
    stripped = " ".join(text.split())
    endpoint, _, rate_text = stripped.rpartition(": ")
    rate_text, per, key_header = rate_text.strip().partition(" per ")
    if per and not _HEADER_NAME.fullmatch(key_header):
        raise ConfigError(
            f"bad rate limit {text!r}: expected a request header's name after 'per', "
            "such as '50/s per X-API-Key'"
        )
    rate_per_s = per_second(rate_text)
    if rate_per_s is None or rate_per_s <= 0:
        raise ConfigError(f"bad rate limit {text!r}: expected {EXPECTED}")
    return ExpectedRateLimit(
        text=stripped,
        rate_per_s=rate_per_s,
        endpoint=endpoint.strip() or None,
        key_header=key_header or None,
    )


def expected_limit(settings: Mapping[str, Any] | None) -> ExpectedRateLimit | None:
    """The limit stored with the run (or given to show/report), if any."""
    text = (settings or {}).get(SETTING)
    return parse_rate_limit(str(text)) if text else None


@dataclass(frozen=True, kw_only=True)
class _Seconds:
    """The chosen endpoints' answers per second: accepted, 429 and 5xx."""

    accepted: Mapping[int, int]
    rejected: Mapping[int, int]
    server_errors: Mapping[int, int]


def _count_seconds(chosen: Sequence[EndpointSeries]) -> _Seconds:
    accepted: dict[int, int] = {}
    rejected: dict[int, int] = {}
    server_errors: dict[int, int] = {}
    for endpoint in chosen:
        for second, point in endpoint.points.items():
            statuses = [*point.ok.items(), *point.failed.items()]
            ok = sum(c for s, c in statuses if s not in REJECTED)
            accepted[second] = accepted.get(second, 0) + ok
            rejected[second] = rejected.get(second, 0) + sum(c for s, c in statuses if s == "429")
            five = sum(c for s, c in statuses if s.startswith("5"))
            server_errors[second] = server_errors.get(second, 0) + five
    return _Seconds(accepted=accepted, rejected=rejected, server_errors=server_errors)


def _keys_per_second(
    parts: RunParts, limit: ExpectedRateLimit, start_second: int
) -> dict[int, float]:
    """Distinct keys active per second (see the module's docstring); empty when not recorded."""
    keys: dict[int, float] = {}
    width = parts.bucket_s
    for endpoint in parts.endpoints:
        counted = endpoint.buckets.get(Part.KEYS)
        if counted is None or not _chosen(limit, endpoint.method, endpoint.name):
            continue
        for offset_s, count in zip(parts.offsets_s, counted.requests, strict=False):
            for second in range(start_second + offset_s, start_second + offset_s + width):
                keys[second] = max(keys.get(second, 0.0), count / width)
    return keys


def _chosen(limit: ExpectedRateLimit, method: str, name: str) -> bool:
    return limit.endpoint is None or endpoint_matches(limit.endpoint, method, name)


def rate_limit_findings(
    series: RunSeries, limit: ExpectedRateLimit | None, parts: RunParts = NO_PARTS
) -> list[Finding]:
    """One finding when a limit is expected: how accurately it held, or that it never bit."""
    if limit is None:
        return []
    counted = _count_seconds([e for e in series.endpoints if _chosen(limit, e.method, e.name)])
    accepted = counted.accepted
    if not accepted:
        return []
    start = series.start_second
    keys: dict[int, float] = {}
    if limit.key_header is not None:
        keys = _keys_per_second(parts, limit, start)
        if not keys:
            return [_keys_unknown(limit, accepted, start)]
    limiting = sorted(s for s, count in counted.rejected.items() if count)
    numbers: dict[str, float | int | str] = {
        "limit_per_s": limit.rate_per_s,
        "rejected_429": sum(counted.rejected.values()),
        "max_accepted_per_s": max(accepted.values()),
    }
    if limit.key_header is not None:
        numbers["key_header"] = limit.key_header
    if not limiting:
        return [_never_reached(limit, counted, keys, numbers, start)]
    # The bucket's burst passes in the first second; the run's last second is cut short.
    judged = limiting[1:] if len(limiting) >= 3 else limiting
    if len(judged) >= 3 and judged[-1] == max(accepted):
        judged = judged[:-1]
    if limit.key_header is not None:
        # A second whose accepted requests carried no key has no known limit.
        judged = [s for s in judged if keys.get(s)]
        if not judged:
            return [_keys_unknown(limit, accepted, start)]
    mean = sum(accepted.get(s, 0) for s in judged) / len(judged)
    held = _effective_limit(limit, keys, judged)
    worst = max(judged, key=lambda s: (accepted.get(s, 0), -s))
    overshoot = mean / held - 1.0 if held else 0.0
    numbers |= {
        "accepted_per_s": round(mean, 2),
        "overshoot": round(overshoot, 4),
        "worst_second_s": worst - start,
        "worst_second_accepted": accepted.get(worst, 0),
        "limiting_seconds": len(limiting),
    }
    if limit.key_header is not None:
        numbers |= {"active_keys": round(held / limit.rate_per_s, 2), "held_per_s": held}
    severity, verdict = _accuracy(overshoot, mean, held)
    against = "the limit"
    if limit.key_header is not None:
        verdict += " per key"
        against = f"{held:.1f}/s for {held / limit.rate_per_s:.1f} active keys"
    problems = _rejection_problems(limit, parts, counted, limiting, numbers)
    if problems and severity is Severity.INFO:
        severity = Severity.WARNING
    sentence = (
        f"Rate limit {_stated(limit)} on {limit.endpoint or 'all endpoints'} {verdict}: while "
        f"limiting, {mean:.1f} accepted per second ({overshoot:+.0%} of {against}), "
        f"the worst second {accepted.get(worst, 0)} at {worst - start} s; "
        f"{numbers['rejected_429']:,} rejected with 429"
        + "".join(f"; {problem}" for problem in problems)
        + "."
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


def _accuracy(overshoot: float, mean_per_s: float, held_per_s: float) -> tuple[Severity, str]:
    """How well the limit held while limiting: its severity and verdict."""
    if overshoot >= CRITICAL_OVERSHOOT:
        return Severity.CRITICAL, "overshoots"
    if overshoot >= WARNING_OVERSHOOT:
        return Severity.WARNING, "overshoots"
    if mean_per_s < UNDERSHOOT * held_per_s:
        return Severity.WARNING, "rejects below the limit"
    return Severity.INFO, "holds"


def _stated(limit: ExpectedRateLimit) -> str:
    per = f" per {limit.key_header}" if limit.key_header else ""
    return f"{limit.rate_per_s:g}/s{per}"


def _effective_limit(
    limit: ExpectedRateLimit, keys: Mapping[int, float], seconds: Sequence[int]
) -> float:
    """The mean limit over `seconds`: the rate, times the keys active for a per-key limit."""
    if limit.key_header is None:
        return limit.rate_per_s
    return limit.rate_per_s * sum(keys.get(s, 0.0) for s in seconds) / len(seconds)


def _rejection_problems(
    limit: ExpectedRateLimit,
    parts: RunParts,
    counted: _Seconds,
    limiting: Sequence[int],
    numbers: dict[str, float | int | str],
) -> list[str]:
    """What is wrong with the rejections themselves: no retry hint, or 5xx instead of 429."""
    problems: list[str] = []
    rejected = sum(counted.rejected.values())
    unhinted = sum(
        e.requests(Part.UNHINTED_429) for e in parts.endpoints if _chosen(limit, e.method, e.name)
    )
    numbers["unhinted_429"] = unhinted
    if rejected and unhinted / rejected > WARNING_UNHINTED:
        problems.append(
            f"{unhinted:,} of them ({unhinted / rejected:.0%}) carried no Retry-After "
            "or RateLimit-* header"
        )
    server_errors = sum(counted.server_errors.get(s, 0) for s in limiting)
    numbers["server_errors_while_limiting"] = server_errors
    if server_errors / (server_errors + rejected) > WARNING_SERVER_ERRORS:
        problems.append(
            f"{server_errors:,} answers were 5xx in the seconds it limited "
            "(rejections should be 429, not 5xx)"
        )
    return problems


def _keys_unknown(limit: ExpectedRateLimit, accepted: Mapping[int, int], start: int) -> Finding:
    """A per-key limit asked of a run that did not count its keys: say so, judge nothing."""
    return Finding(
        kind="rate_limit",
        severity=Severity.INFO,
        sentence=(
            f"Rate limit {_stated(limit)} on {limit.endpoint or 'all endpoints'} is not judged: "
            f"the run counted no {limit.key_header} values (it counts them when started with "
            "this limit in its plan's [findings] expect_rate_limit)."
        ),
        numbers={"limit_per_s": limit.rate_per_s, "key_header": str(limit.key_header)},
        from_s=min(accepted) - start,
        to_s=max(accepted) - start,
        endpoint=limit.endpoint,
        chart=Chart.THROUGHPUT,
    )


def _never_reached(
    limit: ExpectedRateLimit,
    counted: _Seconds,
    keys: Mapping[int, float],
    numbers: dict[str, float | int | str],
    start: int,
) -> Finding:
    """No 429 at all: fine below the limit, critical when more than the limit passed
    (saying so when some of it was 5xx: a limiter that answers 503, as NGINX's default)."""
    accepted = counted.accepted
    peak = max(accepted.values())
    over = [
        s
        for s, count in accepted.items()
        if (limit.key_header is None or keys.get(s))
        and count > _effective_limit(limit, keys, [s]) * (1 + WARNING_OVERSHOOT)
    ]
    where = limit.endpoint or "all endpoints"
    if len(over) >= 2:
        server_errors = sum(counted.server_errors.get(s, 0) for s in over)
        numbers["server_errors_while_over"] = server_errors
        sentence = (
            f"Rate limit {_stated(limit)} on {where} was not enforced: no 429, yet "
            f"{len(over)} seconds accepted more (up to {peak} in a second)"
            + (
                f"; {server_errors:,} answers in them were 5xx (rejections should be 429, not 5xx)."
                if server_errors
                else "."
            )
        )
        severity = Severity.CRITICAL
    else:
        sentence = (
            f"Rate limit {_stated(limit)} on {where} was never reached: no 429, "
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
