"""Error classes over time: rate limiting, auth, gateway/upstream, server and client-side errors.

Each class present in a run gives one finding: how many, their share of the
requests, the first second they appeared, and their bursts (consecutive
seconds where the class was a large part of the traffic). 429s and 401/403s
the script accepted (`catch_response` marking them a success) are expected:
throttling and intended auth rejections, shown as info, never as failures.
Every 5xx counts as a failure even when accepted, as status_classes.py says.
Client-side errors (status 0: no response) are split by their stored error
messages into refused, reset and timed out. The rate-limiting line also
says how many 429s carried no Retry-After or RateLimit-* header (the
collector's Part.UNHINTED_429), when there are any and the 429s make one
line; the rate_limit finding judges that share when a limit is expected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from loadgate.analysis.finding import Chart, Finding, Severity
from loadgate.model import Part
from loadgate.stats.parts import NO_PARTS, RunParts
from loadgate.stats.series import RunSeries, SecondPoint

# A burst: seconds where a class is at least this share of the second's
# requests and at least BURST_MIN_COUNT of them (so 1 of 2 is not a burst).
BURST_SHARE = 0.10
BURST_MIN_COUNT = 5
# Seconds apart that still belong to the same burst.
BURST_GAP_S = 1
# Shares of all requests from which a failing class is a warning, and critical.
WARNING_SHARE = 0.005
CRITICAL_SHARE = 0.05

_CLIENT_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("refused", ("refused", "connecterror", "connection error", "failed to establish")),
    ("reset", ("reset", "remotedisconnected", "connection aborted", "broken pipe", "eof")),
    ("timeout", ("timed out", "timeout")),
)


@dataclass(frozen=True, kw_only=True)
class ErrorClass:
    """Which statuses a class holds and how its finding speaks of them."""

    kind: str
    statuses: frozenset[str] | None  # None: every 5xx not named by another class
    what: str
    accepted_is_expected: bool  # responses the script accepted are not failures


CLASSES: tuple[ErrorClass, ...] = (
    ErrorClass(
        kind="rate_limit",
        statuses=frozenset({"429"}),
        what="429 rate limiting",
        accepted_is_expected=True,
    ),
    ErrorClass(
        kind="auth",
        statuses=frozenset({"401", "403"}),
        what="401/403 auth rejections",
        accepted_is_expected=True,
    ),
    ErrorClass(
        kind="gateway",
        statuses=frozenset({"502", "503", "504"}),
        what="502/503/504 from the gateway or its upstreams",
        accepted_is_expected=False,
    ),
    ErrorClass(
        kind="server",
        statuses=None,
        what="server errors (500 and other 5xx)",
        accepted_is_expected=False,
    ),
    ErrorClass(
        kind="client",
        statuses=frozenset({"0"}),
        what="client-side errors (no response: refused, reset or timed out)",
        accepted_is_expected=False,
    ),
)
_NAMED_5XX = frozenset({"502", "503", "504"})


def _member(error_class: ErrorClass) -> Callable[[str], bool]:
    if error_class.statuses is not None:
        return error_class.statuses.__contains__
    return lambda status: len(status) == 3 and status[0] == "5" and status not in _NAMED_5XX


@dataclass
class _Tally:
    """One class's counts as the seconds are walked."""

    expected: int = 0  # accepted by the script, and the class allows it
    failed: int = 0
    per_second: dict[int, int] | None = None
    per_endpoint: dict[str, int] | None = None


def _count(point: SecondPoint, member: Callable[[str], bool], accepted_ok: bool) -> tuple[int, int]:
    """(expected, failed) responses of the class in one endpoint-second."""
    ok = sum(c for s, c in point.ok.items() if member(s))
    failed = sum(c for s, c in point.failed.items() if member(s))
    return (ok, failed) if accepted_ok else (0, ok + failed)


def _bursts(
    per_second: Mapping[int, int], requests: Mapping[int, int]
) -> list[tuple[int, int, int, float]]:
    """(first second, last second, count, peak share) of each burst, in time order."""
    hot = [
        s
        for s, count in sorted(per_second.items())
        if count >= BURST_MIN_COUNT and count >= BURST_SHARE * requests.get(s, 0)
    ]
    bursts: list[tuple[int, int, int, float]] = []
    for second in hot:
        share = per_second[second] / max(requests.get(second, 0), 1)
        if bursts and second - bursts[-1][1] <= BURST_GAP_S + 1:
            first, _last, count, peak = bursts[-1]
            bursts[-1] = (first, second, count + per_second[second], max(peak, share))
        else:
            bursts.append((second, second, per_second[second], share))
    return bursts


def client_error_kinds(messages: Mapping[str, int]) -> dict[str, int]:
    """Error messages counted as refused, reset or timeout (others are not counted)."""
    kinds = {name: 0 for name, _ in _CLIENT_KINDS}
    for message, count in messages.items():
        lowered = message.lower()
        for name, needles in _CLIENT_KINDS:
            if any(needle in lowered for needle in needles):
                kinds[name] += count
                break
    return kinds


def _share(count: int, requests: int) -> float:
    return count / requests if requests else 0.0


def _percent(share: float) -> str:
    return f"{share:.2%}" if share < 0.01 else f"{share:.1%}"


def error_class_findings(series: RunSeries, parts: RunParts = NO_PARTS) -> list[Finding]:
    """One finding per error class present in the run (`parts`: for the 429s' retry hints)."""
    requests_per_second: dict[int, int] = {}
    for endpoint in series.endpoints:
        for second, point in endpoint.points.items():
            requests_per_second[second] = requests_per_second.get(second, 0) + point.requests
    total_requests = sum(requests_per_second.values())
    findings: list[Finding] = []
    for error_class in CLASSES:
        findings.extend(_class_findings(series, error_class, requests_per_second, total_requests))
    return _with_retry_hints(findings, sum(e.requests(Part.UNHINTED_429) for e in parts.endpoints))


