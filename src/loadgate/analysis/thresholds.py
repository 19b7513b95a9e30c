"""Threshold expressions (`GET /v1/products: p99 < 500ms abort@10s`): their types and parser.

Grammar, one expression per threshold:

    [ENDPOINT ": "] METRIC OP NUMBER[UNIT] [abort | abort@WINDOW]
    [ENDPOINT ": "] no finding [KIND] >= SEVERITY

The second form passes when the run has no finding (of KIND, such as
`errors` or `errors.gateway`, and about ENDPOINT, if given) at SEVERITY
(info, warning, critical) or above; it is judged at the end of the run only.

ENDPOINT is split off at the *last* colon followed by a space, so endpoint
names that contain colons (`/v1/products/:id`) need no quoting. Bounds are
kept in one canonical unit per metric kind: milliseconds for latencies,
seconds for durations and a fraction (0–1) for rates and shares.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Final

from loadgate.errors import ConfigError

DEFAULT_WINDOW_S: Final = 10
LATENCY_UNITS_MS: Final = {"ms": 1.0, "s": 1000.0, "us": 0.001, "µs": 0.001}
DURATION_UNITS_S: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "us": 1e-6, "µs": 1e-6}
PERCENT: Final = "%"

_ENDPOINT_SPLIT = re.compile(r":\s+")
_METRIC = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.]*)")
_OP = re.compile(r"\s*(<=|>=|==|!=|<|>|=>|=<|=)")
_VALUE = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|us|µs|%)?(?=\s|$)")
_WINDOW = re.compile(r"(\d+)(s|m)")
_PERCENTILE = re.compile(r"p(\d+(?:\.\d+)?)")
_START_LAG = "start_lag_"
_STATUS = re.compile(r"status_(\d{1,3}|[1-5]xx)")
_METHOD = re.compile(r"([A-Za-z]+)\s+(\S.*)")
_NO_FINDING = re.compile(
    r"no\s+findings?(?:\s+(?P<kind>[a-z_]+(?:\.[a-z_]+)?))?\s*(?P<op>\S+)\s*(?P<severity>\S+)",
    re.IGNORECASE,
)
FINDING_EXPECTED: Final = (
    "'no finding >= SEVERITY' or 'no finding KIND >= SEVERITY', "
    "SEVERITY one of info, warning, critical"
)
SEVERITY_RANKS: Final = {"info": 0, "warning": 1, "critical": 2}

METRICS_EXPECTED: Final = (
    "a metric: p50 p90 p95 p99 p99.9 (any pNN[.N]), max min mean, rps requests failures "
    "error_rate, status_NNN status_Nxx status_0, expected unexpected, bytes_received "
    "out_of_range, users_max duration_s, dropped_iterations iterations start_lag_p99 "
    "(any start_lag_pNN, start_lag_max), or a JSON summary name such as p95_ms"
)
VALUE_EXPECTED: Final = "a number with an optional unit (ms, s, us, %)"
OPS_EXPECTED: Final = "one of < <= > >= == !="


class MetricKind(Enum):
    """How a metric is measured, which units its bound takes, and how it is shown."""

    LATENCY = "latency"  # ms; bound in ms, s or us
    RATE = "rate"  # requests per second; a plain number
    COUNT = "count"  # a plain count
    COUNT_OR_SHARE = "count or share"  # a count, or its share of requests with a %
    RATIO = "ratio"  # a fraction; bound as a fraction or a %
    RUN_COUNT = "run count"  # of the whole run, never per endpoint
    RUN_DURATION = "run duration"  # seconds, of the whole run
    FINDING = "finding"  # no finding at or above a severity; bound is the severity's rank
    # The open model's scheduler (--arrival-rate), of the whole run, never per endpoint:
    ARRIVAL_COUNT = "arrival count"  # dropped_iterations, iterations
    ARRIVAL_LATENCY = "arrival latency"  # start_lag_p99 ...; ms, like a latency


class Op(Enum):
    """A comparison; the threshold passes when `measured OP bound` holds."""

    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="
    NE = "!="

    def holds(self, measured: float, bound: float) -> bool:
        # Rounding absorbs float noise such as 0.1 * 3 != 0.3 in unit conversions.
        a, b = round(measured, 9), round(bound, 9)
        if self is Op.LT:
            return a < b
        if self is Op.LE:
            return a <= b
        if self is Op.GT:
            return a > b
        if self is Op.GE:
            return a >= b
        if self is Op.EQ:
            return a == b
        return a != b

    @property
    def is_upper_bound(self) -> bool:
        return self in (Op.LT, Op.LE)


@dataclass(frozen=True, kw_only=True)
class Metric:
    """What a threshold measures.

    `quantile` (0–1) is set for percentiles; `statuses` for status metrics:
    a code ("429", "0"), a class ("5xx"), or "expected"/"unexpected"/"failures".
    `finding_kind` narrows a FINDING metric to one kind ('errors', 'saturation').
    """

    name: str
    kind: MetricKind
    quantile: float | None = None
    statuses: str | None = None
    finding_kind: str | None = None


@dataclass(frozen=True, kw_only=True)
class Threshold:
    """One parsed threshold; `bound` is in the metric kind's canonical unit.

    `share` is True when a count metric's bound was given in %: the count is
    then compared as a fraction of the requests.
    """

    text: str
    expression: str
    endpoint: str | None
    metric: Metric
    op: Op
    bound: float
    share: bool = False
    abort: bool = False
    window_s: int = DEFAULT_WINDOW_S

    @property
    def can_abort(self) -> bool:
        """Whether a window of the run can tell that the whole run will fail this.

        Run-level metrics cannot be judged on a window. A count (requests,
        status_5xx...) only can with an upper bound: counts only grow, so a
        window already over the bound dooms the run, but a window under a
        lower bound says nothing about the whole run.
        """
        if self.metric.kind in (*_WHOLE_RUN, MetricKind.FINDING):
            return False
        if self.metric.kind is MetricKind.COUNT or (
            self.metric.kind is MetricKind.COUNT_OR_SHARE and not self.share
        ):
            return self.op.is_upper_bound or (self.op is Op.EQ and self.bound == 0)
        return True


def _fail(text: str, problem: str) -> ConfigError:
    return ConfigError(f"bad threshold {text!r}: {problem}")


def _percentile(digits: str) -> float | None:
    """p95 -> 0.95, p99.9 -> 0.999, p999 -> 0.999, p9999 -> 0.9999, p100 -> 1.0."""
    if "." not in digits and len(digits) > 2 and digits != "100":
        if not digits.startswith("99"):
            return None
        # p999 is the usual spelling of p99.9 (k6, Gatling): the digits after 99 are decimals.
        digits = f"{digits[:2]}.{digits[2:]}"
    percent = float(digits)
    if not 0.0 <= percent <= 100.0:
        return None
    return round(percent / 100.0, 12)


def _percentile_name(quantile: float) -> str:
    return f"p{quantile * 100:.10g}"


_NAMED: Final = {
    "max": MetricKind.LATENCY,
    "min": MetricKind.LATENCY,
    "mean": MetricKind.LATENCY,
    "rps": MetricKind.RATE,
    "requests": MetricKind.COUNT,
    "bytes_received": MetricKind.COUNT,
    "out_of_range": MetricKind.COUNT,
    "failures": MetricKind.COUNT_OR_SHARE,
    "expected": MetricKind.COUNT_OR_SHARE,
    "unexpected": MetricKind.COUNT_OR_SHARE,
    "error_rate": MetricKind.RATIO,
    "users_max": MetricKind.RUN_COUNT,
    "duration_s": MetricKind.RUN_DURATION,
    "dropped_iterations": MetricKind.ARRIVAL_COUNT,
    "iterations": MetricKind.ARRIVAL_COUNT,
}
_WHOLE_RUN: Final = (
    MetricKind.RUN_COUNT,
    MetricKind.RUN_DURATION,
    MetricKind.ARRIVAL_COUNT,
    MetricKind.ARRIVAL_LATENCY,
)
_ALIASES: Final = {
    "median": "p50",
    "avg": "mean",
    "average": "mean",
    "mean_ms": "mean",
    "max_ms": "max",
    "min_ms": "min",
    "expected_status_counts": "expected",
    "unexpected_status_counts": "unexpected",
}


def parse_metric(name: str) -> Metric | None:
    """The metric called `name` (case-insensitive), or None when there is none."""
    key = name.lower()
    key = _ALIASES.get(key, key)
    if key.startswith("p") and key.endswith("_ms"):
        key = key.removesuffix("_ms")  # the JSON summary's p95_ms, p999_ms
    if key.startswith(_START_LAG):
        lag = parse_metric(key.removeprefix(_START_LAG))
        if lag is None or lag.kind is not MetricKind.LATENCY:
            return None
        return Metric(name=_START_LAG + lag.name, kind=MetricKind.ARRIVAL_LATENCY,
                      quantile=lag.quantile)  # fmt: skip
    if (match := _PERCENTILE.fullmatch(key)) is not None:
        quantile = _percentile(match.group(1))
        if quantile is None:
            return None
        return Metric(name=_percentile_name(quantile), kind=MetricKind.LATENCY, quantile=quantile)
    if (match := _STATUS.fullmatch(key)) is not None:
        return Metric(name=key, kind=MetricKind.COUNT_OR_SHARE, statuses=match.group(1))
    kind = _NAMED.get(key)
    if kind is None:
        return None
    statuses = key if kind is MetricKind.COUNT_OR_SHARE else None
    return Metric(name=key, kind=kind, statuses=statuses)


def _bound(text: str, metric: Metric, number: float, unit: str | None) -> tuple[float, bool]:
    """The bound in the metric's canonical unit, and whether it is a share of requests."""
    kind = metric.kind
    if kind in (MetricKind.LATENCY, MetricKind.ARRIVAL_LATENCY):
        if unit == PERCENT:
            raise _fail(text, f"{metric.name} is a latency: expected a time unit (ms, s, us)")
        return number * LATENCY_UNITS_MS[unit or "ms"], False
    if kind is MetricKind.RUN_DURATION:
        if unit == PERCENT:
            raise _fail(text, f"{metric.name} is a duration: expected a time unit (s, ms)")
        return number * DURATION_UNITS_S[unit or "s"], False
    if kind is MetricKind.RATIO:
        if unit == PERCENT:
            return number / 100.0, False
        if unit is None and number <= 1.0:
            return number, False
        raise _fail(
            text,
            f"{metric.name} is a share of requests: expected a percentage such as 1% "
            "or a fraction between 0 and 1",
        )
    if kind is MetricKind.COUNT_OR_SHARE and unit == PERCENT:
        return number / 100.0, True
    if unit is not None:
        what = "requests per second" if kind is MetricKind.RATE else "a count"
        share = ", or a % of requests" if kind is MetricKind.COUNT_OR_SHARE else ""
        raise _fail(text, f"{metric.name} is {what}: expected a plain number{share}, not {unit!r}")
    return number, False


