"""Latency histograms and the maths of summaries, from stored data."""

from loadgate.stats.buckets import RecordedBuckets, quantile_values_us, quantiles_us
from loadgate.stats.histogram import HIGHEST_US, LOWEST_US, LatencyHistogram
from loadgate.stats.summary import (
    TOTAL_NAME,
    EndpointSummary,
    ErrorGroup,
    RunSummary,
    summarize,
    summarize_endpoint,
)

__all__ = [
    "HIGHEST_US",
    "LOWEST_US",
    "TOTAL_NAME",
    "EndpointSummary",
    "ErrorGroup",
    "LatencyHistogram",
    "RecordedBuckets",
    "RunSummary",
    "quantile_values_us",
    "quantiles_us",
    "summarize",
    "summarize_endpoint",
]
