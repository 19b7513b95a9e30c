"""Cache hits and misses, upstream and gateway time, on real runs against the reference gateway.

The search route is cached for 1 s, and its upstream answers in 20 ms (a
latency fault): misses take the 20 ms, hits do not, and the 20 ms show as
upstream time. Both of Locust's clients send the same search (HttpUser and
FastHttpUser), so both kinds of response object are read. The twins: the
same route uncached (BYPASS: no cache finding), and a target whose
responses carry none of the headers (no split at all). The gateway-side
time (a pool too small, whose waits are the gateway's) is tested with the
saturation finding, in test_saturation_gateway.py. Loads are small: 4 users
for 8 s or less.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO, RunLoadgate, Target, endpoints_by_name, read_json
from tests.fixtures.gateway import RunningGateway

pytestmark = pytest.mark.slow

SCRIPT = REPO / "tests" / "e2e" / "scripts" / "cache_traffic.py"
UPSTREAM_MS = 20
CACHED = f"""
[routes.search]
cache_ttl_s = 1
[upstreams.search.fault]
latency_ms = {UPSTREAM_MS}
"""
UNCACHED = CACHED.replace("cache_ttl_s = 1", "cache_ttl_s = 0")
ENDPOINTS = ("search fast", "search requests")


def run(
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
    host: str,
    *,
    seconds: int = 8,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    json_file = tmp_path / f"summary-{len(list(tmp_path.glob('summary-*')))}.json"
    report = json_file.with_suffix(".html")
    result = loadgate(
        "run", SCRIPT, "-u", "4", "-r", "4", "-t", f"{seconds}s", "-H", host, "--db", db_url,
        "--json", json_file, "--report", report, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = read_json(json_file)
    summary["stdout"] = result.stdout
    summary["html"] = report.read_text(encoding="utf-8")
    return summary


def test_a_cached_route_splits_hits_from_misses_and_upstream_from_gateway(
    gateway_factory: Callable[..., RunningGateway],
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
) -> None:
    summary = run(loadgate, db_url, tmp_path, gateway_factory(CACHED).api_url)

    endpoints = endpoints_by_name(summary)
    for name in ENDPOINTS:
        cache, timing = endpoints[name]["cache"], endpoints[name]["timing"]
        # A few misses a second (when the entry expires, until it is stored again:
        # both endpoints share it), the rest hits.
        assert cache["misses"] >= 4, cache
        assert cache["hits"] > cache["misses"], cache
        assert cache["hits"] + cache["misses"] == endpoints[name]["requests"]
        assert cache["hit_p50_ms"] < UPSTREAM_MS <= cache["miss_p50_ms"], cache
        # Misses only (hits never went upstream): the fault's 20 ms is upstream time.
        assert timing["requests"] == cache["misses"]
        assert UPSTREAM_MS <= timing["upstream_p50_ms"] < 2 * UPSTREAM_MS, timing
        assert timing["gateway_p50_ms"] < UPSTREAM_MS / 2, timing
    found = {(f["kind"], f["endpoint"]): f for f in summary["findings"]}
    assert set(found) == {("cache", f"GET {name}") for name in ENDPOINTS}, summary["findings"]
    for finding in found.values():
        assert finding["severity"] == "info"
        assert finding["numbers"]["hit_p50_ms"] < finding["numbers"]["miss_p50_ms"]
    assert "Cache and upstream time" in summary["stdout"]
    assert 'id="chart-cache"' in summary["html"]
    assert 'id="chart-timing"' in summary["html"]


def test_the_same_route_uncached_gives_no_cache_finding(
    gateway_factory: Callable[..., RunningGateway],
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
) -> None:
    summary = run(loadgate, db_url, tmp_path, gateway_factory(UNCACHED).api_url)

    endpoints = endpoints_by_name(summary)
    for name in ENDPOINTS:
        assert endpoints[name]["cache"] is None
        # Every request went upstream now, and says how long it took there.
        timing = endpoints[name]["timing"]
        assert timing["requests"] == endpoints[name]["requests"]
        assert UPSTREAM_MS <= timing["upstream_p50_ms"] < 2 * UPSTREAM_MS, timing
    assert summary["findings"] == []
    assert 'id="chart-cache"' not in summary["html"]
    assert 'id="chart-timing"' in summary["html"]


def test_a_hit_ratio_that_falls_during_the_run_is_a_warning(
    gateway_factory: Callable[..., RunningGateway],
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
) -> None:
    # After 5 s every search is new: the last third of the run misses throughout.
    summary = run(
        loadgate, db_url, tmp_path, gateway_factory(CACHED).api_url, seconds=9,
        env={"CACHE_FALLS_AFTER_S": "5"},
    )  # fmt: skip

    falls = [f for f in summary["findings"] if f["kind"] == "cache.hit_ratio_falls"]
    assert {f["endpoint"] for f in falls} == {f"GET {name}" for name in ENDPOINTS}
    for finding in falls:
        assert finding["severity"] == "warning"
        numbers = finding["numbers"]
        assert numbers["first_third_hit_ratio"] > 0.7, finding
        assert numbers["last_third_hit_ratio"] < 0.1, finding


def test_a_target_without_the_headers_has_no_split(
    shared_target: Target, loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    summary = run(loadgate, db_url, tmp_path, shared_target.url, seconds=3)

    for name in ENDPOINTS:
        endpoint = endpoints_by_name(summary)[name]
        assert endpoint["requests"] > 0
        assert (endpoint["cache"], endpoint["timing"]) == (None, None)
    assert summary["findings"] == []
    assert "Cache and upstream time" not in summary["stdout"]
    assert 'id="chart-cache"' not in summary["html"]
    assert 'id="chart-timing"' not in summary["html"]
