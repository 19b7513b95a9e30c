"""Reading a long open-model run's scheduler counts: time and peak memory against run length.

    .venv/bin/python bench/arrival_read.py [HOURS]   (default 1; SQLite in a temp folder)

Stores HOURS of synthetic `arrival_seconds` (2 workers' pieces a second, a
realistic start-lag histogram each: a few hundred buckets of 0.2-50 ms) and
reads them back the way the outputs do (RunStore.iter_arrival_seconds folded
by stats.arrivals.add_up), measuring wall time and tracemalloc's peak. The
baseline in the same run is the same read of a tenth as many seconds: the
read should grow in time with the run, not in memory.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from loadgate.model import ArrivalSecond, MeasuredBatch, NewRun
from loadgate.stats import LatencyHistogram
from loadgate.stats.arrivals import add_up
from loadgate.store import RunStore

WORKERS = 2
START_S = 1_800_000_000


def _lag(rng: random.Random) -> bytes:
    histogram = LatencyHistogram()
    for _ in range(100):
        histogram.record_us(int(rng.lognormvariate(7.5, 1.0)), rng.randint(1, 5))
    return histogram.encode()


def _store(store: RunStore, seconds: int) -> int:
    run_id = store.create_run(NewRun(name="arrival-read", script_path="x.py", script_text="",
                                     host="", started_at=datetime.now(UTC)))  # fmt: skip
    rng = random.Random(7)
    lags = [_lag(rng) for _ in range(50)]  # encoding is not what is measured
    batch: list[ArrivalSecond] = []
    for second in range(START_S, START_S + seconds):
        for _worker in range(WORKERS):
            batch.append(ArrivalSecond(second=second, iterations=100, dropped_iterations=0,
                                       start_lag=rng.choice(lags)))  # fmt: skip
        if len(batch) >= 2000:
            store.append_batches(run_id, [MeasuredBatch(batch_id="", arrivals=batch)])
            batch = []
    store.append_batches(run_id, [MeasuredBatch(batch_id="", arrivals=batch)])
    return run_id


def _read(store: RunStore, run_id: int) -> tuple[float, float]:
    tracemalloc.start()
    started = time.perf_counter()
    totals = add_up(store.iter_arrival_seconds(run_id))
    elapsed_s = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert totals.iterations == 100 * WORKERS * totals.seconds
    return elapsed_s, peak / 1e6


def main() -> None:
    hours = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    seconds = int(hours * 3600)
    with (
        tempfile.TemporaryDirectory() as folder,
        RunStore.open(f"sqlite:///{Path(folder) / 'runs.db'}") as store,
    ):
        small, large = _store(store, seconds // 10), _store(store, seconds)
        small_s, small_mb = _read(store, small)
        large_s, large_mb = _read(store, large)
    print(f"{seconds // 10} s of run: read in {small_s:.2f} s, peak {small_mb:.1f} MB")
    print(f"{seconds} s of run: read in {large_s:.2f} s, peak {large_mb:.1f} MB")
    print(
        f"ratio (10x the seconds): time x{large_s / small_s:.1f}, memory x{large_mb / small_mb:.2f}"
    )


if __name__ == "__main__":
    main()
