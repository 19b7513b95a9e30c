"""The HTML report's cache, timing and phase charts: hits against misses, gateway against
upstream, and the requests' connect, TLS, first-byte and download times (`--timings`).

Drawn on the timeline's buckets (stats.parts folds on the same axis), one
set of lines per endpoint whose responses said, all shown with a legend
(the page's endpoint selector is for the charts of every endpoint). A run
without such responses gets neither chart.
"""

from __future__ import annotations

from loadgate.model import Part
from loadgate.report.html_charts import (
    Chart,
    Trace,
    add_right_axis,
    chart_layout,
    plotly_figure,
    plotly_text,
    scatter,
    time_range,
)
from loadgate.stats.parts import EndpointParts, RunParts
from loadgate.stats.timeline import Timeline

HIT, MISS, UPSTREAM, GATEWAY = Part.CACHE_HIT, Part.CACHE_MISS, Part.UPSTREAM, Part.GATEWAY
DASHES = ("solid", "dot", "dash", "longdash", "dashdot")
PHASES = (Part.CONNECT, Part.TLS, Part.TTFB, Part.DOWNLOAD)
COLORS = {
    HIT: "#2e7d32", MISS: "#c62828", UPSTREAM: "#1565c0", GATEWAY: "#ef6c00",
    Part.CONNECT: "#6a1b9a", Part.TLS: "#ad1457", Part.TTFB: "#1565c0", Part.DOWNLOAD: "#00838f",
}  # fmt: skip
COLOR_RATIO = "#455a64"


def parts_charts(parts: RunParts, timeline: Timeline) -> tuple[Chart, ...]:
    """The cache chart and the timing chart, each only when some endpoint has its data."""
    charts: list[Chart] = []
    cached = [e for e in parts.endpoints if HIT in e.buckets or MISS in e.buckets]
    if cached:
        charts.append(cache_chart(parts, cached, timeline))
    split = [e for e in parts.endpoints if UPSTREAM in e.buckets and GATEWAY in e.buckets]
    if split:
        charts.append(timing_chart(parts, split, timeline))
    timed = [e for e in parts.endpoints if Part.TTFB in e.buckets]
    if timed:
        charts.append(phases_chart(parts, timed, timeline))
    return tuple(charts)


def cache_chart(parts: RunParts, endpoints: list[EndpointParts], timeline: Timeline) -> Chart:
    traces: list[Trace] = []
    for index, endpoint in enumerate(endpoints):
        label = plotly_text(endpoint.label)
        dash = DASHES[index % len(DASHES)]
        for part, what in ((HIT, "hits"), (MISS, "misses")):
            if part in endpoint.buckets:
                traces.append(_line(parts, endpoint, part, f"{label}: {what} p95", dash))
        hits = endpoint.buckets[HIT].requests if HIT in endpoint.buckets else None
        misses = endpoint.buckets[MISS].requests if MISS in endpoint.buckets else None
        count = len(parts.offsets_s)
        ratio = [
            100.0 * h / (h + m) if h + m else None
            for h, m in zip(hits or [0] * count, misses or [0] * count, strict=True)
        ]
        traces.append(_share_line(parts, ratio, f"{label}: hit ratio", dash))
    layout = chart_layout("ms", time_range=time_range(timeline))
    add_right_axis(layout, "hit ratio (%)", y_range=[0, 105], dtick=25)
    return Chart(
        chart_id="chart-cache",
        title="Cache hits and misses",
        caption="p95 of responses the gateway served from its cache (hits) and fetched "
        "(misses), and the share of hits, per bucket; from X-Cache-Status and its kin.",
        figure=plotly_figure(traces, layout),
        time_axis=True,
        per_endpoint=False,
    )


def timing_chart(parts: RunParts, endpoints: list[EndpointParts], timeline: Timeline) -> Chart:
    traces: list[Trace] = []
    for index, endpoint in enumerate(endpoints):
        label = plotly_text(endpoint.label)
        dash = DASHES[index % len(DASHES)]
        traces.append(_line(parts, endpoint, UPSTREAM, f"{label}: upstream p95", dash))
        traces.append(_line(parts, endpoint, GATEWAY, f"{label}: gateway p95", dash))
    return Chart(
        chart_id="chart-timing",
        title="Gateway and upstream time",
        caption="p95 of the time responses spent upstream and in the gateway itself, per "
        "bucket; from Server-Timing, Kong's or Envoy's headers (cache hits left out).",
        figure=plotly_figure(traces, chart_layout("ms", time_range=time_range(timeline))),
        time_axis=True,
        per_endpoint=False,
    )


def phases_chart(parts: RunParts, endpoints: list[EndpointParts], timeline: Timeline) -> Chart:
    traces: list[Trace] = []
    count = len(parts.offsets_s)
    for index, endpoint in enumerate(endpoints):
        label = plotly_text(endpoint.label)
        dash = DASHES[index % len(DASHES)]
        for phase in PHASES:
            if phase in endpoint.buckets:
                name = f"{label}: {phase.value} p95"
                traces.append(_line(parts, endpoint, phase, name, dash))
        timed = endpoint.buckets[Part.TTFB].requests
        connected = endpoint.buckets.get(Part.CONNECT)
        connects = connected.requests if connected is not None else (0,) * count
        share = [
            min(100.0, 100.0 * c / t) if t else None for c, t in zip(connects, timed, strict=True)
        ]
        traces.append(_share_line(parts, share, f"{label}: new connections", dash))
    layout = chart_layout("ms", time_range=time_range(timeline))
    add_right_axis(layout, "requests on a new connection (%)", y_range=[0, 105], dtick=25)
    return Chart(
        chart_id="chart-phases",
        title="Timing phases",
        caption="p95 per bucket of the TCP connect and TLS handshake (of the requests that "
        "opened a connection), the time to first byte and the download, and the share of "
        "requests that opened a connection (--timings).",
        figure=plotly_figure(traces, layout),
        time_axis=True,
        per_endpoint=False,
    )


def _line(parts: RunParts, endpoint: EndpointParts, part: Part, name: str, dash: str) -> Trace:
    return scatter(
        x=parts.offsets_s,
        y=endpoint.buckets[part].p95_ms,
        name=name,
        mode="lines+markers",
        marker={"size": 4},
        line={"color": COLORS[part], "dash": dash, "width": 2},
        hovertemplate=f"{name} %{{y:.3f}} ms<extra></extra>",
    )


def _share_line(parts: RunParts, percent: list[float | None], name: str, dash: str) -> Trace:
    """A share per bucket, in %, on the right axis (a hit ratio, new connections)."""
    return scatter(
        x=parts.offsets_s, y=percent, name=name, yaxis="y2", mode="lines+markers",
        marker={"size": 4}, line={"color": COLOR_RATIO, "dash": dash, "width": 1.5},
        hovertemplate=f"{name} %{{y:.1f}}%<extra></extra>",
    )  # fmt: skip
