"""The saturation finding on a stepped ramp against the reference gateway, with its healthy twin.

The catalog upstream answers in 100 ms (a latency fault) from one instance.
With a pool of 2 connections (the cap), 2 users without think time already
use it fully (20 req/s); more users only queue. The knee must be reported
within one step of 2 users, and the queue as the gateway's own time (the
gateway-time finding: waiting for a connection is time in the gateway).
Without the cap (the default pool of 128), the same ramp scales and gives
no saturation finding.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO, RunLoadgate, read_json
from tests.fixtures.gateway import RunningGateway

pytestmark = pytest.mark.slow

SCRIPT = REPO / "tests" / "e2e" / "scripts" / "stepped_ramp.py"
CAP_REACHED_AT_USERS = 2
SLOW_CATALOG = """
[upstreams.catalog]
instances = 1
pool_timeout_s = 10.0
[upstreams.catalog.fault]
latency_ms = 100
"""
CAPPED = SLOW_CATALOG.replace("pool_timeout_s = 10.0", "pool_timeout_s = 10.0\nmax_connections = 2")


def ramp(
    loadgate: RunLoadgate, db_url: str, tmp_path: Path, host: str, name: str
) -> dict[str, Any]:
    json_file = tmp_path / f"{name}.json"
    result = loadgate(
        "run", SCRIPT, "-H", host, "--db", db_url, "--json", json_file, "--name", name
    )
    assert result.returncode == 0, result.stderr
    return read_json(json_file)


def test_a_capped_pool_is_a_knee_within_one_step_of_the_cap(
    gateway_factory: Callable[..., RunningGateway],
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
) -> None:
    capped = ramp(loadgate, db_url, tmp_path, gateway_factory(CAPPED).api_url, "capped")
    (finding,) = [f for f in capped["findings"] if f["kind"] == "saturation"]
    numbers = finding["numbers"]
    assert numbers["shape"] == "knee", finding
    assert abs(numbers["knee_users"] - CAP_REACHED_AT_USERS) <= 1, finding
    assert 14 <= numbers["knee_rps"] <= 22, finding  # 2 connections × 10 req/s
    assert numbers["max_users_p95_ms"] > numbers["knee_p95_ms"]
    # The queue is the gateway's (waiting for one of its 2 connections), not the
    # upstream's (100 ms throughout): the gateway-time finding says so.
    (gateway,) = [f for f in capped["findings"] if f["kind"] == "gateway_time"]
    assert gateway["endpoint"] == "GET products"
    numbers = gateway["numbers"]
    assert numbers["gateway_p95_high_ms"] > 100, gateway
    assert numbers["gateway_p95_low_ms"] < 10, gateway
    assert 100 <= numbers["upstream_p95_low_ms"] < 150, gateway
    assert 100 <= numbers["upstream_p95_high_ms"] < 150, gateway
    assert {f["kind"] for f in capped["findings"]} == {"saturation", "gateway_time"}

    free = ramp(loadgate, db_url, tmp_path, gateway_factory(SLOW_CATALOG).api_url, "free")
    assert free["findings"] == [], free["findings"]
