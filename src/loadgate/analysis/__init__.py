"""Judgements over stored data: status classes, thresholds, comparison, findings."""

from loadgate.analysis.compare import compare_runs
from loadgate.analysis.compare_types import (
    Change,
    ComparedMetric,
    CompareSettings,
    Comparison,
    EndpointComparison,
    MetricComparison,
    Presence,
)
from loadgate.analysis.finding import Finding, Severity
from loadgate.analysis.findings import find_all
from loadgate.analysis.status_classes import StatusBreakdown, status_breakdown, status_class
from loadgate.analysis.thresholds import (
    DEFAULT_WINDOW_S,
    Metric,
    MetricKind,
    Op,
    Threshold,
    mark_abortable,
    parse_threshold,
    parse_thresholds,
    parse_window_s,
)
from loadgate.analysis.thresholds_eval import (
    Verdict,
    abort_reason,
    all_passed,
    evaluate,
    judge_stored,
)
from loadgate.analysis.thresholds_latency import LatencyBuckets
from loadgate.analysis.thresholds_window import AbortCheck, abort_window_s, evaluate_window

__all__ = ["StatusBreakdown", "status_breakdown", "status_class"]
__all__ += ["Finding", "Severity", "find_all"]
__all__ += [
    "DEFAULT_WINDOW_S",
    "AbortCheck",
    "LatencyBuckets",
    "Metric",
    "MetricKind",
    "Op",
    "Threshold",
    "Verdict",
    "abort_reason",
    "abort_window_s",
    "all_passed",
    "evaluate",
    "evaluate_window",
    "judge_stored",
    "mark_abortable",
    "parse_threshold",
    "parse_thresholds",
    "parse_window_s",
]
__all__ += [
    "Change",
    "CompareSettings",
    "ComparedMetric",
    "Comparison",
    "EndpointComparison",
    "MetricComparison",
    "Presence",
    "compare_runs",
]
