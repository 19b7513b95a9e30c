"""A run comparison rendered: terminal table and conclusion, JSON document, HTML page or section."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.offline
from markupsafe import Markup
from rich.console import Console
from rich.table import Table
from rich.text import Text

from loadgate import __version__
from loadgate.analysis.compare_types import (
    Change,
    ComparedMetric,
    Comparison,
    EndpointComparison,
    MetricComparison,
    Presence,
)
from loadgate.model import RunInfo
from loadgate.report.html import ExtraSection, script_json, template_environment, write_page
from loadgate.report.html_charts import percentile_curve, percentile_ticks, plotly_text
from loadgate.report.terminal import format_duration, format_ms

SCHEMA_VERSION = 1
MAX_FINDINGS_IN_CONCLUSION = 6
CHANGE_STYLES: dict[Change, str] = {
    Change.REGRESSION: "bold red",
    Change.IMPROVEMENT: "bold green",
    Change.UNCHANGED: "",
    Change.INSUFFICIENT: "yellow",
    Change.INFORMATIONAL: "dim",
}
METRIC_LABELS: dict[ComparedMetric, str] = {
    ComparedMetric.P50: "p50",
    ComparedMetric.P95: "p95",
    ComparedMetric.P99: "p99",
    ComparedMetric.RPS: "req/s",
    ComparedMetric.ERROR_RATE: "errors",
}
COLOR_BASE = "#1565c0"
COLOR_CANDIDATE = "#ef6c00"


# -- numbers as text ---------------------------------------------------------


def _is_latency(metric: ComparedMetric) -> bool:
    return metric in (ComparedMetric.P50, ComparedMetric.P95, ComparedMetric.P99)


def format_value(metric: ComparedMetric, value: float) -> str:
    if _is_latency(metric):
        return f"{format_ms(value)} ms"
    if metric == ComparedMetric.RPS:
        return f"{value:,.1f}"
    return f"{value:.2%}"


def format_change(metric: ComparedMetric, change: float) -> str:
    """A signed difference: ms for latencies, req/s, percentage points for the error rate."""
    sign = "+" if change >= 0 else "−"
    if _is_latency(metric):
        return f"{sign}{format_ms(abs(change))} ms"
    if metric == ComparedMetric.RPS:
        return f"{sign}{abs(change):,.1f}"
    return f"{sign}{abs(change) * 100:.2f} pp"


def format_relative(relative: float | None) -> str:
    if relative is None:
        return "–"
    return f"{'+' if relative >= 0 else '−'}{abs(relative):.1%}"


def format_interval(metric: MetricComparison) -> str:
    if metric.interval is None:
        return "–"
    low, high = (format_change(metric.metric, bound) for bound in metric.interval)
    return f"{low} … {high}"


def _run_line(role: str, run: RunInfo) -> str:
    return (
        f"{role}: run {run.run_id} {run.name} → {run.host} · "
        f"{run.started_at:%Y-%m-%d %H:%M:%S} UTC · {format_duration(run.duration_s)} · "
        f"{run.status.value}"
    )


def method_line(comparison: Comparison) -> str:
    s = comparison.settings
    return (
        f"per-second block bootstrap, {s.resamples} resamples, {s.confidence:.0%} interval; "
        f"a change is called when the whole interval is beyond {s.min_relative_change:.0%} "
        f"and {s.min_latency_delta_ms:g} ms (errors: "
        f"{s.min_error_rate_delta * 100:.2g} pp)"
    )


def _finding_text(endpoint: EndpointComparison, metric: MetricComparison) -> str:
    return (
        f"{endpoint.label} {METRIC_LABELS[metric.metric]} "
        f"{format_change(metric.metric, metric.delta)} ({format_relative(metric.relative)})"
    )


def conclusion(comparison: Comparison) -> str:
    """One line saying what changed, in plain text."""
    verdict = comparison.verdict
    if verdict == Change.UNCHANGED:
        return "unchanged: no change beyond run-to-run noise"
    if verdict == Change.INSUFFICIENT:
        return "insufficient data: the runs are too short or too sparse to judge"
    findings = comparison.findings(verdict)
    shown = ", ".join(_finding_text(e, m) for e, m in findings[:MAX_FINDINGS_IN_CONCLUSION])
    hidden = len(findings) - MAX_FINDINGS_IN_CONCLUSION
    more = f" and {hidden} more" if hidden > 0 else ""
    tail = "; no regression" if verdict == Change.IMPROVEMENT else ""
    return f"{verdict.value}: {shown}{more}{tail}"


def common_change_note(comparison: Comparison) -> str:
    """A hint when every endpoint's median moved by the same factor; '' otherwise."""
    shared = comparison.common_p50_change
    if shared is None:
        return ""
    return (
        f"every endpoint's p50 moved by about {format_relative(shared)}: one cause under all "
        "of them, in the target or the machine that ran the test (repeat both runs to tell)"
    )


