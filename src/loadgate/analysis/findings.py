"""Every finding of a stored run, from its per-second series: the one entry point for views.

Each kind lives in its own module (error_classes, saturation, rate_limit,
retry_amplification, breaker, cache, gateway_time); this one runs them all over
the series `store.run_view.read_run_view` folded in the report's single read
(and the latencies' parts read beside it), and orders what they found.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loadgate.analysis.breaker import breaker_findings
from loadgate.analysis.cache import cache_findings
from loadgate.analysis.error_classes import error_class_findings
from loadgate.analysis.finding import Finding, Severity, by_severity
from loadgate.analysis.gateway_time import gateway_time_findings
from loadgate.analysis.rate_limit import expected_limit, parse_rate_limit, rate_limit_findings
from loadgate.analysis.retry_amplification import retry_amplification_findings
from loadgate.analysis.saturation import saturation_findings
from loadgate.scraped import NOT_SCRAPED, ScrapedRun
from loadgate.stats.parts import NO_PARTS, RunParts
from loadgate.stats.series import FINDINGS_MAX_SPAN_S, RunSeries


def find_all(
    series: RunSeries,
    settings: Mapping[str, Any] | None = None,
    *,
    expect_rate_limit: str | None = None,
    scraped: ScrapedRun = NOT_SCRAPED,
    parts: RunParts = NO_PARTS,
) -> tuple[Finding, ...]:
    """The run's findings, most severe first.

    `settings` are the run's stored settings (its `expect_rate_limit`, if
    any); `expect_rate_limit` given here (show/report) replaces it.
    `scraped` holds the target's metrics, with the values of the series
    upstream_signals.read_by_findings names.
    `parts`: the latencies' parts (cache, upstream), for the cache and gateway-time
    findings, and the rate-limit counts (429s without a retry hint, keys active).
    """
    if series.skipped_span_s:
        return (_not_computed(series.skipped_span_s),)
    limit = (
        parse_rate_limit(expect_rate_limit)
        if expect_rate_limit is not None
        else expected_limit(settings)
    )
    found: list[Finding] = []
    found.extend(error_class_findings(series, parts))
    found.extend(saturation_findings(series))
    found.extend(rate_limit_findings(series, limit, parts))
    found.extend(retry_amplification_findings(series, scraped))
    found.extend(breaker_findings(series, scraped))
    found.extend(cache_findings(parts))
    found.extend(gateway_time_findings(parts))
    return by_severity(found)


def _not_computed(span_s: int) -> Finding:
    return Finding(
        kind="coverage",
        severity=Severity.INFO,
        sentence=(
            f"findings are not computed for a read of {span_s} s (over "
            f"{FINDINGS_MAX_SPAN_S} s, to keep memory flat): report a range of the run "
            "with --from/--to to get them"
        ),
        numbers={"span_s": span_s, "max_span_s": FINDINGS_MAX_SPAN_S},
        from_s=0,
        to_s=max(0, span_s - 1),
    )
