"""Token-bucket rate limiting per consumer, kept in this gateway process."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from loadgate.gateway.config import Limit
from loadgate.gateway.messages import Headers

# Past this many buckets, full ones (untouched for a whole refill) are forgotten.
MAX_BUCKETS = 100_000


class Decision:
    """The outcome for one request, and what the RateLimit-* headers say about it."""

    __slots__ = ("allowed", "limit", "remaining", "reset_s", "retry_after_s")

    def __init__(
        self, allowed: bool, limit: Limit, tokens: float, retry_after_s: float = 0.0
    ) -> None:
        self.allowed = allowed
        self.limit = limit
        self.remaining = max(0, math.floor(tokens))
        # Seconds until the bucket is full again: when the quota has fully reset.
        self.reset_s = math.ceil(max(0.0, limit.burst - tokens) / limit.rate_per_s)
        self.retry_after_s = retry_after_s

    def headers(self) -> Headers:
        limit = self.limit
        window_s = max(1, round(limit.burst / limit.rate_per_s))
        headers: Headers = [
            (b"RateLimit-Limit", b"%d" % limit.burst),
            (b"RateLimit-Remaining", b"%d" % self.remaining),
            (b"RateLimit-Reset", b"%d" % self.reset_s),
            (b"RateLimit-Policy", b"%d;w=%d" % (limit.burst, window_s)),
        ]
        if not self.allowed:
            headers.append((b"Retry-After", b"%d" % max(1, math.ceil(self.retry_after_s))))
        return headers


def refill(tokens: float, elapsed_s: float, limit: Limit) -> float:
    """Tokens after `elapsed_s` of refilling, capped at the burst."""
    return min(float(limit.burst), tokens + max(0.0, elapsed_s) * limit.rate_per_s)


def decide(tokens: float, limit: Limit) -> tuple[float, Decision]:
    """Take one token if there is one: (tokens left, decision)."""
    if tokens >= 1.0:
        tokens -= 1.0
        return tokens, Decision(True, limit, tokens)
    wait_s = (1.0 - tokens) / limit.rate_per_s
    return tokens, Decision(False, limit, tokens, retry_after_s=wait_s)


class LocalLimiter:
    """Buckets in this process's memory: N gateway processes admit about N times the quota."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, list[float]] = {}

    def take(self, key: str, limit: Limit) -> Decision:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_BUCKETS:
                self._forget_full(now)
            bucket = self._buckets[key] = [float(limit.burst), now]
        tokens = refill(bucket[0], now - bucket[1], limit)
        tokens, decision = decide(tokens, limit)
        bucket[0] = tokens
        bucket[1] = now
        return decision

    def _forget_full(self, now: float) -> None:
        # A bucket idle for longer than any configured refill is full: dropping it
        # changes no decision. 60 s is beyond every sensible burst/rate.
        stale = [key for key, (_, updated) in self._buckets.items() if now - updated > 60.0]
        for key in stale:
            del self._buckets[key]
        if len(self._buckets) >= MAX_BUCKETS:
            self._buckets.clear()
