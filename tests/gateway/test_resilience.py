"""Breaker, timeouts, retries, pool limits and every fault, against real upstream processes."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.fixtures.gateway import RunningGateway

PRODUCT = "/v1/products/1042"
CHECKOUT = {"Authorization": "Bearer test-checkout-token"}
Factory = Callable[..., RunningGateway]


def upstream_ms(response: httpx.Response) -> float:
    match = re.search(r"upstream;dur=([\d.]+)", response.headers["server-timing"])
    assert match, response.headers["server-timing"]
    return float(match.group(1))


def test_breaker_opens_under_errors_then_half_opens(gateway_factory: Factory) -> None:
    running = gateway_factory(
        """
        [upstreams.catalog.breaker]
        window = 10
        min_requests = 5
        failure_ratio = 0.5
        open_s = 1.0
        half_open_probes = 2
        [routes.products]
        retries = 0
        """
    )
    running.set_fault("catalog", error_rate=1.0, error_status=500)
    with httpx.Client() as client:
        statuses = [client.get(running.url(PRODUCT)).status_code for _ in range(8)]
        assert statuses == [500] * 5 + [503] * 3
        refused = client.get(running.url(PRODUCT))
        assert refused.headers["x-circuit-breaker"] == "open"
        assert refused.json()["error"] == "circuit_open"
        assert int(refused.headers["retry-after"]) >= 1
        assert running.metric("loadgate_gateway_circuit_breaker_state", upstream="catalog") == 2
        # Still failing when the probe goes through: open again.
        time.sleep(1.1)
        probe = client.get(running.url(PRODUCT))
        assert (probe.status_code, probe.headers["x-circuit-breaker"]) == (500, "half-open")
        assert client.get(running.url(PRODUCT)).headers["x-circuit-breaker"] == "open"
        # Healthy again: two good probes close it.
        running.clear_faults()
        time.sleep(1.1)
        for _ in range(2):
            probe = client.get(running.url(PRODUCT))
            assert (probe.status_code, probe.headers["x-circuit-breaker"]) == (200, "half-open")
        closed = client.get(running.url(PRODUCT))
        assert closed.status_code == 200
        assert "x-circuit-breaker" not in closed.headers
    assert running.metric("loadgate_gateway_circuit_breaker_state", upstream="catalog") == 0


def test_latency_over_the_route_timeout_is_504(gateway_factory: Factory) -> None:
    running = gateway_factory(
        """
        [upstreams.catalog.fault]
        latency_ms = 800
        [routes.products]
        timeout_s = 0.3
        """
    )
    started = time.monotonic()
    response = httpx.get(running.url(PRODUCT))
    elapsed_s = time.monotonic() - started
    assert response.status_code == 504
    assert response.json()["error"] == "upstream_timeout"
    assert elapsed_s < 0.8
    assert running.metric("loadgate_gateway_upstream_errors_total", kind="timeout") >= 1
    running.clear_faults()
    assert httpx.get(running.url(PRODUCT)).status_code == 200


def test_idempotent_requests_are_retried(gateway_factory: Factory) -> None:
    running = gateway_factory(
        """
        [upstreams.catalog.breaker]
        enabled = false
        [upstreams.commerce.breaker]
        enabled = false
        [routes.products]
        retries = 3
        """
    )
    running.set_fault("catalog", error_rate=0.5, error_status=503)
    with httpx.Client() as client:
        statuses = [client.get(running.url(PRODUCT)).status_code for _ in range(40)]
    # Without retries about half would fail; with 3 retries about 1 in 16.
    assert statuses.count(200) >= 30, statuses
    assert running.metric("loadgate_gateway_retries_total", upstream="catalog") >= 10
    running.set_fault("commerce", error_rate=1.0, error_status=503)
    cart = httpx.post(
        running.url("/v1/cart/items"), headers=CHECKOUT, json={"product_id": 1, "quantity": 1}
    )
    assert cart.status_code == 503
    assert running.metric("loadgate_gateway_retries_total", upstream="commerce") == 0
    assert httpx.get(running.url("/v1/inventory/1"), headers=CHECKOUT).status_code == 503
    assert running.metric("loadgate_gateway_retries_total", upstream="commerce") == 2


def test_an_exhausted_pool_is_503(gateway_factory: Factory) -> None:
    running = gateway_factory(
        """
        [upstreams.catalog]
        instances = 1
        max_connections = 1
        max_pending = 0
        [upstreams.catalog.fault]
        latency_ms = 500
        """
    )
    with ThreadPoolExecutor(3) as pool:
        responses = list(pool.map(lambda _: httpx.get(running.url(PRODUCT)), range(3)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 503, 503]
    overloaded = next(r for r in responses if r.status_code == 503)
    assert overloaded.headers["x-gateway-overloaded"] == "true"
    assert overloaded.json()["error"] == "upstream_overloaded"


def test_a_periodic_stall_shows_in_latency(gateway: RunningGateway) -> None:
    gateway.set_fault("catalog", stall_every_s=1.0, stall_for_s=0.4)
    try:
        latencies_s = []
        deadline = time.monotonic() + 2.2
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                started = time.monotonic()
                assert client.get(gateway.url(PRODUCT)).status_code == 200
                latencies_s.append(time.monotonic() - started)
    finally:
        gateway.clear_faults()
    assert max(latencies_s) >= 0.2
    assert statistics.median(latencies_s) < 0.2
    assert sum(1 for latency in latencies_s if latency >= 0.1) >= 2


def test_latency_fault_slows_only_its_upstream(gateway: RunningGateway) -> None:
    gateway.set_fault("catalog", latency_ms=100)
    try:
        slow = httpx.get(gateway.url(PRODUCT))
        other = httpx.get(gateway.url("/v1/inventory/1042"), headers=CHECKOUT)
    finally:
        gateway.clear_faults()
    assert upstream_ms(slow) >= 100
    assert upstream_ms(other) < 100


def test_latency_from_a_distribution(gateway: RunningGateway) -> None:
    latency = {"distribution": "uniform", "min_ms": 30, "max_ms": 60}
    gateway.set_fault("catalog", latency=latency)
    try:
        with httpx.Client() as client:
            samples = [upstream_ms(client.get(gateway.url(PRODUCT))) for _ in range(8)]
    finally:
        gateway.clear_faults()
    assert min(samples) >= 30
    assert len({round(s) for s in samples}) > 1


def test_upstream_down_is_502_and_comes_back(gateway: RunningGateway) -> None:
    gateway.set_fault("catalog", down=True)
    try:
        down = httpx.get(gateway.url(PRODUCT))
        assert down.status_code == 502
        assert down.json()["error"] == "bad_gateway"
    finally:
        gateway.clear_faults()
    assert httpx.get(gateway.url(PRODUCT)).status_code == 200


def test_slow_body(gateway: RunningGateway) -> None:
    gateway.set_fault("catalog", slow_body_bytes_per_s=4000)
    try:
        response = httpx.get(gateway.url(PRODUCT))
    finally:
        gateway.clear_faults()
    assert response.status_code == 200
    assert response.json()["id"] == 1042
    # About 1.3 KB at 4 KB/s, sent in 50 ms chunks.
    assert upstream_ms(response) >= 200


def test_injected_error_status(gateway: RunningGateway) -> None:
    gateway.set_fault("search", error_rate=1.0, error_status=418)
    try:
        response = httpx.get(gateway.url("/v1/search?q=teapot-test"))
    finally:
        gateway.clear_faults()
    assert response.status_code == 418
    assert response.json()["error"] == "injected_fault"
