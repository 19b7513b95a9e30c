"""The response cache for GET routes with a TTL (per gateway process)."""

from __future__ import annotations

import time
from collections.abc import Callable

from loadgate.gateway.messages import Headers

MAX_ENTRIES = 10_000


class CachedResponse:
    """A stored upstream answer and when it was stored (for the Age header)."""

    __slots__ = ("body", "expires_at", "headers", "status", "stored_at")

    def __init__(
        self, status: int, headers: Headers, body: bytes, stored_at: float, expires_at: float
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.stored_at = stored_at
        self.expires_at = expires_at


class ResponseCache:
    """Responses by request target; the oldest entry goes first when full."""

    def __init__(
        self, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._entries: dict[bytes, CachedResponse] = {}
        self._max_entries = max_entries
        self._clock = clock

    def get(self, key: bytes) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() >= entry.expires_at:
            del self._entries[key]
            return None
        return entry

    def put(self, key: bytes, status: int, headers: Headers, body: bytes, ttl_s: float) -> None:
        now = self._clock()
        self._entries.pop(key, None)
        if len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = CachedResponse(status, headers, body, now, now + ttl_s)

    def age_s(self, entry: CachedResponse) -> int:
        return int(self._clock() - entry.stored_at)
