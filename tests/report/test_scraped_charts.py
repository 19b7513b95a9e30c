"""The scraped metrics' charts: aligned on the client's buckets, bounded, and text never markup."""

from __future__ import annotations

import json

from loadgate.report.scraped_charts import MAX_LINES, chart_buckets, scraped_charts
from loadgate.scraped import ScrapedRun, ScrapeTarget, SeriesKey, SeriesKind, SeriesStats
from tests.analysis.series_builders import series_of, steady
from tests.builders import START_S, run_info, timeline_of

URL = "http://127.0.0.1:9/metrics"


def stats(key: SeriesKey, mean: float) -> SeriesStats:
    return SeriesStats(key=key, samples=20, min_value=0.0, max_value=mean * 2, mean_value=mean)


def scraped_run(
    chart_samples: dict[SeriesKey, dict[int, float]], means: dict[SeriesKey, float]
) -> ScrapedRun:
    target = ScrapeTarget(
        url=URL, scrapes=20, gap_seconds=(), first_error="", series=len(means), series_dropped=0
    )
    return ScrapedRun(
        targets=(target,),
        series=tuple(stats(key, mean) for key, mean in means.items()),
        chart_samples=chart_samples,
    )


def rate(route: str) -> SeriesKey:
    return SeriesKey(url=URL, name="req_total", labels=(("route", route),), kind=SeriesKind.RATE)


def test_values_land_on_the_client_charts_buckets_with_gaps_as_gaps() -> None:
    seconds = steady(20, rps=5)
    timeline = timeline_of(run_info(), seconds, [])
    key = rate("a")
    buckets = chart_buckets(timeline)
    assert (buckets.first_second, buckets.bucket_s, buckets.count) == (START_S, 1, 20)
    samples = {START_S + s: float(s) for s in range(20) if s != 7}
    charts = scraped_charts(timeline, series_of(seconds), scraped_run({key: samples}, {key: 9.5}))
    (chart,) = charts  # no upstream counters: no upstream chart
    (trace,) = chart.figure["data"]
    assert list(trace["x"]) == list(timeline.offsets_s)
    assert trace["y"][6] == 6.0 and trace["y"][7] is None and trace["y"][8] == 8.0
    assert chart.time_axis and chart.figure["layout"]["xaxis"]["range"] == [-0.5, 19.5]


def test_a_chart_shows_the_largest_lines_and_leaves_out_lines_at_zero() -> None:
    seconds = steady(10, rps=5)
    timeline = timeline_of(run_info(), seconds, [])
    keys = [rate(f"r{i}") for i in range(MAX_LINES + 3)]
    means = {key: float(i + 1) for i, key in enumerate(keys)}
    zero = rate("idle")
    samples = {key: {START_S: 1.0} for key in keys}
    run = scraped_run({**samples, zero: {START_S: 0.0}}, {**means, zero: 0.0})
    run = ScrapedRun(
        targets=run.targets,
        series=(*run.series[:-1], SeriesStats(key=zero, samples=10, min_value=0.0,
                                              max_value=0.0, mean_value=0.0)),
        chart_samples=run.chart_samples,
    )  # fmt: skip
    (chart,) = scraped_charts(timeline, series_of(seconds), run)
    names = [trace["name"] for trace in chart.figure["data"]]
    assert len(names) == MAX_LINES
    assert "route=r12" in names and "route=r0" not in names and "route=idle" not in names
    assert f"The {MAX_LINES} largest of {MAX_LINES + 3} series" in chart.caption


def test_names_and_labels_from_the_target_are_text_not_markup() -> None:
    seconds = steady(5, rps=5)
    timeline = timeline_of(run_info(), seconds, [])
    hostile = SeriesKey(
        url=URL, name="x_total", labels=(("route", "<img src=x onerror=alert(1)>%{y}"),),
        kind=SeriesKind.RATE,
    )  # fmt: skip
    run = scraped_run({hostile: {START_S: 1.0}}, {hostile: 1.0})
    (chart,) = scraped_charts(timeline, series_of(seconds), run)
    text = json.dumps(chart.figure)
    assert "<img" not in text
    assert "&lt;img" in text
    assert "%{y}" not in chart.figure["data"][0]["name"]


def test_the_breaker_axis_on_the_right_has_room_for_its_title() -> None:
    seconds = steady(5, rps=5)
    timeline = timeline_of(run_info(), seconds, [])
    breaker = SeriesKey(
        url=URL, name="loadgate_gateway_circuit_breaker_state", labels=(), kind=SeriesKind.GAUGE
    )
    run = scraped_run({}, {})
    run = ScrapedRun(targets=run.targets, samples={breaker: {START_S: 2.0}})
    (chart,) = scraped_charts(timeline, series_of(seconds), run)
    layout = chart.figure["layout"]
    assert chart.chart_id == "chart-upstream" and layout["yaxis2"]["side"] == "right"
    # The default right margin (16 px) cuts the axis' ticks and title off.
    assert layout["margin"]["r"] >= 64
