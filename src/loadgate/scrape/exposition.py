"""Prometheus text exposition into a Reading: counters, gauges, histogram buckets, quantiles.

Parsed by prometheus-client's own parser. What is kept: counters (and the
`_count` of histograms and summaries, which are counters too), gauges,
histogram buckets per label set, summaries' quantiles. Left out: `_sum`
(a rate of sums means little without its count), `_created` timestamps,
info and stateset metrics, non-finite values. A sample of an untyped metric
is a counter when its name ends in `_total` (Prometheus' naming rule), else
a gauge.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from loadgate.scraped import Labels

SampleId = tuple[str, Labels]  # a sample name and its sorted labels
# A histogram's buckets: (upper bound, cumulative count), ascending, +Inf last.
Buckets = tuple[tuple[float, float], ...]

_UNTYPED = frozenset({"unknown", "untyped"})
_SKIPPED_SUFFIXES = ("_created", "_sum", "_gsum", "_gcount")


@dataclass(frozen=True, kw_only=True)
class Reading:
    """One scrape's numbers, by sample name and labels."""

    counters: dict[SampleId, float] = field(default_factory=dict)
    gauges: dict[SampleId, float] = field(default_factory=dict)
    histograms: dict[SampleId, Buckets] = field(default_factory=dict)  # keyed by family name
    quantiles: dict[SampleId, float] = field(default_factory=dict)  # summaries', label included


def _labels(labels: dict[str, str], without: str = "") -> Labels:
    return tuple(sorted((k, v) for k, v in labels.items() if k != without))


def read_exposition(text: str, between: Callable[[], None] | None = None) -> Reading:
    """The Reading of one /metrics answer; ValueError when it is not Prometheus text.

    `between`, if given, is called after each metric family: the scraper
    pauses there, so that a long page is not parsed in one hold of the GIL.
    """
    reading = Reading()
    buckets: dict[SampleId, list[tuple[float, float]]] = {}
    for family in text_string_to_metric_families(text):
        if between is not None:
            between()
        kind = family.type
        if kind in ("info", "stateset", "gaugehistogram") or family.name.endswith("_created"):
            continue
        for sample in family.samples:
            name, value = sample.name, float(sample.value)
            if name.endswith(_SKIPPED_SUFFIXES) or not math.isfinite(value):
                continue
            if kind == "histogram" and name == family.name + "_bucket":
                upper = float(sample.labels.get("le", "nan"))
                if not math.isnan(upper):
                    key = (family.name, _labels(sample.labels, without="le"))
                    buckets.setdefault(key, []).append((upper, value))
            elif kind == "summary" and name == family.name:
                reading.quantiles[(name, _labels(sample.labels))] = value
            elif kind == "gauge" or (kind in _UNTYPED and not name.endswith("_total")):
                reading.gauges[(name, _labels(sample.labels))] = value
            else:
                reading.counters[(name, _labels(sample.labels))] = value
    for key, pairs in buckets.items():
        reading.histograms[key] = tuple(sorted(pairs))
    return reading
