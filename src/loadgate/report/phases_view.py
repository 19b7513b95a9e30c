"""Timing phases per endpoint (`--timings`): the terminal table and the JSON summary's `phases`.

Connect and TLS are counted only for the requests that opened a connection
(engine.fastclient.phases), so their percentiles are those of the
connections opened, and `new_connection_share` (connects over the requests
whose first byte came) says how often a request paid for one. A run
recorded without `--timings` has no phases and shows nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from loadgate.model import Part
from loadgate.report.terminal import format_ms
from loadgate.stats.parts import EndpointParts, PartLatency, RunParts

PHASES = (Part.CONNECT, Part.TLS, Part.TTFB, Part.DOWNLOAD)
HEADINGS = {Part.CONNECT: "Connect", Part.TLS: "TLS", Part.TTFB: "TTFB", Part.DOWNLOAD: "Download"}


def has_phases(endpoint: EndpointParts) -> bool:
    return Part.TTFB in endpoint.totals


def new_connection_share(endpoint: EndpointParts) -> float:
    """Requests that opened a connection over those whose response came (0 when none came)."""
    timed = endpoint.requests(Part.TTFB)
    return min(1.0, endpoint.requests(Part.CONNECT) / timed) if timed else 0.0


def phases_to_dict(endpoint: EndpointParts) -> dict[str, Any] | None:
    """`phases` of an endpoint in the JSON summary; None when it has none."""
    if not has_phases(endpoint):
        return None
    data: dict[str, Any] = {phase.value: _latency(endpoint.totals.get(phase)) for phase in PHASES}
    data["new_connection_share"] = round(new_connection_share(endpoint), 4)
    return data


def _latency(latency: PartLatency | None) -> dict[str, Any]:
    if latency is None:
        return {"requests": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None}
    return {
        "requests": latency.requests,
        "p50_ms": latency.p50_ms,
        "p95_ms": latency.p95_ms,
        "p99_ms": latency.p99_ms,
    }


def add_phases_to_endpoints(endpoints: Iterable[dict[str, Any]], parts: RunParts) -> None:
    """Give each endpoint of the JSON summary its `phases` (null when none)."""
    by_key = {(endpoint.method, endpoint.name): endpoint for endpoint in parts.endpoints}
    for data in endpoints:
        found = by_key.get((data["method"], data["name"]))
        data["phases"] = phases_to_dict(found) if found is not None else None


def phases_table(parts: RunParts) -> Table | None:
    """One row per endpoint with phases: p50 / p95 / p99 of each; None when none has any."""
    shown = [endpoint for endpoint in parts.endpoints if has_phases(endpoint)]
    if not shown:
        return None
    table = Table(
        title="Timing phases (ms, p50 / p95 / p99) per endpoint",
        title_justify="left",
        caption="Connect and TLS: of the requests that opened a connection.",
        caption_justify="left",
    )
    table.add_column("Type")
    table.add_column("Name")
    for phase in PHASES:
        table.add_column(HEADINGS[phase], justify="right")
    table.add_column("New conn.", justify="right")
    for endpoint in shown:
        table.add_row(
            Text(endpoint.method),  # from the store: text, never markup
            Text(endpoint.name),
            *(_cell(endpoint.totals.get(phase)) for phase in PHASES),
            f"{new_connection_share(endpoint):.1%}",
        )
    return table


def _cell(latency: PartLatency | None) -> str:
    if latency is None:
        return "-"
    return " / ".join(format_ms(v) for v in (latency.p50_ms, latency.p95_ms, latency.p99_ms))


def print_phases(parts: RunParts, console: Console) -> None:
    table = phases_table(parts)
    if table is not None:
        console.print(table)