def parse_window_s(text: str) -> int | None:
    """A window such as '10s' or '1m' in whole seconds (at least 1), or None."""
    match = _WINDOW.fullmatch(text.strip())
    if match is None:
        return None
    seconds = int(match.group(1)) * (60 if match.group(2) == "m" else 1)
    return seconds if seconds >= 1 else None


def _flags(text: str, rest: str) -> tuple[bool, int]:
    """The trailing `abort` or `abort@WINDOW` flag, if any."""
    abort, window_s = False, DEFAULT_WINDOW_S
    for flag in rest.split():
        name, _, window = flag.partition("@")
        if name.lower() != "abort" or abort:
            raise _fail(
                text,
                f"unexpected {flag!r} after the bound: expected nothing, "
                "'abort' or 'abort@WINDOW' such as 'abort@10s'",
            )
        abort = True
        if window:
            parsed = parse_window_s(window)
            if parsed is None:
                raise _fail(
                    text,
                    f"bad abort window {window!r}: expected whole seconds or "
                    "minutes such as 10s or 1m",
                )
            window_s = parsed
    return abort, window_s


def _split_endpoint(text: str) -> tuple[str | None, str]:
    matches = list(_ENDPOINT_SPLIT.finditer(text))
    if not matches:
        return None, text
    last = matches[-1]
    endpoint = text[: last.start()].strip()
    if not endpoint:
        raise _fail(text, "expected an endpoint name before ':'")
    return endpoint, text[last.end() :]


