"""What a response's headers say about the gateway: served from its cache, and time upstream.

Recognised (names in any case; values in milliseconds unless said):

- cache status: `X-Cache-Status` (NGINX's `$upstream_cache_status`, Kong,
  the reference gateway) and `Apisix-Cache-Status`: HIT, STALE, UPDATING and
  REVALIDATED were served from the cache; MISS, EXPIRED and REFRESH were
  fetched; BYPASS and anything else say nothing. `X-Cache` ("HIT from
  host", "TCP_MISS", "MISS, HIT" through several caches: the last one is
  the nearest the client). `x-tyk-cached-response: 1` (Tyk marks hits
  only). Failing all of these, an `Age` above 0 is a hit.
- upstream time: a `Server-Timing` metric named `upstream` or `origin`
  (`name;dur=ms`; the reference gateway's), `X-Kong-Upstream-Latency`,
  `x-envoy-upstream-service-time`.
- gateway time: a `Server-Timing` metric named `gateway` or `proxy`, or
  `X-Kong-Proxy-Latency`; without one, the response time less the upstream
  time (so it includes the network to the gateway), never below 0.

A response served from the cache gives no split: it never went upstream.
Values that do not parse (not a number, negative, over an hour) are ignored.

Retry hint (read for 429s only, has_retry_hint): a `Retry-After`, or any
header named `RateLimit-*` or `X-RateLimit-*` (the IETF draft's and the
older convention's), whatever its value.

Cost: most responses carry none of these headers, so the first test is one
set operation on the names the clients already store lowercased (read_signals
takes about 0.3 µs then, for both of Locust's clients, measured with timeit),
not a case-insensitive `get` per known name (about 4 µs for nine: each miss
raises a KeyError inside `get`). Values are looked up and parsed only for the
names that are present (about 4 µs for a cache status and a Server-Timing).
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

from loadgate.model import Part

CACHE_STATUS = "x-cache-status"
APISIX_CACHE_STATUS = "apisix-cache-status"
X_CACHE = "x-cache"
TYK_CACHED = "x-tyk-cached-response"
AGE = "age"
SERVER_TIMING = "server-timing"
KONG_UPSTREAM = "x-kong-upstream-latency"
KONG_PROXY = "x-kong-proxy-latency"
ENVOY_UPSTREAM = "x-envoy-upstream-service-time"

KNOWN = frozenset(
    {CACHE_STATUS, APISIX_CACHE_STATUS, X_CACHE, TYK_CACHED, AGE, SERVER_TIMING,
     KONG_UPSTREAM, KONG_PROXY, ENVOY_UPSTREAM}
)  # fmt: skip
RETRY_AFTER = "retry-after"
RATE_LIMIT_PREFIXES = ("ratelimit-", "x-ratelimit-")
# Named rather than imported: importing geventhttpclient would import gevent,
# and the collector must not (tests/engine/test_imports.py).
_FAST_HEADERS_MODULE = "geventhttpclient.header"
_HIT = frozenset({"HIT", "STALE", "UPDATING", "REVALIDATED"})
_MISS = frozenset({"MISS", "EXPIRED", "REFRESH"})
# The stored histograms' range (1 h); a larger value is not a real measurement.
MAX_MS = 3_600_000.0
_UPSTREAM_METRICS = ("upstream", "origin")
# An upstream or gateway metric's name, then in its entry (no comma) a `dur`, maybe quoted.
_SERVER_TIMING_DUR = re.compile(
    r'(?:^|,)\s*(upstream|origin|gateway|proxy)\s*;[^,]*?\bdur\s*=\s*"?([^\s,;"]*)', re.I
)


class GatewaySignals(NamedTuple):
    """What one response said: its cache part, and its split into upstream and gateway time.

    A named tuple: built once per response that says anything, at a third of
    a frozen dataclass's cost.
    """

    cache: Part | None = None
    upstream_ms: float | None = None
    gateway_ms: float | None = None


def read_signals(headers: Any, total_ms: float) -> GatewaySignals | None:
    """The signals in `headers` (a response's), or None when it carries none of KNOWN.

    `total_ms` is the response time, of which the gateway time is the rest
    when the gateway does not give its own.
    """
    headers = _stored(headers)
    names = dict.keys(headers)
    if KNOWN.isdisjoint(names):
        return None
    present = KNOWN.intersection(names)
    cache = _cache_part(headers, present)
    if cache is Part.CACHE_HIT:
        return GatewaySignals(cache=cache)
    upstream_ms, gateway_ms = _split_ms(headers, present)
    if upstream_ms is not None and gateway_ms is None:
        gateway_ms = max(0.0, total_ms - upstream_ms)
    if cache is None and upstream_ms is None:
        return None
    return GatewaySignals(cache=cache, upstream_ms=upstream_ms, gateway_ms=gateway_ms)


def _stored(headers: Any) -> dict[str, Any]:
    """The headers as their client stores them: by lowercased name, (name, value) or a list.

    Read with dict's own methods (geventhttpclient's Headers overrides them
    to take any case: a lowercasing and a KeyError per miss).
    """
    if isinstance(headers, dict) and type(headers).__module__ == _FAST_HEADERS_MODULE:
        return headers  # FastHttpUser's Headers: a dict of exactly that
    # requests' CaseInsensitiveDict (HttpUser) keeps the same in `_store`:
    # private, but unchanged for a decade, and 5x cheaper than lowering names.
    store = getattr(headers, "_store", None)
    if isinstance(store, dict):
        return store
    return {str(name).lower(): (name, value) for name, value in headers.items()}


def _value(stored: dict[str, Any], name: str) -> str:
    entry = dict.get(stored, name)
    if isinstance(entry, tuple):
        return str(entry[1])
    if isinstance(entry, list):  # a field on several lines
        return ", ".join(str(value) for _name, value in entry)
    return ""


def _cache_part(headers: Any, present: frozenset[str]) -> Part | None:
    for name in (CACHE_STATUS, APISIX_CACHE_STATUS):
        if name in present:
            return _status_part(_value(headers, name).strip().upper())
    if X_CACHE in present:
        nearest = _value(headers, X_CACHE).rsplit(",", 1)[-1].strip().upper()
        word = nearest.split(" ", 1)[0]
        if "HIT" in word:
            return Part.CACHE_HIT
        if "MISS" in word:
            return Part.CACHE_MISS
        return None
    if TYK_CACHED in present:
        return Part.CACHE_HIT if _value(headers, TYK_CACHED).strip() == "1" else None
    if AGE in present:
        age_s = _number(_value(headers, AGE))
        return Part.CACHE_HIT if age_s is not None and age_s > 0 else None
    return None


def _status_part(status: str) -> Part | None:
    if status in _HIT:
        return Part.CACHE_HIT
    if status in _MISS:
        return Part.CACHE_MISS
    return None


def _split_ms(headers: Any, present: frozenset[str]) -> tuple[float | None, float | None]:
    """(upstream ms, gateway ms), each None when the headers do not give it."""
    if SERVER_TIMING in present:
        upstream, gateway = server_timing_split_ms(_value(headers, SERVER_TIMING))
        if upstream is not None:
            return upstream, gateway
    if KONG_UPSTREAM in present:
        upstream = _number(_value(headers, KONG_UPSTREAM))
        if upstream is not None:
            proxy = _number(_value(headers, KONG_PROXY)) if KONG_PROXY in present else None
            return upstream, proxy
    if ENVOY_UPSTREAM in present:
        return _number(_value(headers, ENVOY_UPSTREAM)), None
    return None, None


def server_timing_split_ms(text: str) -> tuple[float | None, float | None]:
    """(upstream ms, gateway ms) from a Server-Timing value, each None when not given.

    One regular expression that matches only the metrics wanted (about 1 µs
    for the reference gateway's value; splitting it in Python took 6).
    """
    upstream = gateway = None
    for name, value in _SERVER_TIMING_DUR.findall(text):
        duration = _number(value)
        if duration is None:
            continue
        if name.lower() in _UPSTREAM_METRICS:
            upstream = duration if upstream is None else upstream
        elif gateway is None:
            gateway = duration
    return upstream, gateway


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and 0 <= value <= MAX_MS else None


def has_retry_hint(headers: Any) -> bool:
    """Whether a response's headers tell the client when to retry (see the module's docstring)."""
    if headers is None:
        return False
    names = dict.keys(_stored(headers))
    return RETRY_AFTER in names or any(name.startswith(RATE_LIMIT_PREFIXES) for name in names)
