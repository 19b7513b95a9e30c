"""Judging thresholds against a run's summary: measured values, verdicts, abort reasons."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from loadgate.analysis.finding import Finding
from loadgate.analysis.status_classes import status_breakdown
from loadgate.analysis.thresholds import Metric, MetricKind, Threshold, parse_thresholds
from loadgate.stats.arrivals import ArrivalTotals
from loadgate.stats.histogram import LatencyHistogram
from loadgate.stats.summary import US_PER_MS, EndpointSummary, RunSummary


class LatencyReader(Protocol):
    """What a latency threshold reads: an HDR histogram, whole or sparse."""

    @property
    def count(self) -> int: ...

    @property
    def min_us(self) -> int: ...

    @property
    def max_us(self) -> int: ...

    @property
    def mean_us(self) -> float: ...

    def quantile_us(self, quantile: float) -> int: ...


@dataclass(frozen=True, kw_only=True)
class SummaryLatency:
    """A LatencyReader over summaries: their precomputed mean, min and max, their histogram.

    hdrh computes a mean by walking every bucket in Python; the summary has
    already paid for it once, so it is reused rather than recomputed.
    """

    histogram: LatencyHistogram
    min_us: int
    max_us: int
    mean_us: float

    @property
    def count(self) -> int:
        return self.histogram.count

    def quantile_us(self, quantile: float) -> int:
        return self.histogram.quantile_us(quantile)


@dataclass(frozen=True, kw_only=True)
class Observed:
    """What was measured for one endpoint (or several, or the total) over some seconds."""

    requests: int
    failures: int
    bytes_received: int
    out_of_range: int
    duration_s: float
    ok_status_counts: Mapping[str, int]
    failed_status_counts: Mapping[str, int]
    latency: LatencyReader
    users_max: int = 0
    run_duration_s: float = 0.0
    arrivals: ArrivalTotals | None = None  # the open model's, for the whole run


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """One threshold judged: what was measured, against which bound, passed or not.

    `label`, `passed`, `measured` and `bound` are what reports show;
    `measured_value` is in the metric's canonical unit (ms, s, a fraction, a
    count), None when nothing could be measured. `window_s` is set when the
    verdict is about the last seconds of a running test, not the whole run.
    """

    threshold: Threshold
    passed: bool
    measured: str
    bound: str
    measured_value: float | None
    window_s: int | None = None

    @property
    def label(self) -> str:
        return self.threshold.text

    @property
    def text(self) -> str:
        return self.threshold.text

    @property
    def endpoint(self) -> str | None:
        return self.threshold.endpoint

    @property
    def metric(self) -> str:
        return self.threshold.metric.name

    @property
    def message(self) -> str:
        """One line: '... failed: p95 was 412 ms, bound < 300 ms'."""
        outcome = "passed" if self.passed else "failed"
        over = f" over the last {self.window_s} s" if self.window_s is not None else ""
        if self.measured_value is None:
            return f"threshold {self.text!r} {outcome}{over}: {self.measured}"
        return (
            f"threshold {self.text!r} {outcome}{over}: {self.metric} was {self.measured}, "
            f"bound {self.bound}"
        )


def format_number(value: float) -> str:
    """Up to three decimals, no trailing zeros; three significant digits for tiny values."""
    if value != 0 and abs(value) < 0.001:
        return f"{value:.3g}"
    return f"{value:.3f}".rstrip("0").rstrip(".")


def format_value(threshold: Threshold, value: float) -> str:
    """A measured value or a bound in the unit the threshold is about."""
    kind = threshold.metric.kind
    if kind in (MetricKind.LATENCY, MetricKind.ARRIVAL_LATENCY):
        return f"{format_number(value)} ms"
    if kind is MetricKind.RUN_DURATION:
        return f"{format_number(value)} s"
    if kind is MetricKind.RATE:
        return f"{format_number(value)}/s"
    if kind is MetricKind.RATIO or threshold.share:
        return f"{format_number(value * 100.0)}%"
    return format_number(value)


def format_bound(threshold: Threshold) -> str:
    return f"{threshold.op.value} {format_value(threshold, threshold.bound)}"


def status_count(metric: Metric, observed: Observed) -> int:
    """How many responses a status metric counts: a code, a class, (un)expected, failures."""
    selector = metric.statuses or ""
    if selector == "failures":
        return observed.failures
    if selector in ("expected", "unexpected"):
        breakdown = status_breakdown(observed.ok_status_counts, observed.failed_status_counts)
        return breakdown.expected_total if selector == "expected" else breakdown.unexpected_total
    total = 0
    for counts in (observed.ok_status_counts, observed.failed_status_counts):
        for status, count in counts.items():
            if status == selector or (
                selector.endswith("xx") and len(status) == 3 and status[0] == selector[0]
            ):
                total += count
    return total


def _latency_ms(metric: Metric, latency: LatencyReader) -> float | None:
    if not latency.count:
        return None
    if metric.quantile is not None:
        return latency.quantile_us(metric.quantile) / US_PER_MS
    if metric.name == "max":
        return latency.max_us / US_PER_MS
    if metric.name == "min":
        return latency.min_us / US_PER_MS
    return latency.mean_us / US_PER_MS


def measure(threshold: Threshold, observed: Observed) -> float | None:
    """The threshold's metric in its canonical unit; None for a latency with no requests."""
    metric = threshold.metric
    kind = metric.kind
    if kind is MetricKind.LATENCY:
        return _latency_ms(metric, observed.latency)
    if kind is MetricKind.RATE:
        return observed.requests / observed.duration_s if observed.duration_s > 0 else 0.0
    if kind is MetricKind.RATIO:
        return observed.failures / observed.requests if observed.requests else 0.0
    if kind is MetricKind.RUN_COUNT:
        return float(observed.users_max)
    if kind is MetricKind.RUN_DURATION:
        return observed.run_duration_s
    if kind in (MetricKind.ARRIVAL_COUNT, MetricKind.ARRIVAL_LATENCY):
        return _arrival_value(metric, observed.arrivals)
    if kind is MetricKind.COUNT_OR_SHARE:
        count = status_count(metric, observed)
        if threshold.share:
            return count / observed.requests if observed.requests else 0.0
        return float(count)
    counts = {
        "requests": observed.requests,
        "bytes_received": observed.bytes_received,
        "out_of_range": observed.out_of_range,
    }
    return float(counts[metric.name])