def _locate(text: str, endpoint: str | None) -> tuple[str, str | None, str]:
    """(the full text as shown, the endpoint, the expression after it), whitespace tidied."""
    stripped = " ".join(text.split())
    if not stripped:
        raise _fail(text, "expected METRIC OP VALUE, such as 'p95 < 300ms'")
    named, expression = _split_endpoint(stripped)
    if endpoint is not None and named is not None:
        raise _fail(text, f"names its own endpoint, but it is a check of {endpoint!r}")
    if endpoint is None:
        return stripped, named, expression
    if not endpoint.strip():
        raise _fail(text, "expected an endpoint name")
    return f"{endpoint.strip()}: {stripped}", endpoint.strip(), expression


def parse_threshold(text: str, *, endpoint: str | None = None) -> Threshold:
    """Parse one threshold expression; ConfigError naming it and what was expected.

    `endpoint` applies the expression to an endpoint (the plan file's
    per-endpoint lists); the expression itself must then name none.
    """
    full, endpoint, expression = _locate(text, endpoint)
    if expression.lower().startswith("no finding"):
        return _parse_no_finding(full, endpoint, expression)
    metric_match = _METRIC.match(expression)
    if metric_match is None:
        raise _fail(full, f"expected {METRICS_EXPECTED} at the start")
    metric = parse_metric(metric_match.group(1))
    if metric is None:
        raise _fail(full, f"unknown metric {metric_match.group(1)!r}: expected {METRICS_EXPECTED}")
    if endpoint is not None and metric.kind in _WHOLE_RUN:
        raise _fail(full, f"{metric.name} is a metric of the whole run: expected no endpoint")
    rest = expression[metric_match.end() :]

    op_match = _OP.match(rest)
    if op_match is None or op_match.group(1) in ("=", "=<", "=>"):
        raise _fail(full, f"expected {OPS_EXPECTED} after {metric_match.group(1)!r}")
    op = Op(op_match.group(1))
    rest = rest[op_match.end() :]

    value_match = _VALUE.match(rest)
    if value_match is None:
        raise _fail(full, f"expected {VALUE_EXPECTED} after {op.value!r}")
    bound, share = _bound(full, metric, float(value_match.group(1)), value_match.group(2))
    abort, window_s = _flags(full, rest[value_match.end() :])
    threshold = Threshold(
        text=full,
        expression=expression,
        endpoint=endpoint,
        metric=metric,
        op=op,
        bound=bound,
        share=share,
        abort=abort,
        window_s=window_s,
    )
    if abort and not threshold.can_abort:
        raise _fail(
            full,
            f"{metric.name} {op.value} cannot abort a run: it is only known at the end of the "
            "run (a count aborts only with an upper bound: <, <= or == 0; users_max, "
            "duration_s and the open model's metrics never do)",
        )
    return threshold


