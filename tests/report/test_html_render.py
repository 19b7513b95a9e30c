"""render_html without a browser: verdicts, extra sections, escaping, the percentile curve."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from loadgate.errors import ConfigError
from loadgate.report.html import ExtraSection, render_html, script_json, write_page
from loadgate.report.html_charts import percentile_curve, percentile_ticks, report_charts
from loadgate.stats.histogram import LatencyHistogram
from loadgate.stats.summary import RunSummary, summarize
from loadgate.stats.timeline import Timeline
from tests.builders import START_S, endpoint_second, timeline_of
from tests.report import synthetic_run


@dataclass(frozen=True)
class FakeVerdict:
    label: str
    passed: bool
    measured: str
    bound: str


@pytest.fixture(scope="module")
def run_data() -> tuple[RunSummary, Timeline]:
    run = synthetic_run.run_info()
    seconds = synthetic_run.endpoint_seconds()
    users = synthetic_run.user_samples()
    return summarize(run, seconds, users), timeline_of(run, seconds, users)


def test_verdicts_are_listed_with_their_outcome(run_data: tuple[RunSummary, Timeline]) -> None:
    verdicts = [
        FakeVerdict(label="p95 < 300ms", passed=True, measured="82.047 ms", bound="< 300 ms"),
        FakeVerdict(label="GET /v1/<x>: rps > 100", passed=False, measured="29.5", bound="> 100"),
    ]
    html = render_html(*run_data, verdicts=verdicts)
    assert "1 of 2 thresholds failed" in html
    assert 'data-verdict="p95 &lt; 300ms" data-passed="true"' in html
    assert 'data-verdict="GET /v1/&lt;x&gt;: rps &gt; 100" data-passed="false"' in html
    assert 'id="no-thresholds"' not in html


def test_no_verdicts_says_so(run_data: tuple[RunSummary, Timeline]) -> None:
    assert '<p class="muted" id="no-thresholds">no thresholds</p>' in render_html(*run_data)


def test_extra_sections_are_inserted_as_given(run_data: tuple[RunSummary, Timeline]) -> None:
    section = ExtraSection(section_id="compare", title="Compared with run 1", body_html="<p>ok</p>")
    html = render_html(*run_data, extra_sections=[section])
    assert '<section id="compare">' in html
    assert "<p>ok</p>" in html
    assert '<a href="#compare">Compared with run 1</a>' in html


def test_store_text_is_escaped(run_data: tuple[RunSummary, Timeline]) -> None:
    html = render_html(*run_data)
    assert '</script><script>alert("not escaped")' not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(&#34;not escaped&#34;)" in html
    assert "/health?probe=<x>" not in html.replace(" ", "")


def test_plotly_is_embedded_once_and_nothing_is_fetched(
    run_data: tuple[RunSummary, Timeline],
) -> None:
    html = render_html(*run_data)
    assert html.count("plotly.js v") == 1
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?:""", html)


def test_script_json_cannot_close_its_script_element() -> None:
    text = str(script_json({"name": "</script><!--&"}))
    assert "<" not in text and ">" not in text and "&" not in text


def test_chart_ids_are_stable(run_data: tuple[RunSummary, Timeline]) -> None:
    assert [c.chart_id for c in report_charts(*run_data)] == [
        "chart-users",
        "chart-throughput",
        "chart-latency",
        "chart-status",
        "chart-distribution",
    ]


def test_percentile_curve_runs_from_the_min_to_the_max() -> None:
    histogram = LatencyHistogram()
    for value_us in range(1, 1001):
        histogram.record_us(value_us)
    curve = percentile_curve(histogram)
    assert curve.inverse_tail[0] == 1.0 and curve.percentile[0] == 0.0
    assert curve.latency_ms[0] == 0.001
    assert curve.inverse_tail[-1] == pytest.approx(1000.0)
    assert curve.latency_ms[-1] == 1.0
    # At 1/(1-q) = 10, q = 0.9: the 900th of 1000 values.
    assert curve.latency_ms[curve.inverse_tail.index(10.0)] == 0.9
    assert list(curve.latency_ms) == sorted(curve.latency_ms)
    assert len(curve.inverse_tail) == 3 * 20 + 1


def test_percentile_curve_of_nothing_is_empty() -> None:
    assert percentile_curve(LatencyHistogram()).inverse_tail == ()


def test_percentile_ticks_label_the_nines() -> None:
    values, labels = percentile_ticks(20_000.0)
    assert values == [1.0, 2.0, 10.0, 100.0, 1000.0, 10000.0]
    assert labels == ["0%", "50%", "90%", "99%", "99.9%", "99.99%"]


def test_unwritable_path_is_a_config_error(
    run_data: tuple[RunSummary, Timeline], tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="cannot write the HTML report to"):
        write_page(tmp_path / "file" / "r.html", render_html(*run_data), "HTML report")


def test_a_run_without_requests_still_renders() -> None:
    run = synthetic_run.run_info()
    html = render_html(summarize(run, [], []), timeline_of(run, [], []))
    assert "no requests were made" in html
    assert html.count('class="chart"') == 5


def test_labels_do_not_repeat_a_method_already_in_the_name() -> None:
    run = synthetic_run.run_info()
    seconds = [
        endpoint_second(START_S + offset_s, name=name, latencies_us=[1000, 2000])
        for offset_s in (0, 1)
        for name in ("GET /v1/products", "/v1/plain")
    ]
    summary, timeline = summarize(run, seconds, []), timeline_of(run, seconds, [])
    expected = {"GET /v1/products", "GET /v1/plain", "Total"}
    for chart in report_charts(summary, timeline):
        labels = {t.get("meta") or t["name"] for t in chart.figure["data"]}
        assert "GET GET /v1/products" not in labels, chart.chart_id
        if chart.chart_id == "chart-distribution":
            assert labels == expected
    html = render_html(summary, timeline)
    assert "GET GET" not in html
    assert 'data-endpoint="GET /v1/products"' in html
