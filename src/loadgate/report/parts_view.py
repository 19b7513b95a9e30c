"""Cache hits and misses, upstream and gateway time per endpoint: the terminal table and JSON.

Shown only for endpoints whose responses carried a cache status or a
timing split (engine.gateway_headers); a run without any shows nothing.
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

HIT, MISS, UPSTREAM, GATEWAY = Part.CACHE_HIT, Part.CACHE_MISS, Part.UPSTREAM, Part.GATEWAY


def cache_to_dict(endpoint: EndpointParts) -> dict[str, Any] | None:
    """`cache` of an endpoint in the JSON summary; None without hits or misses."""
    hit, miss = endpoint.totals.get(HIT), endpoint.totals.get(MISS)
    if hit is None and miss is None:
        return None
    hits, misses = endpoint.requests(HIT), endpoint.requests(MISS)
    return {
        "hits": hits,
        "misses": misses,
        "hit_ratio": round(hits / (hits + misses), 4),
        **_latency("hit", hit),
        **_latency("miss", miss),
    }


def timing_to_dict(endpoint: EndpointParts) -> dict[str, Any] | None:
    """`timing` of an endpoint in the JSON summary; None without an upstream/gateway split."""
    upstream, gateway = endpoint.totals.get(UPSTREAM), endpoint.totals.get(GATEWAY)
    if upstream is None or gateway is None:
        return None
    return {
        "requests": upstream.requests,
        **_latency("upstream", upstream),
        **_latency("gateway", gateway),
        "gateway_share_p50": round(_gateway_share(upstream, gateway), 4),
    }


def _gateway_share(upstream: PartLatency, gateway: PartLatency) -> float:
    """The gateway's part of the median response: its p50 over both p50s."""
    both_ms = upstream.p50_ms + gateway.p50_ms
    return gateway.p50_ms / both_ms if both_ms else 0.0


def _latency(prefix: str, latency: PartLatency | None) -> dict[str, float | None]:
    return {
        f"{prefix}_p50_ms": latency.p50_ms if latency else None,
        f"{prefix}_p95_ms": latency.p95_ms if latency else None,
    }


def add_parts_to_endpoints(endpoints: Iterable[dict[str, Any]], parts: RunParts) -> None:
    """Give each endpoint of the JSON summary its `cache` and `timing` (null when none)."""
    by_key = {(endpoint.method, endpoint.name): endpoint for endpoint in parts.endpoints}
    for data in endpoints:
        found = by_key.get((data["method"], data["name"]))
        data["cache"] = cache_to_dict(found) if found is not None else None
        data["timing"] = timing_to_dict(found) if found is not None else None


def parts_table(parts: RunParts) -> Table | None:
    """One row per endpoint with a cache status or a split; None when no endpoint has one.

    (Endpoints whose parts are only the rate-limit finding's counts get no row.)
    """
    shown = [
        (endpoint, cache_to_dict(endpoint), timing_to_dict(endpoint))
        for endpoint in parts.endpoints
    ]
    shown = [row for row in shown if row[1] is not None or row[2] is not None]
    if not shown:
        return None
    table = Table(
        title="Cache and upstream time (ms) per endpoint", title_justify="left", show_lines=False
    )
    table.add_column("Type")
    table.add_column("Name")
    for heading in ("Hit ratio", "Hit p50", "Miss p50", "Upstream p50", "Upstream p95",
                    "Gateway p50", "Gateway p95", "Gateway share"):  # fmt: skip
        table.add_column(heading, justify="right")
    for endpoint, cache, timing in shown:
        table.add_row(
            Text(endpoint.method),  # from the store: text, never markup
            Text(endpoint.name),
            f"{cache['hit_ratio']:.1%}" if cache else "",
            _ms(cache, "hit_p50_ms"),
            _ms(cache, "miss_p50_ms"),
            _ms(timing, "upstream_p50_ms"),
            _ms(timing, "upstream_p95_ms"),
            _ms(timing, "gateway_p50_ms"),
            _ms(timing, "gateway_p95_ms"),
            f"{timing['gateway_share_p50']:.0%}" if timing else "",
        )
    return table


def _ms(data: dict[str, Any] | None, key: str) -> str:
    value = data.get(key) if data else None
    return format_ms(value) if value is not None else ""


def print_parts(parts: RunParts, console: Console) -> None:
    table = parts_table(parts)
    if table is not None:
        console.print(table)