def _arrival_value(metric: Metric, arrivals: ArrivalTotals | None) -> float | None:
    """An open-model metric; None when the run had no scheduler (or no iteration started)."""
    if arrivals is None or not arrivals.is_open_model:
        return None
    if metric.kind is MetricKind.ARRIVAL_COUNT:
        return float(arrivals.dropped_iterations if metric.name == "dropped_iterations"
                     else arrivals.iterations)  # fmt: skip
    lag = arrivals.start_lag
    name = metric.name.removeprefix("start_lag_")
    return _latency_ms(replace(metric, name=name), lag)


def judge(threshold: Threshold, observed: Observed, window_s: int | None = None) -> Verdict:
    """The verdict of one threshold on what was observed."""
    value = measure(threshold, observed)
    if value is None and threshold.metric.kind in (
        MetricKind.ARRIVAL_COUNT,
        MetricKind.ARRIVAL_LATENCY,
    ):
        return Verdict(threshold=threshold, passed=False,
                       measured="not an open-model run (no --arrival-rate schedule stored)",
                       bound=format_bound(threshold), measured_value=None)  # fmt: skip
    if value is None:
        where = f"in the last {window_s} s" if window_s is not None else "in this run"
        return Verdict(
            threshold=threshold,
            passed=False,
            measured=f"no requests {where}",
            bound=format_bound(threshold),
            measured_value=None,
            window_s=window_s,
        )
    return Verdict(
        threshold=threshold,
        passed=threshold.op.holds(value, threshold.bound),
        measured=format_value(threshold, value),
        bound=format_bound(threshold),
        measured_value=value,
        window_s=window_s,
    )


def endpoint_matches(endpoint: str, method: str, name: str) -> bool:
    """'GET /v1/products' matches that method and name; '/v1/products' matches any method."""
    if name == endpoint:
        return True
    given_method, _, given_name = endpoint.partition(" ")
    return given_name == name and given_method.upper() == method.upper()


