"""The HTML report's charts: plotly figures from a run's timeline and latency histograms.

Figures are built as the plain JSON plotly.js reads, not through plotly's
graph objects: those validate and copy every attribute of every point, over
half of a 10-minute run's page once its histograms were read quickly
(profiled on bench/dashboard.py's run). The JSON is plotly's own form
(tests/report/test_figures.py checks that each chart is what plotly's
validated figure of it gives), so a misspelt attribute still fails a test
rather than silently in the page.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from loadgate.analysis.finding import Finding
from loadgate.analysis.status_classes import NO_RESPONSE
from loadgate.model import endpoint_label
from loadgate.stats.buckets import quantiles_us
from loadgate.stats.histogram import LatencyHistogram
from loadgate.stats.summary import US_PER_MS, RunSummary
from loadgate.stats.timeline import EndpointTimeline, Timeline

# Points per decade of 1/(1-q) on the percentile curve: smooth, yet small.
CURVE_STEPS_PER_DECADE = 20
TIME_AXIS_TITLE = "seconds since start"
COLOR_OK = "#2e7d32"
COLOR_FAILED = "#c62828"
COLOR_USERS = "#455a64"
USERS_FILL = "rgba(69, 90, 100, 0.15)"
QUANTILE_COLORS: Mapping[str, str] = MappingProxyType(
    {"p50": "#1565c0", "p95": "#ef6c00", "p99": "#6a1b9a"}
)
# Shades per status class, so 200 and 201 differ but both read as success.
STATUS_CLASS_COLORS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "2": ("#2e7d32", "#66bb6a", "#a5d6a7", "#1b5e20"),
        "3": ("#1565c0", "#64b5f6", "#0d47a1"),
        "4": ("#ef6c00", "#ffa726", "#ffcc80", "#e65100"),
        "5": ("#c62828", "#ef5350", "#b71c1c", "#e57373"),
    }
)
COLOR_NO_RESPONSE = "#616161"
COLOR_OTHER = "#9e9e9e"


@dataclass(frozen=True, kw_only=True)
class Chart:
    """One chart of the report: its element id, heading and plotly figure.

    `per_endpoint` charts carry every endpoint's traces, each tagged with the
    endpoint's label in `meta`; the page's endpoint selector shows one set.
    """

    chart_id: str
    title: str
    caption: str
    figure: dict[str, Any]
    time_axis: bool
    per_endpoint: bool


@dataclass(frozen=True, kw_only=True)
class PercentileCurve:
    """Latency against percentile, with x as 1/(1-q) so the tail gets room (HdrHistogram's plot)."""

    inverse_tail: tuple[float, ...]
    percentile: tuple[float, ...]
    latency_ms: tuple[float, ...]


def percentile_curve(histogram: LatencyHistogram) -> PercentileCurve:
    """Points from q=0 up to the resolution the sample count allows, ending at the max."""
    if not histogram.count:
        return PercentileCurve(inverse_tail=(), percentile=(), latency_ms=())
    decades = math.log10(histogram.count)
    steps = math.ceil(decades * CURVE_STEPS_PER_DECADE)
    inverse_tail = [10 ** (step / CURVE_STEPS_PER_DECADE) for step in range(steps)]
    values_us = quantiles_us(histogram.recorded_buckets(), [1.0 - 1.0 / x for x in inverse_tail])
    # Beyond 1/count there is no finer percentile to show: the last point is the max.
    inverse_tail.append(10**decades)
    values_us.append(histogram.max_us)
    return PercentileCurve(
        inverse_tail=tuple(inverse_tail),
        percentile=tuple(100.0 * (1.0 - 1.0 / x) for x in inverse_tail),
        latency_ms=tuple(value_us / US_PER_MS for value_us in values_us),
    )


def percentile_ticks(max_inverse_tail: float) -> tuple[list[float], list[str]]:
    """Tick positions 1, 2, 10, 100... labelled 0%, 50%, 90%, 99%, 99.9%..."""
    values: list[float] = [1.0, 2.0]
    labels = ["0%", "50%"]
    nines = 1
    while 10**nines <= max(max_inverse_tail, 10.0) * 1.0001:
        values.append(float(10**nines))
        labels.append(f"{100.0 - 100.0 / 10**nines:.{max(0, nines - 2)}f}%")
        nines += 1
    return values, labels


def status_color(status: str, index_in_class: int) -> str:
    if status == NO_RESPONSE:
        return COLOR_NO_RESPONSE
    palette = STATUS_CLASS_COLORS.get(status[:1])
    if palette is None:
        return COLOR_OTHER
    return palette[index_in_class % len(palette)]


def time_range(timeline: Timeline) -> list[float]:
    # One explicit range for every chart over time: lines, markers and bars would
    # otherwise each pad differently, and linked zooming needs the same start.
    half = timeline.bucket_s / 2
    return [timeline.offsets_s[0] - half, timeline.offsets_s[-1] + half]


def _per_bucket(timeline: Timeline, per_second: str) -> str:
    """A caption's "in each second", or what it is for wider buckets."""
    if timeline.bucket_s == 1:
        return per_second
    return (
        f"{per_second.rstrip('.')}, averaged over {format_bucket(timeline.bucket_s)}; "
        "`loadgate report --from/--to` gives any range second by second."
    )


def format_bucket(bucket_s: int) -> str:
    """'10 s', '1 min', '1 h'."""
    if bucket_s % 3600 == 0:
        return f"{bucket_s // 3600} h"
    if bucket_s % 60 == 0:
        return f"{bucket_s // 60} min"
    return f"{bucket_s} s"


def chart_layout(y_title: str, *, time_range: list[float] | None = None) -> dict[str, Any]:
    time_axis = time_range is not None
    return {
        "template": "plotly_white",
        "height": 320,
        "margin": {"l": 64, "r": 16, "t": 32, "b": 48},
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12},
        "legend": {
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.02,
            "x": 0,
            "traceorder": "normal",
        },
        "hovermode": "x unified" if time_axis else "closest",
        "xaxis": {"title": {"text": TIME_AXIS_TITLE}, "range": time_range} if time_axis else {},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
    }


