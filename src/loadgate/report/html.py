"""The HTML report: one self-contained, offline file with interactive charts and tables."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import jinja2
import plotly.offline
from markupsafe import Markup

from loadgate import __version__
from loadgate.analysis.finding import Finding
from loadgate.errors import ConfigError
from loadgate.model import endpoint_label
from loadgate.report.html_charts import Chart, mark_findings, report_charts
from loadgate.report.json_summary import endpoint_to_dict
from loadgate.report.parts_charts import parts_charts
from loadgate.report.terminal import format_duration, format_ms
from loadgate.stats.parts import NO_PARTS, RunParts
from loadgate.stats.summary import EndpointSummary, RunSummary
from loadgate.stats.timeline import Timeline

TEMPLATE_NAME = "report.html.j2"
MAX_ERRORS_SHOWN = 200
# Columns of the endpoint table: (JSON summary key, heading, kind of number).
ENDPOINT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("requests", "Requests", "count"),
    ("failures", "Failures", "count"),
    ("error_rate", "Error rate", "ratio"),
    ("rps", "req/s", "rate"),
    ("p50_ms", "p50", "ms"),
    ("p90_ms", "p90", "ms"),
    ("p95_ms", "p95", "ms"),
    ("p99_ms", "p99", "ms"),
    ("p999_ms", "p99.9", "ms"),
    ("max_ms", "max", "ms"),
    ("mean_ms", "mean", "ms"),
)


class Verdict(Protocol):
    """What the report needs of one threshold's outcome (the thresholds' own type fits)."""

    @property
    def label(self) -> str: ...

    @property
    def passed(self) -> bool: ...

    @property
    def measured(self) -> str: ...

    @property
    def bound(self) -> str: ...


@dataclass(frozen=True, kw_only=True)
class ExtraSection:
    """A section another feature adds to the report (a comparison, say).

    `body_html` is inserted as is: its producer must escape what it got from
    the store. Plotly is loaded on the page, so the body may hold charts.
    """

    section_id: str
    title: str
    body_html: str


@dataclass(frozen=True, kw_only=True)
class Cell:
    """A number of the summary: its JSON key and value, and how it is shown."""

    metric: str
    value: str
    text: str


def format_number(kind: str, value: float) -> str:
    """How the table shows a JSON summary value of one kind."""
    if kind == "count":
        return f"{int(value):,}"
    if kind == "ratio":
        return f"{value:.2%}"
    if kind == "rate":
        return f"{value:,.2f}"
    return format_ms(value)


def endpoint_cells(endpoint: EndpointSummary) -> list[Cell]:
    """The table's cells, valued exactly as the JSON summary has them."""
    document = endpoint_to_dict(endpoint)
    return [
        Cell(
            metric=key,
            value=json.dumps(document[key]),
            text=format_number(kind, document[key]),
        )
        for key, _heading, kind in ENDPOINT_COLUMNS
    ]


def _status_row(endpoint: EndpointSummary) -> dict[str, Any]:
    document = endpoint_to_dict(endpoint)
    return {
        "label": endpoint_label(endpoint.method, endpoint.name),
        "expected": document["expected_status_counts"],
        "unexpected": document["unexpected_status_counts"],
        "expected_json": json.dumps(document["expected_status_counts"], sort_keys=True),
        "unexpected_json": json.dumps(document["unexpected_status_counts"], sort_keys=True),
    }


def _setting_text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def _run_facts(summary: RunSummary, scope: str | None) -> list[tuple[str, str]]:
    run = summary.run
    ended = f"{run.ended_at:%Y-%m-%d %H:%M:%S} UTC" if run.ended_at else "not finished"
    status = run.status.value + (f" ({run.status_reason})" if run.status_reason else "")
    return [
        ("Run", f"{run.run_id} · {run.name}"),
        ("Status", status),
        ("Target host", run.host),
        ("Script", run.script_path),
        ("Started", f"{run.started_at:%Y-%m-%d %H:%M:%S} UTC"),
        ("Ended", ended),
        ("Duration", format_duration(summary.duration_s)),
        ("Users (max)", f"{summary.users_max:,}"),
        *((("Range shown", scope),) if scope else ()),
    ]


def _headline(summary: RunSummary) -> list[tuple[str, str]]:
    total = summary.total
    return [
        ("requests", f"{total.requests:,}"),
        ("error rate", f"{total.error_rate:.2%}"),
        ("req/s", f"{total.rps:,.2f}"),
        ("p50", f"{format_ms(total.p50_ms)} ms"),
        ("p95", f"{format_ms(total.p95_ms)} ms"),
        ("p99", f"{format_ms(total.p99_ms)} ms"),
        ("users", f"{summary.users_max:,}"),
        ("duration", format_duration(summary.duration_s)),
    ]


