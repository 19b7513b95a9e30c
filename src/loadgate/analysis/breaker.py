"""Circuit breakers that opened: from a scraped breaker-state gauge, when and for how long.

One finding per breaker (one series: an upstream, a cluster) that was open
in at least one scraped second. An open breaker refuses requests at once
(the reference gateway answers 503 with Retry-After), so the client's
errors in those seconds are the breaker's, not the upstream's.
"""

from __future__ import annotations

from loadgate.analysis.finding import Chart, Finding, Severity
from loadgate.analysis.upstream_signals import breaker_gauge
from loadgate.scraped import ScrapedRun, SeriesKey
from loadgate.stats.series import RunSeries


def _subject(key: SeriesKey) -> str:
    """'upstream catalog' from the series' labels, else the series itself."""
    if not key.labels:
        return key.name
    return ", ".join(f"{name} {value}" for name, value in key.labels)


def breaker_findings(series: RunSeries, scraped: ScrapedRun) -> list[Finding]:
    findings: list[Finding] = []
    start = series.start_second
    for key, samples in sorted(scraped.samples.items()):
        gauge = breaker_gauge(key)
        if gauge is None:
            continue
        open_seconds = [s for s, value in sorted(samples.items()) if value >= gauge.open_at]
        if not open_seconds:
            continue
        openings = sum(1 for s in open_seconds if samples.get(s - 1, 0.0) < gauge.open_at)
        first, last = open_seconds[0], open_seconds[-1]
        findings.append(
            Finding(
                kind="breaker_opened",
                severity=Severity.WARNING,
                sentence=(
                    f"the circuit breaker of {_subject(key)} ({gauge.gateway}) opened at "
                    f"{first - start} s, {openings} time{'s' if openings != 1 else ''}, open "
                    f"{len(open_seconds)} s in all: requests to it were refused at once"
                ),
                numbers={
                    "first_open_s": first - start,
                    "openings": openings,
                    "open_s": len(open_seconds),
                    "series": key.label_text,
                    "url": key.url,
                },
                from_s=first - start,
                to_s=last - start,
                chart=Chart.UPSTREAM,
            )
        )
    return findings