# -- terminal ------------------------------------------------------------------


def _endpoint_rows(table: Table, endpoint: EndpointComparison) -> None:
    bold = "bold" if endpoint.method == "" else ""
    if endpoint.presence != Presence.BOTH:
        where = "candidate only" if endpoint.presence == Presence.ADDED else "base only"
        requests = max(endpoint.base_requests, endpoint.candidate_requests)
        table.add_row(
            Text(endpoint.label, style=bold),
            "",
            f"{endpoint.base_requests:,} req",
            f"{endpoint.candidate_requests:,} req",
            "",
            "",
            "",
            Text(f"{endpoint.presence.value} ({where}, {requests:,} req)", style="cyan"),
        )
        return
    shown_note = ""
    for index, metric in enumerate(endpoint.metrics):
        verdict = Text(metric.verdict.value, style=CHANGE_STYLES[metric.verdict])
        # An endpoint short of data says why once, not on each of its rows.
        if metric.verdict == Change.INSUFFICIENT and metric.note != shown_note:
            verdict.append(f" ({metric.note})", style="dim")
            shown_note = metric.note
        table.add_row(
            Text(endpoint.label if index == 0 else "", style=bold),
            METRIC_LABELS[metric.metric],
            format_value(metric.metric, metric.base),
            format_value(metric.metric, metric.candidate),
            format_change(metric.metric, metric.delta),
            format_relative(metric.relative),
            format_interval(metric),
            verdict,
        )


def comparison_table(comparison: Comparison) -> Table:
    confidence = f"{comparison.settings.confidence:.0%}"
    table = Table(title="Base → candidate", title_justify="left")
    table.add_column("Endpoint", no_wrap=True)
    table.add_column("Metric", no_wrap=True)
    for heading in ("Base", "Candidate", "Change", "%", f"{confidence} interval"):
        table.add_column(heading, justify="right", no_wrap=True)
    table.add_column("Verdict")
    for endpoint in comparison.endpoints:
        _endpoint_rows(table, endpoint)
        table.add_section()
    _endpoint_rows(table, comparison.total)
    return table


def print_comparison(
    comparison: Comparison, base: RunInfo, candidate: RunInfo, console: Console
) -> None:
    """The runs compared, the table, and the one-line conclusion."""
    console.print(Text(_run_line("base     ", base)))
    console.print(Text(_run_line("candidate", candidate)))
    console.print(comparison_table(comparison))
    console.print(f"[dim]{method_line(comparison)}[/]", highlight=False)
    note = common_change_note(comparison)
    if note:
        console.print(Text(note, style="yellow"))
    style = CHANGE_STYLES[comparison.verdict] or "green"
    console.print(Text(conclusion(comparison), style=style))


# -- JSON ----------------------------------------------------------------------


def _rounded(metric: ComparedMetric, value: float) -> float:
    # Latencies are whole µs (3 decimals of a ms); ratios keep 6 decimals.
    return round(value, 6 if metric == ComparedMetric.ERROR_RATE else 3)


def metric_to_dict(metric: MetricComparison) -> dict[str, Any]:
    m = metric.metric
    return {
        "unit": metric.unit,
        "base": _rounded(m, metric.base),
        "candidate": _rounded(m, metric.candidate),
        "delta": _rounded(m, metric.delta),
        "relative": None if metric.relative is None else round(metric.relative, 6),
        "interval": None
        if metric.interval is None
        else [_rounded(m, bound) for bound in metric.interval],
        "verdict": metric.verdict.value,
        "note": metric.note,
    }


def endpoint_comparison_to_dict(endpoint: EndpointComparison) -> dict[str, Any]:
    return {
        "method": endpoint.method,
        "name": endpoint.name,
        "presence": endpoint.presence.value,
        "base_requests": endpoint.base_requests,
        "candidate_requests": endpoint.candidate_requests,
        "metrics": {m.metric.value: metric_to_dict(m) for m in endpoint.metrics},
    }


def _run_to_dict(run: RunInfo) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "name": run.name,
        "status": run.status.value,
        "started_at": run.started_at.isoformat(),
        "duration_s": round(run.duration_s, 3),
        "host": run.host,
        "is_baseline": run.is_baseline,
    }


def comparison_to_dict(comparison: Comparison, base: RunInfo, candidate: RunInfo) -> dict[str, Any]:
    settings = comparison.settings

    def findings(verdict: Change) -> list[dict[str, Any]]:
        return [
            {"method": e.method, "name": e.name, "metric": m.metric.value, **metric_to_dict(m)}
            for e, m in comparison.findings(verdict)
        ]

    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": comparison.verdict.value,
        "conclusion": conclusion(comparison),
        "common_p50_change": None
        if comparison.common_p50_change is None
        else round(comparison.common_p50_change, 6),
        "base": _run_to_dict(base),
        "candidate": _run_to_dict(candidate),
        "method": {"name": "per-second block bootstrap", **asdict(settings)},
        "regressions": findings(Change.REGRESSION),
        "improvements": findings(Change.IMPROVEMENT),
        "endpoints": [endpoint_comparison_to_dict(e) for e in comparison.endpoints],
        "total": endpoint_comparison_to_dict(comparison.total),
    }


