"""The target's scraped metrics as charts under the client's, on the same time axis.

First, when the gateway's upstream counters or breaker gauges were scraped,
one chart of upstream requests per client request (the retry amplification
finding's ratio) with each breaker's state. Then one chart per chosen metric
(a sample name and kind), a line per label set: the series whose name the
run's `--scrape-series` pattern (or DEFAULT_SERIES_PATTERN) finds, at most
MAX_CHARTS charts of MAX_LINES lines (the largest on average), lines that
stayed at 0 left out. Values are per second, averaged over the timeline's
bucket when it is wider; seconds without a value (a gap) are gaps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from loadgate.analysis.retry_amplification import (
    WARNING_RATIO,
    WINDOW_S,
    amplification_ratios,
    client_requests_per_second,
    upstream_per_second,
)
from loadgate.analysis.upstream_signals import breaker_gauge
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
from loadgate.scraped import ChartBuckets, ScrapedRun, SeriesKey, SeriesKind, SeriesStats
from loadgate.stats.series import RunSeries
from loadgate.stats.timeline import Timeline

# The metrics worth a chart by default, from the reference gateway and the
# gateways of GATEWAYS.md: request and retry counters, errors, breakers,
# latency histograms, connections and queues.
DEFAULT_SERIES_PATTERN = "|".join(
    (
        r"(requests|rq|responses|retries|retry|errors)_total$",
        r"upstream_rq(_retry|_time)?$",
        r"upstream_latency_seconds_count$",
        r"circuit_breaker",
        r"(request_duration|latency)_(seconds|ms)$",
        r"connections_active$",
        r"current_queue$",
        r"http_(status|latency)$",
    )
)
MAX_CHARTS = 12
MAX_LINES = 10
COLOR_RATIO = "#6a1b9a"
COLOR_LIMIT = "#ef6c00"


@dataclass(frozen=True)
class SeriesChoice:
    """Which scraped series a report charts: those whose name `pattern` finds."""

    pattern: str = DEFAULT_SERIES_PATTERN

    @classmethod
    def of_settings(cls, settings: Mapping[str, object]) -> SeriesChoice:
        scrape = settings.get("scrape")
        pattern = scrape.get("series") if isinstance(scrape, dict) else None
        return cls(pattern) if isinstance(pattern, str) and pattern else cls()

    def wants(self, key: SeriesKey) -> bool:
        return re.search(self.pattern, key.name) is not None


def chart_buckets(timeline: Timeline) -> ChartBuckets:
    """The buckets of `timeline`'s axis, for the store to average the charted series over."""
    return ChartBuckets(
        first_second=timeline.start_second + timeline.offsets_s[0],
        bucket_s=timeline.bucket_s,
        count=len(timeline.offsets_s),
    )


def at_buckets(means: Mapping[int, float], timeline: Timeline) -> list[float | None]:
    """Means read per bucket (ScrapedRun.chart_samples) in the order of `timeline`'s buckets."""
    return [means.get(timeline.start_second + offset) for offset in timeline.offsets_s]


def bucketed(samples: Mapping[int, float], timeline: Timeline) -> list[float | None]:
    """One value per bucket of `timeline`: the mean of the bucket's seconds, None without any."""
    values: list[float | None] = []
    for offset in timeline.offsets_s:
        first = timeline.start_second + offset
        inside = [samples[s] for s in range(first, first + timeline.bucket_s) if s in samples]
        values.append(sum(inside) / len(inside) if inside else None)
    return values


def _unit(key: SeriesKey) -> str:
    if key.kind is SeriesKind.RATE:
        return "per second"
    for suffix, unit in (("_seconds", "s"), ("_ms", "ms"), ("_bytes", "bytes")):
        if key.name.endswith(suffix):
            return unit
    return "value"


def _line_name(key: SeriesKey, urls: int) -> str:
    labels = ", ".join(f"{k}={v}" for k, v in key.labels) or key.name
    return plotly_text(labels if urls == 1 else f"{labels} ({key.url})")