def _parse_no_finding(full: str, endpoint: str | None, expression: str) -> Threshold:
    """`no finding [KIND] >= SEVERITY`: a Threshold whose metric is the findings."""
    match = _NO_FINDING.fullmatch(expression.strip())
    if match is None:
        raise _fail(full, f"expected {FINDING_EXPECTED}")
    if match.group("op") != ">=":
        raise _fail(full, f"expected '>=' before the severity, not {match.group('op')!r}")
    rank = SEVERITY_RANKS.get(match.group("severity").lower())
    if rank is None:
        raise _fail(
            full, f"unknown severity {match.group('severity')!r}: expected info, warning, critical"
        )
    kind = match.group("kind")
    return Threshold(
        text=full,
        expression=expression,
        endpoint=endpoint,
        metric=Metric(
            name="finding", kind=MetricKind.FINDING, finding_kind=kind.lower() if kind else None
        ),
        op=Op.GE,
        bound=float(rank),
    )


def parse_thresholds(texts: Iterable[str]) -> tuple[Threshold, ...]:
    """Parse every expression; one ConfigError listing every bad one."""
    parsed: list[Threshold] = []
    problems: list[str] = []
    for text in texts:
        try:
            parsed.append(parse_threshold(text))
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("\n".join(problems))
    return tuple(parsed)


def mark_abortable(
    thresholds: Iterable[Threshold], window_s: int = DEFAULT_WINDOW_S
) -> tuple[Threshold, ...]:
    """`--abort-on-fail`: every threshold that can abort does, keeping explicit windows."""
    return tuple(
        t if t.abort or not t.can_abort else replace(t, abort=True, window_s=window_s)
        for t in thresholds
    )
