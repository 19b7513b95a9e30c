"""The collector's per-request cost of reading what headers say: cache, upstream time, rate limits.

Times `Collector.on_request` (timeit, best of several repeats) for responses
of both of Locust's clients (requests' CaseInsensitiveDict for HttpUser,
geventhttpclient's Headers for FastHttpUser) carrying typical headers:

- baseline: a response without a `headers` attribute (nothing to read);
- none: eight ordinary headers, none of those the collector knows (most targets);
- cache+timing: the same plus X-Cache-Status and Server-Timing (the reference gateway);
- 429 hinted / 429 bare: a 429 with Retry-After and RateLimit-* headers, and one
  without (counted as unhinted);
- keys counted: a 200 of "none" while the run expects a per-key limit, so the
  request's X-API-Key is read (the same key each time).

Printed: µs per request and the ratio to the baseline of the same run; then
the memory one endpoint-second holds for a per-key limit at its bound
(MAX_KEYS_PER_SECOND keys of 32 characters: the collector's set, and the
EndpointSecond the writer or the master holds until it is stored), by tracemalloc.

    .venv/bin/python bench/collector_headers.py [--requests 200000]
"""

from __future__ import annotations

import argparse
import timeit
import tracemalloc
from dataclasses import dataclass
from typing import Any

from geventhttpclient.header import Headers as FastHeaders
from requests.structures import CaseInsensitiveDict

from loadgate.engine.collector import MAX_KEYS_PER_SECOND, Collector

ORDINARY = {
    "Content-Type": "application/json",
    "Content-Length": "1234",
    "Date": "Tue, 01 Dec 2026 18:00:00 GMT",
    "Server": "nginx",
    "Connection": "keep-alive",
    "X-Request-Id": "0f8e2c1a9b7d4e6f",
    "Cache-Control": "max-age=10",
    "Vary": "Accept-Encoding",
}
SIGNALLING = {
    **ORDINARY,
    "X-Cache-Status": "MISS",
    "Server-Timing": "gateway;dur=0.412, upstream;dur=20.113, total;dur=20.525",
}


HINTED_429 = {**ORDINARY, "Retry-After": "1", "RateLimit-Limit": "20", "RateLimit-Remaining": "0"}
KEY_HEADER = "X-API-Key"


@dataclass
class Sent:
    headers: Any


@dataclass
class Response:
    status_code: int
    headers: Any = None
    request: Sent | None = None


@dataclass
class Bare:
    status_code: int


def per_request_us(response: object, requests: int, key_header: str | None = None) -> float:
    collector = Collector(clock_s=lambda: 1000.0, key_header=key_header)

    def fire() -> None:
        collector.on_request(
            request_type="GET", name="/search", response_time=20.6, response_length=1234,
            response=response, exception=None,
        )  # fmt: skip

    best_s = min(timeit.repeat(fire, number=requests, repeat=5))
    return best_s / requests * 1e6


def keys_memory_kib() -> float:
    """Bytes held for one endpoint-second at the key bound, in KiB (the keys' strings too:
    the requests are dropped before measuring, as they are in a run)."""
    tracemalloc.start()
    answers = [
        Response(200, {}, Sent(CaseInsensitiveDict({KEY_HEADER: f"key-{index:028d}"})))
        for index in range(MAX_KEYS_PER_SECOND)
    ]
    collector = Collector(clock_s=lambda: 1000.0, key_header=KEY_HEADER)
    for answer in answers:
        collector.on_request(
            request_type="GET", name="/search", response_time=20.6, response_length=1234,
            response=answer, exception=None,
        )  # fmt: skip
    del answers
    stored = collector.take_all()[0].to_endpoint_seconds()
    held_bytes, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(stored[0].key_values) == MAX_KEYS_PER_SECOND
    return held_bytes / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    args = parser.parse_args()
    baseline_us = per_request_us(Bare(200), args.requests)
    print(f"{'response':<34} {'µs/request':>10} {'ratio':>6}")
    print(f"{'baseline (no headers attribute)':<34} {baseline_us:>10.3f} {1.0:>6.3f}")
    for client, make in (("requests", CaseInsensitiveDict), ("geventhttpclient", FastHeaders)):
        for what, headers in (("none", ORDINARY), ("cache+timing", SIGNALLING)):
            cost_us = per_request_us(Response(200, make(headers)), args.requests)
            label = f"{client}: {what}"
            print(f"{label:<34} {cost_us:>10.3f} {cost_us / baseline_us:>6.3f}")
        for what, status, headers in (("429 hinted", 429, HINTED_429), ("429 bare", 429, ORDINARY)):
            cost_us = per_request_us(Response(status, make(headers)), args.requests)
            label = f"{client}: {what}"
            print(f"{label:<34} {cost_us:>10.3f} {cost_us / baseline_us:>6.3f}")
        keyed = Response(200, make(ORDINARY), Sent(make({KEY_HEADER: "key-0417", **ORDINARY})))
        cost_us = per_request_us(keyed, args.requests, key_header=KEY_HEADER)
        label = f"{client}: keys counted"
        print(f"{label:<34} {cost_us:>10.3f} {cost_us / baseline_us:>6.3f}")
    print(f"one endpoint-second at {MAX_KEYS_PER_SECOND:,} keys: {keys_memory_kib():.0f} KiB held")


if __name__ == "__main__":
    main()