def upstream_chart(timeline: Timeline, series: RunSeries, scraped: ScrapedRun) -> Chart | None:
    """Upstream requests per client request, and breaker states; None without such series."""
    traces: list[Trace] = []
    found = upstream_per_second(scraped)
    if found is not None:
        counter, upstream = found
        client = client_requests_per_second(series)
        ratios = amplification_ratios(client, upstream, counter.counts)
        traces.append(
            scatter(
                x=timeline.offsets_s,
                y=bucketed(ratios, timeline),
                name="upstream requests per client request",
                mode="lines+markers",
                marker={"size": 4},
                line={"color": COLOR_RATIO, "width": 2},
                hovertemplate="%{y:.2f} upstream per client request<extra></extra>",
            )
        )
    for key, samples in sorted(scraped.samples.items()):
        if breaker_gauge(key) is not None:
            traces.append(
                scatter(
                    x=timeline.offsets_s,
                    y=bucketed(samples, timeline),
                    name=f"breaker {_line_name(key, len(scraped.targets))}",
                    mode="lines",
                    line={"shape": "hv", "width": 1.5, "dash": "dot"},
                    yaxis="y2",
                    hovertemplate="breaker state %{y}<extra></extra>",
                )
            )
    if not traces:
        return None
    layout = chart_layout("upstream / client requests", time_range=time_range(timeline))
    add_right_axis(
        layout, "breaker state (0 closed, 1 half-open, 2 open)", y_range=[0, 2.2], dtick=1
    )
    layout["shapes"] = [
        {
            "type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y",
            "y0": WARNING_RATIO, "y1": WARNING_RATIO,
            "line": {"color": COLOR_LIMIT, "width": 1, "dash": "dash"},
        }
    ]  # fmt: skip
    return Chart(
        chart_id="chart-upstream",
        title="Upstream requests per client request",
        caption=(
            f"From the gateway's scraped counters over {WINDOW_S} s windows, against this run's "
            f"requests; the dashed line is {WARNING_RATIO:g}, where retry amplification "
            "becomes a finding. Dotted: circuit breaker states (right axis)."
        ),
        figure=plotly_figure(traces, layout),
        time_axis=True,
        per_endpoint=False,
    )


def _groups(scraped: ScrapedRun) -> list[tuple[tuple[str, SeriesKind], list[SeriesStats]]]:
    """Chosen series that moved, by (name, kind), in name order; at most MAX_CHARTS groups."""
    groups: dict[tuple[str, SeriesKind], list[SeriesStats]] = {}
    for stats in scraped.series:
        key = stats.key
        if key in scraped.chart_samples and (stats.max_value or stats.min_value):
            groups.setdefault((key.name, key.kind), []).append(stats)
    return sorted(groups.items())[:MAX_CHARTS]


def _largest(members: Iterable[SeriesStats]) -> list[SeriesStats]:
    return sorted(members, key=lambda s: (-abs(s.mean_value), s.key))[:MAX_LINES]


def metric_charts(timeline: Timeline, scraped: ScrapedRun) -> list[Chart]:
    charts: list[Chart] = []
    urls = len(scraped.targets)
    for index, ((name, kind), members) in enumerate(_groups(scraped)):
        shown = _largest(members)
        traces = [
            scatter(
                x=timeline.offsets_s,
                y=at_buckets(scraped.chart_samples[stats.key], timeline),
                name=_line_name(stats.key, urls),
                mode="lines",
                line={"width": 1.5},
                hovertemplate=f"{_line_name(stats.key, urls)}: %{{y:.4g}}<extra></extra>",
            )
            for stats in shown
        ]
        unit = _unit(shown[0].key)
        left_out = len(members) - len(shown)
        caption = {
            SeriesKind.RATE: "A counter's increase per second.",
            SeriesKind.GAUGE: "A gauge, as scraped each second.",
            SeriesKind.QUANTILE: "Quantiles of the observations made in each second.",
        }[kind]
        if left_out:
            caption += f" The {len(shown)} largest of {len(members)} series."
        charts.append(
            Chart(
                chart_id=f"chart-scraped-{index}",
                title=f"{name} ({unit})",
                caption=caption,
                figure=plotly_figure(traces, chart_layout(unit, time_range=time_range(timeline))),
                time_axis=True,
                per_endpoint=False,
            )
        )
    return charts


def scraped_charts(timeline: Timeline, series: RunSeries, scraped: ScrapedRun) -> Sequence[Chart]:
    """Every chart of the scraped metrics, in page order (none when nothing was scraped).

    `scraped` holds the charted series read over `chart_buckets(timeline)`.
    """
    if not scraped.scraped or not timeline.offsets_s:
        return []
    upstream = upstream_chart(timeline, series, scraped)
    first = [upstream] if upstream is not None else []
    return [*first, *metric_charts(timeline, scraped)]