def _observed_endpoints(endpoints: Sequence[EndpointSummary], summary: RunSummary) -> Observed:
    """Several endpoints (one name under several methods) or one, as one observation."""
    ok: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for endpoint in endpoints:
        ok.update(endpoint.ok_status_counts)
        failed.update(endpoint.failed_status_counts)
    count = sum(e.histogram.count for e in endpoints)
    histogram = (
        endpoints[0].histogram
        if len(endpoints) == 1
        else LatencyHistogram.merged(e.histogram for e in endpoints)
    )
    mean_us = (
        sum(e.mean_ms * US_PER_MS * e.histogram.count for e in endpoints) / count if count else 0.0
    )
    recorded = [e for e in endpoints if e.histogram.count]
    return Observed(
        requests=sum(e.requests for e in endpoints),
        failures=sum(e.failures for e in endpoints),
        bytes_received=sum(e.bytes_received for e in endpoints),
        out_of_range=sum(e.out_of_range for e in endpoints),
        duration_s=summary.duration_s,
        ok_status_counts=ok,
        failed_status_counts=failed,
        latency=SummaryLatency(
            histogram=histogram,
            min_us=min((e.histogram.min_us for e in recorded), default=0),
            max_us=max((e.histogram.max_us for e in recorded), default=0),
            mean_us=mean_us,
        ),
        users_max=summary.users_max,
        run_duration_s=summary.duration_s,
    )


def judge_findings(threshold: Threshold, findings: Sequence[Finding] | None) -> Verdict:
    """`no finding [KIND] >= SEVERITY` on the run's findings (None: they were not computed)."""
    names = ("info", "warning", "critical")
    bound = f"none >= {names[int(threshold.bound)]}"
    if findings is None:
        return Verdict(
            threshold=threshold,
            passed=False,
            measured="findings were not computed",
            bound=bound,
            measured_value=None,
        )
    kind = threshold.metric.finding_kind
    matching = [
        f
        for f in findings
        if f.severity.rank >= threshold.bound
        and (kind is None or kind in (f.kind, f.family))
        and (
            threshold.endpoint is None
            or (
                f.endpoint is not None
                and endpoint_matches(threshold.endpoint, *f.endpoint.split(" ", 1))
            )
        )
    ]
    worst = max(matching, key=lambda f: f.severity.rank, default=None)
    measured = (
        "none" if worst is None else f"{len(matching)}, worst {worst.severity.value} {worst.kind}"
    )
    return Verdict(
        threshold=threshold,
        passed=worst is None,
        measured=measured,
        bound=bound,
        measured_value=float(len(matching)),
    )


def evaluate(
    thresholds: Iterable[Threshold],
    summary: RunSummary,
    findings: Sequence[Finding] | None = None,
    arrivals: ArrivalTotals | None = None,
) -> list[Verdict]:
    """Judge every threshold on a whole run, in the order given; `findings` for finding ones,
    `arrivals` for the open model's (dropped_iterations, start_lag_p99...)."""
    verdicts: list[Verdict] = []
    total = replace(_observed_endpoints([summary.total], summary), arrivals=arrivals)
    for threshold in thresholds:
        if threshold.metric.kind is MetricKind.FINDING:
            verdicts.append(judge_findings(threshold, findings))
            continue
        if threshold.endpoint is None:
            verdicts.append(judge(threshold, total))
            continue
        matched = [
            e for e in summary.endpoints if endpoint_matches(threshold.endpoint, e.method, e.name)
        ]
        if not matched:
            verdicts.append(
                Verdict(
                    threshold=threshold,
                    passed=False,
                    measured=f"no endpoint {threshold.endpoint!r} in this run",
                    bound=format_bound(threshold),
                    measured_value=None,
                )
            )
            continue
        verdicts.append(judge(threshold, _observed_endpoints(matched, summary)))
    return verdicts


def judge_stored(
    summary: RunSummary,
    findings: Sequence[Finding] | None = None,
    arrivals: ArrivalTotals | None = None,
) -> list[Verdict]:
    """The run judged by the thresholds stored with it; none stored, no verdicts.

    So `show` and `report` give an old run the verdicts `run` gave it.
    """
    texts: Sequence[str] = summary.run.settings.get("thresholds") or ()
    return evaluate(parse_thresholds(texts), summary, findings, arrivals) if texts else []


def all_passed(verdicts: Iterable[Verdict]) -> bool:
    return all(v.passed for v in verdicts)


def abort_reason(verdicts: Iterable[Verdict]) -> str | None:
    """The one-line reason stored with an aborted run: the first broken threshold, or None."""
    failed = [v for v in verdicts if not v.passed]
    if not failed:
        return None
    more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
    return failed[0].message + more
