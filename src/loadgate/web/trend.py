"""A saved test's trend: p50/p95/p99, req/s and error rate over its runs, regressions marked.

Read from the `runs` table's listed numbers (no histogram decoded); the
regressions are `loadgate compare`'s verdict between each of the latest
completed runs and the one before it (kept, per pair of settled runs, by a
RegressionCache).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import plotly.graph_objects as go

from loadgate.model import RunListing, RunStatus
from loadgate.report.html import script_json
from loadgate.store import RunStore
from loadgate.web.regression_cache import RegressionCache

# Comparisons are a bootstrap each: only the latest runs are judged.
MAX_COMPARED_RUNS = 10
LATENCY_COLORS = {"p50": "#1565c0", "p95": "#ef6c00", "p99": "#c62828"}


@dataclass(frozen=True, kw_only=True)
class Trend:
    """The trend's two figures (as script-safe JSON) and the runs found to regress."""

    latency_json: str
    throughput_json: str
    regressed_run_ids: tuple[int, ...]


def regressions(
    store: RunStore, completed: Sequence[RunListing], verdicts: RegressionCache
) -> tuple[int, ...]:
    """Runs (of `completed`, oldest first) that regressed against the run before them."""
    latest = completed[-(MAX_COMPARED_RUNS + 1) :]
    return tuple(
        current.run.run_id
        for previous, current in pairwise(latest)
        if verdicts.has_regression(store, previous.run, current.run)
    )


def _layout(y_title: str) -> dict[str, Any]:
    return {
        "template": "plotly_white",
        "height": 300,
        "margin": {"l": 60, "r": 20, "t": 10, "b": 40},
        "xaxis": {"title": {"text": "run"}, "type": "category"},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        "legend": {"orientation": "h"},
    }


def trend_of(store: RunStore, listings: Sequence[RunListing], verdicts: RegressionCache) -> Trend:
    """The trend of a test's runs (`listings`, any order); runs without numbers are left out.

    Regressions are judged through `verdicts`, which keeps those of settled runs.
    """
    ended = sorted(
        (x for x in listings if x.p95_ms is not None and x.run.ended_at is not None),
        key=lambda x: x.run.run_id,
    )
    completed = [x for x in ended if x.run.status is RunStatus.COMPLETED]
    regressed = regressions(store, completed, verdicts)
    labels = [str(x.run.run_id) for x in ended]
    latency = [
        go.Scatter(
            x=labels,
            y=[getattr(x, f"{name}_ms") for x in ended],
            name=name,
            mode="lines+markers",
            line={"color": color},
            hovertemplate=f"run %{{x}} {name} %{{y:.3f}} ms<extra></extra>",
        )
        for name, color in LATENCY_COLORS.items()
    ]
    regressed_points = [x for x in ended if x.run.run_id in regressed]
    latency.append(
        go.Scatter(
            x=[str(x.run.run_id) for x in regressed_points],
            y=[x.p95_ms for x in regressed_points],
            name="regression",
            mode="markers",
            marker={"symbol": "x", "size": 14, "color": "#b71c1c"},
            hovertemplate="run %{x}: a regression (loadgate compare)<extra></extra>",
        )
    )
    throughput = [
        go.Scatter(x=labels, y=[x.rps for x in ended], name="req/s", mode="lines+markers"),
        go.Scatter(
            x=labels,
            y=[100 * x.error_rate for x in ended],
            name="error rate %",
            mode="lines+markers",
            yaxis="y2",
            line={"color": "#c62828"},
        ),
    ]
    throughput_layout = _layout("req/s") | {
        "yaxis2": {"title": {"text": "error rate %"}, "overlaying": "y", "side": "right",
                   "rangemode": "tozero"},
    }  # fmt: skip
    return Trend(
        latency_json=str(script_json(go.Figure(latency, _layout("ms")).to_plotly_json())),
        throughput_json=str(script_json(go.Figure(throughput, throughput_layout).to_plotly_json())),
        regressed_run_ids=regressed,
    )
