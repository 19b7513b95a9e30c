"""A Redis that stops answering (SIGSTOP): local limits at once, shared ones when it is back."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from tests.fixtures.gateway import RunningGateway
from tests.fixtures.redis import RedisServer, started_redis
from tests.gateway.rawhttp import raw_request

# Refills so slowly that each request's token shows in the stored bucket.
CONFIG = """
[consumers.shared-tester]
static_token = "shared-token"
rate_per_s = 0.01
burst = 1000
"""
CREDENTIALS = "Authorization: Bearer shared-token"
BUCKET = "loadgate:ratelimit:consumer:shared-tester"
RECOVERY_TIMEOUT_S = 15.0
FAILED_LINE = "Redis rate limit at"


def bucket_tokens(server: RedisServer) -> float:
    with redis.Redis(host="127.0.0.1", port=server.port) as client:
        value = client.hget(BUCKET, "tokens")
    assert value is not None
    return float(value)


@pytest.fixture
def stoppable_redis() -> Iterator[RedisServer]:
    """A Redis server of this test's own, so stopping it disturbs no other test."""
    with started_redis() as server:
        yield server


def metric(running: RunningGateway, name: str) -> float:
    return running.metric("loadgate_gateway_" + name)


def wait_for(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_stalled_redis_is_set_aside_then_used_again(
    gateway_factory: Callable[..., RunningGateway], stoppable_redis: RedisServer
) -> None:
    running = gateway_factory(CONFIG, "--redis-url", stoppable_redis.url)
    port = running.api_port

    def statuses(count: int) -> list[int]:
        return [raw_request(port, "GET", "/v1/products/1042", CREDENTIALS).status
                for _ in range(count)]  # fmt: skip

    assert statuses(3) == [200] * 3
    assert bucket_tokens(stoppable_redis) < 1000  # the shared bucket is in use
    assert metric(running, "rate_limit_fallback") == 0
    os.kill(stoppable_redis.pid, signal.SIGSTOP)
    try:
        assert statuses(20) == [200] * 20
        # Without a breaker every one of the 20 would have waited for Redis and failed.
        failed_calls = metric(running, "rate_limit_backend_errors_total")
        assert 1 <= failed_calls <= 2, failed_calls
        assert metric(running, "rate_limit_fallback") == 1
    finally:
        os.kill(stoppable_redis.pid, signal.SIGCONT)
    assert wait_for(lambda: metric(running, "rate_limit_fallback") == 0, RECOVERY_TIMEOUT_S)
    before = bucket_tokens(stoppable_redis)
    assert statuses(5) == [200] * 5
    # Shared again: the requests took their tokens from the bucket in Redis.
    assert bucket_tokens(stoppable_redis) <= before - 4.5
    assert metric(running, "rate_limit_backend_errors_total") == failed_calls
    log = [line for line in running.output().splitlines() if FAILED_LINE in line]
    assert len(log) == 2, log
    assert "failed" in log[0]
    assert "answers again" in log[1]