def add_right_axis(
    layout: dict[str, Any], title: str, *, y_range: list[float], dtick: float
) -> None:
    """A second y axis on the right of `layout` (yaxis="y2" traces), with room for its title."""
    layout["yaxis2"] = {
        "title": {"text": title}, "overlaying": "y", "side": "right",
        "range": y_range, "dtick": dtick, "showgrid": False,
    }  # fmt: skip
    layout["margin"] = {**layout["margin"], "r": 64}


Trace = dict[str, Any]
# Attributes holding one value per point: plotly's JSON has them as lists.
_ARRAYS = ("x", "y", "customdata")


def scatter(**attributes: Any) -> Trace:
    """A scatter trace as plotly's JSON has it (`go.Scatter(...).to_plotly_json()`)."""
    return _trace("scatter", attributes)


def bar(**attributes: Any) -> Trace:
    """A bar trace as plotly's JSON has it (`go.Bar(...).to_plotly_json()`)."""
    return _trace("bar", attributes)


def _trace(kind: str, attributes: dict[str, Any]) -> Trace:
    for key in _ARRAYS:
        if key in attributes:
            attributes[key] = list(attributes[key])
    return {**attributes, "type": kind}


@functools.cache
def template_json(name: str) -> dict[str, Any]:
    """A plotly template as a figure's JSON holds it; shared: read, never changed.

    Read from the file in plotly's package data that plotly.io.templates
    loads too: building plotly's Template object costs a fifth of a second.
    """
    path = importlib.resources.files("plotly") / "package_data" / "templates" / f"{name}.json"
    template: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return template


