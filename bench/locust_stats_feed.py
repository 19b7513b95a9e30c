"""What filling Locust's environment.stats from the collector costs the hub, once a second.

engine.locust_stats adds each finished second to Locust's statistics when the
second ends (on the hub, like the requests). Timed here (timeit, best of
several repeats): `LocustStatsFeed.add` for one second of REQUESTS requests
spread over ENDPOINTS endpoints (7,000: what one busy FastHttpUser process
sends to nginx), latencies drawn from a log-normal around 1.5 ms (about
2,000 distinct µs values in an endpoint-second of 7,000), first with the
rounding memory empty, then warm. Then the memory that rounding memory holds
at its bound (every HDR bucket floor from 1 µs to 1 h remembered), by
tracemalloc.

    .venv/bin/python bench/locust_stats_feed.py [--requests 7000] [--endpoints 1 20]
"""

from __future__ import annotations

import argparse
import random
import timeit
import tracemalloc

import locust  # gevent's patching first, as in a run
from locust.env import Environment

from loadgate.engine.collector import Collector, FinishedSecond
from loadgate.engine.locust_stats import LocustRounding, LocustStatsFeed
from loadgate.stats.histogram import SUB_BUCKET_BITS, bucket_floor_us

SECOND = 1_800_000_000
MAX_US = 3_600_000_000


def one_second(requests: int, endpoints: int, seed: int) -> FinishedSecond:
    rng = random.Random(seed)
    collector = Collector(lambda: SECOND + 0.5)
    for index in range(requests):
        collector.on_request(
            request_type="GET",
            name=f"/endpoint/{index % endpoints}",
            response_time=rng.lognormvariate(0.4, 0.4),
            response_length=100,
        )
    (finished,) = collector.take_all()
    return finished


def feed_s(finished: FinishedSecond) -> tuple[float, float]:
    """Seconds `add` takes: the first time (rounding memory empty), then the best warm time."""
    feed = LocustStatsFeed(Environment(events=locust.events))
    cold_s = timeit.timeit(lambda: feed.add(finished), number=1)
    warm_s = min(timeit.repeat(lambda: feed.add(finished), number=20, repeat=5)) / 20
    return cold_s, warm_s


def every_bucket_floor_us() -> list[int]:
    floors, value_us = [], 1
    while value_us <= MAX_US:
        floor_us = bucket_floor_us(value_us)
        floors.append(floor_us)
        value_us = floor_us + (1 << max(0, value_us.bit_length() - SUB_BUCKET_BITS))
    return floors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=7000, help="in the second, in all")
    parser.add_argument("--endpoints", type=int, nargs="+", default=[1, 20])
    args = parser.parse_args()
    for endpoints in args.endpoints:
        finished = one_second(args.requests, endpoints, seed=endpoints)
        distinct = sum(len(t.latency_counts) for t in finished.tallies.values())
        cold_s, warm_s = feed_s(finished)
        print(
            f"{args.requests} requests over {endpoints} endpoints ({distinct} distinct values): "
            f"first second {cold_s * 1e3:.2f} ms, then {warm_s * 1e3:.2f} ms a second"
        )
    floors = every_bucket_floor_us()
    counts = dict.fromkeys(floors, 1)
    tracemalloc.start()
    rounding = LocustRounding()
    rounding.response_times(counts)
    held, _peak = tracemalloc.get_traced_memory()
    print(f"rounding memory at its bound ({len(floors)} values): {held / 2**20:.2f} MiB")


if __name__ == "__main__":
    main()