def _class_findings(
    series: RunSeries,
    error_class: ErrorClass,
    requests_per_second: Mapping[int, int],
    total_requests: int,
) -> list[Finding]:
    member = _member(error_class)
    expected = _Tally(per_second={}, per_endpoint={})
    failed = _Tally(per_second={}, per_endpoint={})
    client_messages: dict[str, int] = {}
    for endpoint in series.endpoints:
        for second, point in endpoint.points.items():
            ok, bad = _count(point, member, error_class.accepted_is_expected)
            for tally, count in ((expected, ok), (failed, bad)):
                if count:
                    assert tally.per_second is not None and tally.per_endpoint is not None
                    tally.per_second[second] = tally.per_second.get(second, 0) + count
                    tally.per_endpoint[endpoint.label] = (
                        tally.per_endpoint.get(endpoint.label, 0) + count
                    )
            if error_class.kind == "client" and bad:
                for message, count in point.errors.items():
                    client_messages[message] = client_messages.get(message, 0) + count
    findings: list[Finding] = []
    if expected.per_second:
        findings.append(
            _finding(
                series,
                error_class,
                expected,
                requests_per_second=requests_per_second,
                total_requests=total_requests,
                accepted=True,
            )
        )
    if failed.per_second:
        finding = _finding(
            series,
            error_class,
            failed,
            requests_per_second=requests_per_second,
            total_requests=total_requests,
            accepted=False,
        )
        if error_class.kind == "client":
            finding = _with_client_kinds(finding, client_error_kinds(client_messages))
        findings.append(finding)
    return findings


def _finding(
    series: RunSeries,
    error_class: ErrorClass,
    tally: _Tally,
    *,
    requests_per_second: Mapping[int, int],
    total_requests: int,
    accepted: bool,
) -> Finding:
    assert tally.per_second is not None and tally.per_endpoint is not None
    count = sum(tally.per_second.values())
    share = _share(count, total_requests)
    first, last = min(tally.per_second), max(tally.per_second)
    start = series.start_second
    bursts = _bursts(tally.per_second, requests_per_second)
    numbers: dict[str, float | int | str] = {
        "count": count,
        "share": round(share, 6),
        "first_s": first - start,
        "last_s": last - start,
        "bursts": len(bursts),
    }
    worst_endpoint = max(tally.per_endpoint.items(), key=lambda item: (item[1], item[0]))
    numbers["most_on"] = worst_endpoint[0]
    numbers["most_on_count"] = worst_endpoint[1]
    text = (
        f"{error_class.what}: {count:,} responses ({_percent(share)} of requests), "
        f"first at {first - start} s"
    )
    if bursts:
        largest = max(bursts, key=lambda b: b[2])
        numbers["burst_from_s"] = largest[0] - start
        numbers["burst_to_s"] = largest[1] - start
        numbers["burst_count"] = largest[2]
        numbers["burst_peak_share"] = round(largest[3], 4)
        text += (
            f", in {len(bursts)} burst{'s' if len(bursts) > 1 else ''} "
            f"(the largest {largest[0] - start}–{largest[1] - start} s, "
            f"up to {_percent(largest[3])} of requests in a second)"
        )
    else:
        text += ", spread out (no burst)"
    if accepted:
        kind = "throttling" if error_class.kind == "rate_limit" else f"{error_class.kind}_expected"
        text += "; the script accepted them: expected, not failures."
        severity = Severity.INFO
    else:
        kind = error_class.kind
        text += "."
        severity = _severity(share, bool(bursts))
    endpoint = worst_endpoint[0] if len(tally.per_endpoint) == 1 else None
    return Finding(
        kind=f"errors.{kind}",
        severity=severity,
        sentence=text[0].upper() + text[1:],
        numbers=numbers,
        from_s=first - start,
        to_s=last - start,
        endpoint=endpoint,
        chart=Chart.STATUS,
    )


def _severity(share: float, burst: bool) -> Severity:
    if share >= CRITICAL_SHARE:
        return Severity.CRITICAL
    if share >= WARNING_SHARE or burst:
        return Severity.WARNING
    return Severity.INFO


def _with_client_kinds(finding: Finding, kinds: Mapping[str, int]) -> Finding:
    named = {k: v for k, v in kinds.items() if v}
    if not named:
        return finding
    detail = ", ".join(f"{count:,} {name}" for name, count in named.items())
    sentence = finding.sentence.removesuffix(".") + f" ({detail})."
    numbers = dict(finding.numbers) | {f"client_{k}": v for k, v in kinds.items()}
    return replace(finding, sentence=sentence, numbers=numbers)


def _with_retry_hints(findings: list[Finding], unhinted: int) -> list[Finding]:
    """The rate-limiting line, saying how many of its 429s had no retry hint.

    Left as it is when the 429s are split into accepted and failed lines: the
    collector's count does not tell which of them lacked the hint.
    """
    limiting = [f for f in findings if f.kind in ("errors.rate_limit", "errors.throttling")]
    if not unhinted or len(limiting) != 1:
        return findings
    (line,) = limiting
    detail = f" ({unhinted:,} without a Retry-After or RateLimit-* header)"
    sentence = line.sentence.replace(" responses (", f" responses{detail} (", 1)
    numbers = dict(line.numbers) | {"unhinted_429": unhinted}
    return [replace(f, sentence=sentence, numbers=numbers) if f is line else f for f in findings]