def plotly_figure(traces: Sequence[Trace], layout: dict[str, Any]) -> dict[str, Any]:
    """The figure's JSON, its named template expanded as plotly's own figure expands it."""
    template = layout.get("template")
    if isinstance(template, str):
        layout = {**layout, "template": template_json(template)}
    return {"data": list(traces), "layout": layout}


def users_chart(timeline: Timeline) -> Chart:
    trace = scatter(
        x=timeline.offsets_s,
        y=timeline.users,
        name="users",
        mode="lines",
        line={"shape": "hv", "color": COLOR_USERS, "width": 2},
        fill="tozeroy",
        fillcolor=USERS_FILL,
        hovertemplate="%{y} users<extra></extra>",
    )
    return Chart(
        chart_id="chart-users",
        title="Users",
        caption="Users running at the end of each second."
        if timeline.bucket_s == 1
        else f"The most users running in each {format_bucket(timeline.bucket_s)}.",
        figure=plotly_figure(
            [trace], chart_layout("users", time_range=time_range(timeline)) | {"height": 240}
        ),
        time_axis=True,
        per_endpoint=False,
    )


def _per_endpoint_lines(
    timeline: Timeline,
    lines_of: Callable[[EndpointTimeline], Sequence[tuple[str, Sequence[float | None], str]]],
    *,
    markers: bool,
    hover: str,
) -> list[Trace]:
    """Lines (name, values, colour) for the total and every endpoint; the total's shown.

    `hover` is a hovertemplate with `{name}` for the line's name.
    """
    return [
        scatter(
            x=timeline.offsets_s,
            y=values,
            name=name,
            meta=series.label,
            visible=series is timeline.total,
            mode="lines+markers" if markers else "lines",
            marker={"size": 4},
            line={"color": color, "width": 2},
            hovertemplate=hover.format(name=name),
        )
        for series in (timeline.total, *timeline.endpoints)
        for name, values, color in lines_of(series)
    ]


def throughput_chart(timeline: Timeline) -> Chart:
    traces = _per_endpoint_lines(
        timeline,
        lambda series: (
            ("ok", series.ok_per_s, COLOR_OK),
            ("failed", series.failed_per_s, COLOR_FAILED),
        ),
        markers=False,
        hover="%{{y}} {name}<extra></extra>",
    )
    return Chart(
        chart_id="chart-throughput",
        title="Requests per second",
        caption=_per_bucket(
            timeline, "Requests that finished in each second, successful and failed."
        ),
        figure=plotly_figure(traces, chart_layout("requests/s", time_range=time_range(timeline))),
        time_axis=True,
        per_endpoint=True,
    )


def latency_chart(timeline: Timeline) -> Chart:
    traces = _per_endpoint_lines(
        timeline,
        lambda series: tuple(
            (name, values, QUANTILE_COLORS[name])
            for name, values in (
                ("p50", series.p50_ms),
                ("p95", series.p95_ms),
                ("p99", series.p99_ms),
            )
        ),
        markers=True,
        hover="{name} %{{y:.3f}} ms<extra></extra>",
    )
    return Chart(
        chart_id="chart-latency",
        title="Latency percentiles per second"
        if timeline.bucket_s == 1
        else f"Latency percentiles per {format_bucket(timeline.bucket_s)}",
        caption="From each second's HDR histogram; seconds without requests are gaps."
        if timeline.bucket_s == 1
        else f"From the merged HDR histograms of each {format_bucket(timeline.bucket_s)} "
        "(exact percentiles of its requests); buckets without requests are gaps.",
        figure=plotly_figure(traces, chart_layout("ms", time_range=time_range(timeline))),
        time_axis=True,
        per_endpoint=True,
    )


