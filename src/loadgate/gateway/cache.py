"""The response cache for GET routes with a TTL (per gateway process)."""

from __future__ import annotations

import time
from collections.abc import Callable

from loadgate.gateway.messages import Headers, Request

MAX_ENTRIES = 10_000
# The request header values a stored response was chosen by (its upstream's Vary).
Variant = tuple[tuple[bytes, bytes | None], ...]
NOT_STORED = (b"no-store", b"private")


def variant(headers: Headers, request: Request) -> Variant | None:
    """What an upstream response depends on, or None when it must not be stored.

    `Vary: *`, `Cache-Control: no-store` or `private` keep it out of the cache;
    `Vary: X-Tenant-Id` stores it for this request's tenant only.
    """
    names: list[bytes] = []
    for name, value in headers:
        lower = name.lower()
        if lower == b"vary":
            for item in value.lower().split(b","):
                token = item.strip()
                if token == b"*":
                    return None
                if token:
                    names.append(token)
        elif lower == b"cache-control" and any(d in value.lower() for d in NOT_STORED):
            return None
    return tuple((name, request.header(name)) for name in names)


class CachedResponse:
    """A stored upstream answer and when it was stored (for the Age header)."""

    __slots__ = ("body", "expires_at", "headers", "status", "stored_at", "variant")

    def __init__(
        self,
        status: int,
        headers: Headers,
        body: bytes,
        stored_at: float,
        expires_at: float,
        *,
        variant: Variant = (),
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.stored_at = stored_at
        self.expires_at = expires_at
        self.variant = variant


class ResponseCache:
    """Responses by key (target, and consumer); the oldest entry goes first when full.

    One variant per key: a request whose Vary'd headers differ is a miss, and
    its response replaces the stored one.
    """

    def __init__(
        self, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._entries: dict[bytes, CachedResponse] = {}
        self._max_entries = max_entries
        self._clock = clock

    def get(self, key: bytes, request: Request) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() >= entry.expires_at:
            del self._entries[key]
            return None
        for name, value in entry.variant:
            if request.header(name) != value:
                return None
        return entry

    def put(
        self,
        key: bytes,
        status: int,
        headers: Headers,
        body: bytes,
        ttl_s: float,
        *,
        variant: Variant = (),
    ) -> None:
        now = self._clock()
        self._entries.pop(key, None)
        if len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = CachedResponse(
            status, headers, body, now, now + ttl_s, variant=variant
        )

    def age_s(self, entry: CachedResponse) -> int:
        return int(self._clock() - entry.stored_at)
