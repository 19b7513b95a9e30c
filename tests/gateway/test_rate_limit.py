"""Token-bucket rate limits: 429 with headers, and local versus Redis-shared buckets."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.fixtures.gateway import RunningGateway

API_KEY = {"X-API-Key": "lf_test_key_8f3a92_gateway"}
BURST_CONFIG = """
[consumers.burst-tester]
static_token = "burst-token"
rate_per_s = 1
burst = 20
"""
BURST_HEADERS = {"Authorization": "Bearer burst-token", "Connection": "close"}


def test_the_seed_api_key_gets_429_with_headers(gateway: RunningGateway) -> None:
    with httpx.Client() as client:
        responses = [client.get(gateway.url("/v1/search?q=sneakers&limit=5"), headers=API_KEY)
                     for _ in range(45)]  # fmt: skip
    statuses = {r.status_code for r in responses}
    assert statuses == {200, 429}
    allowed = next(r for r in responses if r.status_code == 200)
    assert allowed.headers["ratelimit-limit"] == "20"
    assert int(allowed.headers["ratelimit-remaining"]) < 20
    rejected = next(r for r in responses if r.status_code == 429)
    assert rejected.json()["error"] == "rate_limited"
    assert int(rejected.headers["retry-after"]) >= 1
    assert rejected.headers["ratelimit-remaining"] == "0"
    assert int(rejected.headers["ratelimit-reset"]) >= 1
    assert rejected.headers["ratelimit-policy"] == "20;w=1"
    assert (
        gateway.metric(
            "loadgate_gateway_rate_limit_total", consumer="rate-limit-tester", decision="rejected"
        )
        > 0
    )


def admitted(running: RunningGateway, requests: int) -> int:
    """How many of `requests` were admitted; each on a new connection, to reach both processes."""
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(limits=limits) as client:
        statuses = [
            client.get(running.url("/v1/products/1042"), headers=BURST_HEADERS).status_code
            for _ in range(requests)
        ]
    assert set(statuses) <= {200, 429}
    return statuses.count(200)


def test_two_processes_admit_twice_the_quota_without_redis_and_once_with_it(
    gateway_factory: Callable[..., RunningGateway], redis_url: str
) -> None:
    local = gateway_factory(BURST_CONFIG, "--processes", "2")
    shared = gateway_factory(BURST_CONFIG, "--processes", "2", "--redis-url", redis_url)
    assert len(local.health()["pids"]["gateway"]) == 2
    # Quota for the test's duration: a burst of 20 plus about 1 per second.
    local_admitted = admitted(local, 150)
    shared_admitted = admitted(shared, 150)
    assert local_admitted >= 32, local_admitted
    assert 18 <= shared_admitted <= 26, shared_admitted
    # Both processes' metrics are merged on the admin port.
    total = local.metric("loadgate_gateway_requests_total", route="products")
    assert total == 150