def script_json(document: object) -> Markup:
    """JSON safe inside a <script> element: no '<', '>' or '&' that could end it."""
    text = json.dumps(document, separators=(",", ":"), allow_nan=False)
    escaped = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(escaped)  # escaped above for the script context


def template_environment(*packages: str) -> jinja2.Environment:
    """The Jinja set-up of every HTML page: our templates, escaped, strict about missing names.

    `packages`: more packages whose `templates/` are searched before the report's.
    """
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader(package, "templates")
                for package in (*packages, "loadgate.report")
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def report_context(
    summary: RunSummary,
    timeline: Timeline,
    *,
    verdicts: Sequence[Verdict] = (),
    extra_sections: Sequence[ExtraSection] = (),
    generated_at: datetime | None = None,
    scope: str | None = None,
    findings: Sequence[Finding] = (),
    extra_charts: Sequence[Chart] = (),
    parts: RunParts = NO_PARTS,
) -> dict[str, Any]:
    """What report_header.html.j2 and report_body.html.j2 show: the report's sections.

    The one-file report and the dashboard's run page render the same context.
    `scope` says which part of the run the report covers, when not all of it.
    `findings` are listed first, each linked to the chart it is shaded on.
    `extra_charts` over time (the target's scraped metrics) come under the client's.
    `parts` (cache hits, upstream time) add their charts when there are any.
    """
    run = summary.run
    endpoints = (*summary.endpoints, summary.total)
    charts = mark_findings(
        (*report_charts(summary, timeline), *parts_charts(parts, timeline), *extra_charts),
        findings,
    )
    return {
        "summary": summary,
        "run": run,
        "version": __version__,
        "generated_at": (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "headline": _headline(summary),
        "facts": _run_facts(summary, scope),
        "settings": [(str(k), _setting_text(v)) for k, v in sorted(run.settings.items())],
        "columns": [(key, heading, kind) for key, heading, kind in ENDPOINT_COLUMNS],
        "rows": [
            {
                "method": e.method,
                "name": e.name,
                "label": endpoint_label(e.method, e.name),
                "is_total": e is summary.total,
                "cells": endpoint_cells(e),
            }
            for e in endpoints
        ],
        "status_rows": [_status_row(e) for e in endpoints],
        "errors": summary.errors[:MAX_ERRORS_SHOWN],
        "errors_hidden": max(0, len(summary.errors) - MAX_ERRORS_SHOWN),
        "findings": list(findings),
        "verdicts": list(verdicts),
        "verdicts_failed": sum(1 for v in verdicts if not v.passed),
        "extra_sections": [
            (s.section_id, s.title, Markup(s.body_html))  # trusted by contract
            for s in extra_sections
        ],
        # The selector lists the total first: the charts open on it.
        "endpoint_labels": [
            endpoint_label(e.method, e.name) for e in (summary.total, *summary.endpoints)
        ],
        "charts": charts,
        "chart_json": {c.chart_id: script_json(c.figure) for c in charts},
    }


def render_html(
    summary: RunSummary,
    timeline: Timeline,
    *,
    verdicts: Sequence[Verdict] = (),
    extra_sections: Sequence[ExtraSection] = (),
    generated_at: datetime | None = None,
    scope: str | None = None,
    findings: Sequence[Finding] = (),
    extra_charts: Sequence[Chart] = (),
    parts: RunParts = NO_PARTS,
) -> str:
    """The whole report as one HTML document, plotly.js included (report_context's sections)."""
    context = report_context(
        summary,
        timeline,
        verdicts=verdicts,
        extra_sections=extra_sections,
        generated_at=generated_at,
        scope=scope,
        findings=findings,
        extra_charts=extra_charts,
        parts=parts,
    )
    return render_report(context)


def render_report(context: dict[str, Any]) -> str:
    """report_context's sections as one HTML document, plotly.js included."""
    context = {**context, "plotly_js": Markup(plotly.offline.get_plotlyjs())}  # plotly's bundle
    return template_environment().get_template(TEMPLATE_NAME).render(context)


def write_page(path: Path | str, document: str, what: str) -> None:
    """Write an HTML `document` to `path`, creating its folders; unwritable: ConfigError."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(document, encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"cannot write the {what} to {path}: {reason}") from exc
