"""The admin API: health, metrics, upstreams and the faults it forwards to the upstream process."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from tests.fixtures.gateway import RunningGateway

METRICS = (
    "loadgate_gateway_requests_total",
    "loadgate_gateway_request_duration_seconds",
    "loadgate_gateway_latency_seconds",
    "loadgate_gateway_upstream_latency_seconds",
    "loadgate_gateway_requests_in_flight",
    "loadgate_gateway_cache_total",
    "loadgate_gateway_rate_limit_total",
    "loadgate_gateway_retries_total",
    "loadgate_gateway_upstream_errors_total",
    "loadgate_gateway_circuit_breaker_state",
)


def test_health(gateway: RunningGateway) -> None:
    response = gateway.admin("GET", "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["api"] == gateway.api_url
    assert set(body["upstreams"]) == {"catalog", "search", "identity", "commerce"}


def test_metrics_are_exposed(gateway: RunningGateway) -> None:
    httpx.get(gateway.url("/v1/products/1042"))
    httpx.get(gateway.url("/v1/search?q=metrics"))
    httpx.get(gateway.url("/v1/orders/1"), headers={"Authorization": "Bearer bad"})
    response = gateway.admin("GET", "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    for name in METRICS:
        assert re.search(rf"^{name}", response.text, re.MULTILINE), name
    assert gateway.metric("loadgate_gateway_requests_total", route="orders", status="401") >= 1
    assert (
        gateway.metric("loadgate_gateway_upstream_latency_seconds_count", upstream="catalog") >= 1
    )


def test_upstreams_show_urls_routes_and_faults(gateway: RunningGateway) -> None:
    body = gateway.admin("GET", "/upstreams").json()
    assert body["catalog"]["routes"] == {"products": "/v1/products"}
    assert body["search"]["routes"] == {"search": "/v1/search"}
    assert body["identity"]["routes"] == {"token": "/v1/auth/token", "users": "/v1/users"}
    assert set(body["commerce"]["routes"]) == {"orders", "cart", "inventory", "pricing"}
    assert len(body["catalog"]["urls"]) == 2
    assert body["catalog"]["fault"]["error_rate"] == 0
    direct = httpx.get(body["catalog"]["urls"][0] + "/v1/products/1042")
    assert direct.status_code == 200


def test_fault_api(gateway: RunningGateway) -> None:
    try:
        set_ = gateway.admin("PUT", "/faults/commerce", json={"latency_ms": 5, "error_rate": 0.1})
        assert set_.status_code == 200
        assert set_.json()["commerce"]["latency"] == {"distribution": "fixed", "ms": 5.0}
        assert gateway.admin("GET", "/faults/commerce").json()["commerce"]["error_rate"] == 0.1
        assert gateway.admin("DELETE", "/faults/commerce").json()["commerce"]["error_rate"] == 0
    finally:
        gateway.clear_faults()


def test_bad_faults_are_refused_naming_the_key(gateway: RunningGateway) -> None:
    bad = gateway.admin("PUT", "/faults/catalog", json={"error_rate": 2})
    assert bad.status_code == 400
    assert "faults.catalog.error_rate" in bad.json()["message"]
    unknown_key = gateway.admin("PUT", "/faults/catalog", json={"latency_msec": 5})
    assert unknown_key.status_code == 400
    assert "latency_msec" in unknown_key.json()["message"]
    assert gateway.admin("PUT", "/faults/nothing", json={}).status_code == 404
    assert gateway.admin("GET", "/nothing").status_code == 404


def test_a_fault_applies_to_every_gateway_process(
    gateway_factory: Callable[..., RunningGateway],
) -> None:
    running = gateway_factory("", "--processes", "2")
    running.set_fault("catalog", latency_ms=30)
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(limits=limits) as client:
        responses = [client.get(running.url("/v1/products/1042")) for _ in range(12)]
    timings = [float(re.findall(r"upstream;dur=([\d.]+)", r.headers["server-timing"])[0])
               for r in responses]  # fmt: skip
    assert min(timings) >= 30
