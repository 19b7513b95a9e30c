"""A Redis that stops answering (SIGSTOP): local limits at once, shared ones when it is back."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.fixtures.gateway import RunningGateway
from tests.fixtures.ports import free_port, wait_for_port
from tests.fixtures.redis import _redis_binary
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


@dataclass(frozen=True)
class StoppableRedis:
    """A Redis server of this module's own, so stopping it disturbs no other test."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def tokens(self) -> float:
        with redis.Redis(host="127.0.0.1", port=self.port) as client:
            value = client.hget(BUCKET, "tokens")
        assert value is not None
        return float(value)


@pytest.fixture
def stoppable_redis() -> Iterator[StoppableRedis]:
    binary = _redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    root = Path(tempfile.mkdtemp(prefix="loadgate-redis-stop-"))
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(root),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port)
        yield StoppableRedis(process, port)
    finally:
        os.kill(process.pid, signal.SIGCONT)
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


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
    gateway_factory: Callable[..., RunningGateway], stoppable_redis: StoppableRedis
) -> None:
    running = gateway_factory(CONFIG, "--redis-url", stoppable_redis.url)
    port = running.api_port

    def statuses(count: int) -> list[int]:
        return [raw_request(port, "GET", "/v1/products/1042", CREDENTIALS).status
                for _ in range(count)]  # fmt: skip

    assert statuses(3) == [200] * 3
    assert stoppable_redis.tokens() < 1000  # the shared bucket is in use
    assert metric(running, "rate_limit_fallback") == 0
    os.kill(stoppable_redis.process.pid, signal.SIGSTOP)
    try:
        assert statuses(20) == [200] * 20
        # Without a breaker every one of the 20 would have waited for Redis and failed.
        failed_calls = metric(running, "rate_limit_backend_errors_total")
        assert 1 <= failed_calls <= 2, failed_calls
        assert metric(running, "rate_limit_fallback") == 1
    finally:
        os.kill(stoppable_redis.process.pid, signal.SIGCONT)
    assert wait_for(lambda: metric(running, "rate_limit_fallback") == 0, RECOVERY_TIMEOUT_S)
    before = stoppable_redis.tokens()
    assert statuses(5) == [200] * 5
    # Shared again: the requests took their tokens from the bucket in Redis.
    assert stoppable_redis.tokens() <= before - 4.5
    assert metric(running, "rate_limit_backend_errors_total") == failed_calls
    log = [line for line in running.output().splitlines() if FAILED_LINE in line]
    assert len(log) == 2, log
    assert "failed" in log[0]
    assert "answers again" in log[1]
