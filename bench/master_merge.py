"""How many workers one master can serve: its merge and store path, fed synthetic worker pieces.

A distributed run's master does three things per worker piece (one endpoint's
second from one worker): take it from Locust's report (WorkerMerge.add), hold
it until its second is complete (take_ready), then, on the writer thread,
merge the pieces of each (second, method, name, region) into one row (HDR
decode, add, encode) and append the rows to the store. This bench does exactly
that, on one thread, as fast as it goes: W workers x 20 endpoints per
second, realistic histograms (a few hundred log-normal latencies each,
HDR-encoded as a worker would ship them), and reports the worker pieces
merged and stored per second of this process's CPU time, hence the number of
workers (each sending 20 endpoint-seconds a second) one master core keeps up
with. Aim: 4,000 pieces per CPU second (200 workers x 20 endpoints).

    .venv/bin/python bench/master_merge.py [--workers 50] [--seconds 20] [--db URL]

Without --db, a temporary SQLite file. Locust is not involved: the master's
own ZeroMQ and msgpack costs are not counted (Locust's to pay either way).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from loadgate.engine.collector import Collector
from loadgate.engine.shipping import WorkerReport
from loadgate.engine.worker_merge import WorkerMerge
from loadgate.engine.writer import SecondsWriter
from loadgate.model import EndpointSecond, NewRun
from loadgate.stats import LatencyHistogram
from loadgate.store import RunStore

ENDPOINTS = 20
SAMPLES_PER_PIECE = 200
HISTOGRAM_POOL = 64
T0 = 1_800_000_000


class Clock:
    def __init__(self) -> None:
        self.now_s = float(T0)

    def __call__(self) -> float:
        return self.now_s


def histogram_pool(rng: random.Random) -> list[bytes]:
    """Encoded histograms like a worker's: log-normal latencies around 5-50 ms."""
    pool = []
    for _ in range(HISTOGRAM_POOL):
        histogram = LatencyHistogram()
        median_us = rng.uniform(5_000, 50_000)
        for _ in range(SAMPLES_PER_PIECE):
            histogram.record_us(max(1, int(rng.lognormvariate(0, 0.6) * median_us)))
        pool.append(histogram.encode())
    return pool


def pieces(second: int, pool: list[bytes], rng: random.Random) -> list[EndpointSecond]:
    return [
        EndpointSecond(
            second=second,
            method="GET",
            name=f"/v1/endpoint/{index}",
            requests=SAMPLES_PER_PIECE,
            failures=0,
            bytes_received=SAMPLES_PER_PIECE * 512,
            histogram=rng.choice(pool),
            ok_status_counts={"200": SAMPLES_PER_PIECE},
        )
        for index in range(ENDPOINTS)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--db", help="a store URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    rng = random.Random(9)
    pool = histogram_pool(rng)
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        with RunStore.open(url) as store:
            run_id = store.create_run(
                NewRun(name="master-merge-bench", script_path="-", script_text="", host="-",
                       started_at=datetime.now(UTC))
            )  # fmt: skip
            clock = Clock()
            merge = WorkerMerge(clock_s=clock)
            workers = [f"worker-{index}" for index in range(args.workers)]
            merge.live_workers = lambda: dict.fromkeys(workers, 1)
            writer = SecondsWriter(store, run_id, Collector(clock_s=clock), pieces=merge)
            # Built beforehand: the workers' work, not the master's.
            reports = {
                second: [
                    WorkerReport(pieces=pieces(second, pool, rng), complete_before=second + 1,
                                 final=False, cpu_percent=50.0, sent_at_s=second + 1.0,
                                 users=1, region="bench")
                    for _ in workers
                ]
                for second in range(T0, T0 + args.seconds)
            }  # fmt: skip
            cpu_start_s, wall_start_s = time.process_time(), time.perf_counter()
            for second in range(T0, T0 + args.seconds):
                clock.now_s = second + 1.05
                for worker, report in zip(workers, reports[second], strict=True):
                    merge.add(worker, report)
                writer.tick(clock.now_s, users=args.workers)
            cpu_s = time.process_time() - cpu_start_s
            wall_s = time.perf_counter() - wall_start_s
            stored = sum(1 for _ in store.iter_endpoint_seconds(run_id))
    merged = args.workers * ENDPOINTS * args.seconds
    rate = merged / cpu_s
    print(f"store: {url.split('://')[0]}; {args.workers} workers x {ENDPOINTS} endpoints x "
          f"{args.seconds} s = {merged} worker pieces -> {stored} stored rows")  # fmt: skip
    print(f"CPU {cpu_s:.2f} s (wall {wall_s:.2f} s): {rate:,.0f} worker pieces merged and "
          f"stored per CPU second")  # fmt: skip
    print(f"one master core keeps up with about {rate / ENDPOINTS:,.0f} workers "
          f"sending {ENDPOINTS} endpoints each")  # fmt: skip


if __name__ == "__main__":
    main()