def comparison_to_json(comparison: Comparison, base: RunInfo, candidate: RunInfo) -> str:
    return json.dumps(comparison_to_dict(comparison, base, candidate), indent=2) + "\n"


# -- HTML ----------------------------------------------------------------------


def _curve_figure(endpoint: EndpointComparison) -> dict[str, Any]:
    traces = []
    widest = 10.0
    for role, histogram, color in (
        ("base", endpoint.base_histogram, COLOR_BASE),
        ("candidate", endpoint.candidate_histogram, COLOR_CANDIDATE),
    ):
        curve = percentile_curve(histogram)
        widest = max(widest, *curve.inverse_tail, 0.0)
        traces.append(
            go.Scatter(
                x=curve.inverse_tail,
                y=curve.latency_ms,
                customdata=curve.percentile,
                name=role,
                mode="lines",
                line={"color": color, "width": 2},
                hovertemplate=f"{role} p%{{customdata:.4g}}: %{{y:.3f}} ms<extra></extra>",
            )
        )
    tick_values, tick_labels = percentile_ticks(widest)
    layout = {
        "template": "plotly_white",
        "height": 300,
        "margin": {"l": 64, "r": 16, "t": 40, "b": 48},
        "title": {"text": plotly_text(endpoint.label), "font": {"size": 13}},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 1, "xanchor": "right"},
        "xaxis": {
            "type": "log",
            "title": {"text": "percentile"},
            "tickvals": tick_values,
            "ticktext": tick_labels,
        },
        "yaxis": {"title": {"text": "ms"}, "rangemode": "tozero"},
    }
    figure: dict[str, Any] = go.Figure(data=traces, layout=layout).to_plotly_json()
    return figure


def _html_rows(endpoint: EndpointComparison) -> list[dict[str, Any]]:
    return [
        {
            "metric": m.metric.value,
            "label": METRIC_LABELS[m.metric],
            "base": format_value(m.metric, m.base),
            "candidate": format_value(m.metric, m.candidate),
            "change": format_change(m.metric, m.delta),
            "relative": format_relative(m.relative),
            "interval": format_interval(m),
            "verdict": m.verdict.value,
            "verdict_class": m.verdict.name.lower(),
            "note": m.note,
        }
        for m in endpoint.metrics
    ]


def comparison_context(comparison: Comparison, base: RunInfo, candidate: RunInfo) -> dict[str, Any]:
    """What compare_body.html.j2 shows: the report section, the one-file page, the dashboard."""
    endpoints = (*comparison.endpoints, comparison.total)
    charts = [
        (f"compare-curve-{index}", script_json(_curve_figure(e)))
        for index, e in enumerate(endpoints)
        if e.base_histogram.count and e.candidate_histogram.count
    ]
    return {
        "base": base,
        "candidate": candidate,
        "verdict": comparison.verdict.value,
        "verdict_class": comparison.verdict.name.lower(),
        "conclusion": conclusion(comparison),
        "note": common_change_note(comparison),
        "method": method_line(comparison),
        "endpoints": [
            {
                "label": e.label,
                "is_total": e is comparison.total,
                "presence": e.presence.value,
                "base_requests": e.base_requests,
                "candidate_requests": e.candidate_requests,
                "rows": _html_rows(e),
            }
            for e in endpoints
        ],
        "charts": charts,
        "comparison_json": script_json(comparison_to_dict(comparison, base, candidate)),
    }


def comparison_section(comparison: Comparison, base: RunInfo, candidate: RunInfo) -> ExtraSection:
    """The comparison as a section of a run's HTML report (its charts drawn by the report)."""
    body = (
        template_environment()
        .get_template("compare_body.html.j2")
        .render(comparison_context(comparison, base, candidate))
    )
    return ExtraSection(
        section_id="comparison", title=f"Compared with run {base.run_id}", body_html=body
    )


def render_comparison_html(
    comparison: Comparison,
    base: RunInfo,
    candidate: RunInfo,
    *,
    generated_at: datetime | None = None,
) -> str:
    """A self-contained page: tables, percentile curves of both runs, plotly.js included."""
    context = comparison_context(comparison, base, candidate)
    context.update(
        version=__version__,
        generated_at=(generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S UTC"),
        plotly_js=Markup(plotly.offline.get_plotlyjs()),  # plotly's own bundle
    )
    return template_environment().get_template("compare.html.j2").render(context)


def write_comparison_html(
    path: Path | str, comparison: Comparison, base: RunInfo, candidate: RunInfo
) -> None:
    """Write the comparison page to `path` (folders created); unwritable: ConfigError."""
    write_page(path, render_comparison_html(comparison, base, candidate), "comparison report")
