"""Every chart of the report is plotly's own JSON: what plotly's validated figure of it gives.

The charts are built as plain dicts for speed (report/html_charts.py); here
plotly's graph objects validate each one (a misspelt attribute raises) and
must give it back unchanged, so the page draws what plotly's objects drew.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import pytest

from loadgate.analysis.finding import Chart as FindingChart
from loadgate.analysis.finding import Finding, Severity
from loadgate.model import EndpointSecond, Part, PartSecond, UsersSample
from loadgate.report.html import report_context
from loadgate.report.html_charts import Chart
from loadgate.report.scraped_charts import scraped_charts
from loadgate.scraped import ScrapedRun, ScrapeTarget, SeriesKey, SeriesKind, SeriesStats
from loadgate.stats.parts import PartsFold, RunParts
from loadgate.stats.summary import summarize
from tests.analysis.series_builders import series_of
from tests.builders import START_S, endpoint_second, histogram_of, run_info, timeline_of

DURATION_S = 12
URL = "http://127.0.0.1:9/metrics"


def seconds() -> list[EndpointSecond]:
    """Two endpoints with successes, client and server errors, and no response at all."""
    made: list[EndpointSecond] = []
    for offset_s in range(DURATION_S):
        second = START_S + offset_s
        made.append(endpoint_second(second, "GET", "/items<b>", [900, 1500, 40_000, 2_000_000],
                                    ok={"200": 2, "201": 1}, failed={"503": 1},
                                    errors={"HTTPError('503')": 1}))  # fmt: skip
        if offset_s % 3:  # gaps: buckets without a latency
            made.append(endpoint_second(second, "POST", "/cart", [5_000, 7_000],
                                        ok={"200": 1}, failed={"0": 1},
                                        errors={"ConnectionRefusedError()": 1}))  # fmt: skip
    return made


def parts() -> RunParts:
    fold = PartsFold(range(START_S, START_S + DURATION_S), 1)
    for offset_s in range(DURATION_S):
        for part, values in ((Part.CACHE_HIT, [300, 400]), (Part.CACHE_MISS, [20_000]),
                             (Part.UPSTREAM, [19_000]), (Part.GATEWAY, [900]),
                             (Part.CONNECT, [200]), (Part.TLS, [1_500]),
                             (Part.TTFB, [18_000, 900]), (Part.DOWNLOAD, [50, 60])):  # fmt: skip
            fold.add(PartSecond(second=START_S + offset_s, method="GET", name="/items<b>",
                                part=part, requests=len(values),
                                histogram=histogram_of(values).encode()))  # fmt: skip
    return fold.parts(START_S, [UsersSample(second=START_S, users=3)])


def scraped() -> ScrapedRun:
    breaker = SeriesKey(url=URL, name="loadgate_gateway_circuit_breaker_state", labels=(),
                        kind=SeriesKind.GAUGE)  # fmt: skip
    requests = SeriesKey(url=URL, name="requests_total", labels=(("route", "/items"),),
                         kind=SeriesKind.RATE)  # fmt: skip
    target = ScrapeTarget(url=URL, scrapes=DURATION_S, gap_seconds=(), first_error="",
                          series=2, series_dropped=0)  # fmt: skip
    return ScrapedRun(
        targets=(target,),
        series=(
            SeriesStats(
                key=requests, samples=DURATION_S, min_value=0.0, max_value=8.0, mean_value=4.0
            ),
        ),
        samples={breaker: {START_S + s: float(s % 3) for s in range(DURATION_S)}},
        chart_samples={requests: {START_S + s: float(s) for s in range(DURATION_S) if s != 4}},
    )


def every_chart() -> list[Chart]:
    run = run_info(duration_s=DURATION_S)
    stored = seconds()
    users = [UsersSample(second=START_S + s, users=2 + s) for s in range(DURATION_S)]
    timeline = timeline_of(run, stored, users)
    findings = [
        Finding(kind="errors.gateway", severity=Severity.CRITICAL, sentence="503s",
                from_s=2, to_s=4, chart=FindingChart.STATUS),
        Finding(kind="latency.<i>", severity=Severity.INFO, sentence="slow",
                from_s=1, to_s=1, chart=FindingChart.LATENCY),
    ]  # fmt: skip
    extra = scraped_charts(timeline, series_of(stored), scraped())
    context = report_context(
        summarize(run, stored, users), timeline, findings=findings, parts=parts(),
        extra_charts=extra,
    )  # fmt: skip
    charts: list[Chart] = context["charts"]
    return charts


CHARTS = every_chart()


def test_every_kind_of_chart_is_checked() -> None:
    assert {chart.chart_id for chart in CHARTS} >= {
        "chart-users", "chart-throughput", "chart-latency", "chart-status", "chart-distribution",
        "chart-cache", "chart-timing", "chart-phases", "chart-upstream", "chart-scraped-0",
    }  # fmt: skip
    marked = [c for c in CHARTS if c.figure["layout"].get("shapes")]
    assert {c.chart_id for c in marked} >= {"chart-status", "chart-latency", "chart-upstream"}


@pytest.mark.parametrize("chart", CHARTS, ids=[chart.chart_id for chart in CHARTS])
def test_a_chart_is_what_plotlys_validated_figure_of_it_gives(chart: Chart) -> None:
    validated: dict[str, Any] = go.Figure(chart.figure).to_plotly_json()
    assert validated == chart.figure
    assert all(trace["x"] for trace in chart.figure["data"]), "every trace has data"
