"""Small builders of model values for the store tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from loadgate.model import EndpointSecond, NewRun
from loadgate.stats import LatencyHistogram

STARTED_AT = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def new_run(name: str = "checkout", **changes: Any) -> NewRun:
    values: dict[str, Any] = {
        "name": name,
        "script_path": "examples/seed/checkout.py",
        "script_text": "from locust import HttpUser\n# é ✓\n",
        "host": "http://127.0.0.1:8080",
        "started_at": STARTED_AT,
        "settings": {"users": 20, "spawn_rate": 2.5, "tags": ["a", "b"], "nested": {"x": None}},
    }
    values.update(changes)
    return NewRun(**values)


def histogram_of(values_us: Iterable[int]) -> LatencyHistogram:
    histogram = LatencyHistogram()
    for value_us in values_us:
        histogram.record_us(value_us)
    return histogram


def endpoint_second(
    second: int,
    name: str = "/items",
    method: str = "GET",
    values_us: Iterable[int] = (250, 900, 1500),
    **changes: Any,
) -> EndpointSecond:
    histogram = histogram_of(values_us)
    values: dict[str, Any] = {
        "second": second,
        "method": method,
        "name": name,
        "requests": histogram.count,
        "failures": 0,
        "bytes_received": 100 * histogram.count,
        "histogram": histogram.encode(),
        "ok_status_counts": {"200": histogram.count},
    }
    values.update(changes)
    return EndpointSecond(**values)
