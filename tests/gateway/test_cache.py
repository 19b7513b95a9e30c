"""The response cache: MISS then HIT with Age, BYPASS where it does not apply."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.fixtures.gateway import RunningGateway


def test_hit_after_miss_with_age(gateway: RunningGateway) -> None:
    path = f"/v1/search?q={uuid.uuid4().hex}"
    miss = httpx.get(gateway.url(path))
    assert miss.status_code == 200
    assert miss.headers["x-cache-status"] == "MISS"
    assert "age" not in miss.headers
    hit = httpx.get(gateway.url(path))
    assert hit.headers["x-cache-status"] == "HIT"
    assert hit.content == miss.content
    assert hit.headers["x-request-id"] != miss.headers["x-request-id"]
    assert "upstream;dur=0.000" in hit.headers["server-timing"]
    time.sleep(1.1)
    later = httpx.get(gateway.url(path))
    assert later.headers["x-cache-status"] == "HIT"
    assert int(later.headers["age"]) >= 1


def test_no_cache_request_and_uncached_routes_bypass(gateway: RunningGateway) -> None:
    path = f"/v1/search?q={uuid.uuid4().hex}"
    httpx.get(gateway.url(path))
    bypass = httpx.get(gateway.url(path), headers={"Cache-Control": "no-cache"})
    assert bypass.headers["x-cache-status"] == "BYPASS"
    assert httpx.get(gateway.url("/v1/products/1042")).headers["x-cache-status"] == "BYPASS"


def test_errors_are_not_cached(gateway: RunningGateway) -> None:
    assert httpx.get(gateway.url("/v1/search?q=")).status_code == 400
    again = httpx.get(gateway.url("/v1/search?q="))
    assert again.headers["x-cache-status"] == "MISS"


def test_cache_metrics(gateway: RunningGateway) -> None:
    before = gateway.metric("loadgate_gateway_cache_total", route="search", result="hit")
    path = f"/v1/search?q={uuid.uuid4().hex}"
    httpx.get(gateway.url(path))
    httpx.get(gateway.url(path))
    after = gateway.metric("loadgate_gateway_cache_total", route="search", result="hit")
    assert after == before + 1
