"""Token buckets shared by every gateway process through Redis, with a breaker for when it fails."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from loadgate.gateway.config import Limit
from loadgate.gateway.errors import GatewayStartError
from loadgate.gateway.ratelimit import Decision, LocalLimiter, decide

log = logging.getLogger("loadgate.gateway")

# Refill and take one token atomically, on Redis's clock so that gateway
# processes with skewed clocks still share one bucket correctly.
TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""
KEY_PREFIX = "loadgate:ratelimit:"
# The probe runs the real script on a key of its own, so "answers" means "can limit".
PROBE_KEY = KEY_PREFIX + "probe"
PROBE_LIMIT = Limit(rate_per_s=1.0, burst=1)
COMMAND_TIMEOUT_S = 0.5
PROBE_INTERVAL_S = 1.0
FAILURES = (RedisError, OSError, TimeoutError)


def _ignore(*_: object) -> None:
    pass


class RedisLimiter:
    """Shared buckets, set aside for this process's own buckets while Redis fails.

    A short circuit breaker: the first failed call (error, or no answer within
    COMMAND_TIMEOUT_S) opens it; from then on requests use local buckets
    without waiting for Redis, and a background probe tries Redis once per
    PROBE_INTERVAL_S, closing the breaker on its first success. A Redis that
    stops answering thus costs one timeout to the requests already waiting on
    it, not one to every request. Each transition is logged once.
    """

    def __init__(
        self,
        url: str,
        timeout_s: float = COMMAND_TIMEOUT_S,
        probe_interval_s: float = PROBE_INTERVAL_S,
    ) -> None:
        self._url = url
        self._client: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=1.0
        )
        self._script: Any = self._client.register_script(TOKEN_BUCKET_LUA)
        self._fallback = LocalLimiter()
        self._probe_interval_s = probe_interval_s
        self._probe: asyncio.Task[None] | None = None
        self._on_error: Callable[[], None] = _ignore
        self._on_fallback: Callable[[bool], None] = _ignore
        self.falling_back = False

    def watch(self, on_error: Callable[[], None], on_fallback: Callable[[bool], None]) -> None:
        """Called for each failed request's call, and with each change of breaker state."""
        self._on_error = on_error
        self._on_fallback = on_fallback
        on_fallback(self.falling_back)

    async def connect(self) -> None:
        """Fail the start, with the URL in the message, when Redis is not reachable."""
        try:
            await self._client.ping()
        except FAILURES as exc:
            raise GatewayStartError(
                f"cannot reach Redis at {self._url} (rate_limit.redis_url): {exc}"
            ) from None

    async def take(self, key: str, limit: Limit) -> Decision:
        if self.falling_back:
            return self._fallback.take(key, limit)
        try:
            allowed, tokens_text = await self._call(KEY_PREFIX + key, limit)
        except FAILURES as exc:
            self._failed(exc)
            return self._fallback.take(key, limit)
        tokens = float(tokens_text)
        if allowed:
            return Decision(True, limit, tokens)
        return decide(tokens, limit)[1]

    def _call(self, key: str, limit: Limit) -> Awaitable[tuple[int, bytes]]:
        result: Awaitable[tuple[int, bytes]] = self._script(
            keys=[key], args=[limit.rate_per_s, limit.burst]
        )
        return result

    def _failed(self, exc: BaseException) -> None:
        self._on_error()
        if self.falling_back:
            return  # a request that was already waiting when the breaker opened
        self.falling_back = True
        self._on_fallback(True)
        log.warning(
            "Redis rate limit at %s failed (%s); this process uses its own buckets "
            "until Redis answers again",
            self._url, str(exc) or type(exc).__name__,
        )  # fmt: skip
        self._probe = asyncio.get_running_loop().create_task(self._probe_until_healthy())

    async def _probe_until_healthy(self) -> None:
        while True:
            await asyncio.sleep(self._probe_interval_s)
            try:
                await self._call(PROBE_KEY, PROBE_LIMIT)
            except FAILURES:
                continue
            break
        self.falling_back = False
        self._on_fallback(False)
        log.warning("Redis rate limit at %s answers again; buckets are shared again", self._url)

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
        await self._client.aclose()
