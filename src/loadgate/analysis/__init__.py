"""Judgements over stored data: status classes, thresholds, comparison, findings."""

from loadgate.analysis.status_classes import StatusBreakdown, status_breakdown, status_class

__all__ = ["StatusBreakdown", "status_breakdown", "status_class"]