def status_chart(timeline: Timeline) -> Chart:
    traces = []
    for series in (timeline.total, *timeline.endpoints):
        index_in_class: dict[str, int] = {}
        for status, values in series.status_per_s.items():
            index = index_in_class.get(status[:1], 0)
            index_in_class[status[:1]] = index + 1
            name = "no response" if status == NO_RESPONSE else plotly_text(status)
            traces.append(
                bar(
                    x=timeline.offsets_s,
                    y=values,
                    name=name,
                    meta=series.label,
                    visible=series is timeline.total,
                    marker={"color": status_color(status, index), "line": {"width": 0}},
                    hovertemplate=f"{name}: %{{y}}<extra></extra>",
                )
            )
    layout = chart_layout("responses/s", time_range=time_range(timeline)) | {
        "barmode": "stack",
        "bargap": 0.05,
    }
    return Chart(
        chart_id="chart-status",
        title="Responses by status",
        caption=_per_bucket(
            timeline, "Responses per second by HTTP status, stacked; 'no response' is status 0."
        ),
        figure=plotly_figure(traces, layout),
        time_axis=True,
        per_endpoint=True,
    )


def distribution_chart(summary: RunSummary) -> Chart:
    traces = []
    widest = 10.0
    for endpoint in (summary.total, *summary.endpoints):
        curve = percentile_curve(endpoint.histogram)
        widest = max(widest, *curve.inverse_tail, 0.0)
        label = endpoint_label(endpoint.method, endpoint.name)
        traces.append(
            scatter(
                x=curve.inverse_tail,
                y=curve.latency_ms,
                customdata=curve.percentile,
                name=plotly_text(label),
                mode="lines",
                line={"width": 3 if endpoint is summary.total else 1.5},
                hovertemplate="p%{customdata:.4g}: %{y:.3f} ms",
            )
        )
    tick_values, tick_labels = percentile_ticks(widest)
    layout = chart_layout("ms")
    layout["xaxis"] = {
        "type": "log",
        "title": {"text": "percentile"},
        "tickvals": tick_values,
        "ticktext": tick_labels,
    }
    layout["height"] = 380
    return Chart(
        chart_id="chart-distribution",
        title="Percentile curve",
        caption="Percentiles of the whole run from the merged HDR histograms; "
        "the x axis stretches the tail (1/(1−q), log scale). Click a legend entry to hide it.",
        figure=plotly_figure(traces, layout),
        time_axis=False,
        per_endpoint=False,
    )


def plotly_text(text: str) -> str:
    """`text` shown literally in a legend or hover label.

    Plotly renders names and hover templates as a small HTML subset and expands
    %{...} in templates: a name from the store must not become markup.
    """
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("%{", "%&#123;")
    )


def report_charts(summary: RunSummary, timeline: Timeline) -> tuple[Chart, ...]:
    """Every chart of the report, in page order."""
    return (
        users_chart(timeline),
        throughput_chart(timeline),
        latency_chart(timeline),
        status_chart(timeline),
        distribution_chart(summary),
    )


FINDING_COLORS = {"info": "#1f77b4", "warning": "#ff7f0e", "critical": "#d62728"}


def mark_findings(charts: Sequence[Chart], findings: Sequence[Finding]) -> tuple[Chart, ...]:
    """The charts with each finding's time range shaded on the chart that shows it.

    A shaded band from the finding's first second to its last (half a second
    either side, as bars are drawn), labelled with its kind; charts without
    findings are returned unchanged.
    """
    marked: list[Chart] = []
    for chart in charts:
        own = [f for f in findings if f.chart.value == chart.chart_id]
        if not own or not chart.time_axis:
            marked.append(chart)
            continue
        figure = dict(chart.figure)
        layout = dict(figure.get("layout", {}))
        shapes = list(layout.get("shapes", ()))
        for finding in own:
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": finding.from_s - 0.5,
                    "x1": finding.to_s + 0.5,
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": FINDING_COLORS[finding.severity.value],
                    "opacity": 0.12,
                    "line": {"width": 0},
                    "layer": "below",
                    "label": {
                        "text": plotly_text(finding.kind),
                        "textposition": "top left",
                        "font": {"size": 10},
                    },
                    "name": f"finding {finding.kind}",
                }
            )
        layout["shapes"] = shapes
        figure["layout"] = layout
        marked.append(replace(chart, figure=figure))
    return tuple(marked)
