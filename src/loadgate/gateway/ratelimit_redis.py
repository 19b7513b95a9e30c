"""Token buckets shared by every gateway process through Redis (one Lua script per request)."""

from __future__ import annotations

import logging
import time
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
ERROR_LOG_INTERVAL_S = 10.0


class RedisLimiter:
    """Shared buckets; when Redis fails, falls back to this process's buckets (and says so)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._client: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=1.0
        )
        self._script: Any = self._client.register_script(TOKEN_BUCKET_LUA)
        self._fallback = LocalLimiter()
        self._last_error_log = 0.0
        self.errors = 0

    async def connect(self) -> None:
        """Fail the start, with the URL in the message, when Redis is not reachable."""
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            raise GatewayStartError(
                f"cannot reach Redis at {self._url} (rate_limit.redis_url): {exc}"
            ) from None

    async def take(self, key: str, limit: Limit) -> Decision:
        try:
            allowed, tokens_text = await self._script(
                keys=[KEY_PREFIX + key], args=[limit.rate_per_s, limit.burst]
            )
        except (RedisError, OSError) as exc:
            self._note_error(exc)
            return self._fallback.take(key, limit)
        tokens = float(tokens_text)
        if allowed:
            return Decision(True, limit, tokens)
        return decide(tokens, limit)[1]

    def _note_error(self, exc: Exception) -> None:
        self.errors += 1
        now = time.monotonic()
        if now - self._last_error_log > ERROR_LOG_INTERVAL_S:
            self._last_error_log = now
            log.warning("Redis rate limit failed (%s); using this process's buckets", exc)

    async def close(self) -> None:
        await self._client.aclose()
