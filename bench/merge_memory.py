"""RSS of a master's merge and store path over a long run, fed synthetic worker pieces.

What grows in a master could be Locust's (its statistics, ZeroMQ), or ours:
WorkerMerge holding pieces, the writer merging them, the store appending rows.
This runs only ours, on one thread, with no Locust: one worker's report a
second of 20 endpoints' pieces (histograms as bench/master_merge.py builds
them), released and stored as a master's ticker does, for --minutes of
simulated time (as fast as it goes), the process's RSS printed every 5
simulated minutes. Flat, as in bench/soak.py: the last sample within 10% of
the one at minute 5 (the store's page cache fills with the first MiBs of rows).

    .venv/bin/python bench/merge_memory.py [--minutes 60] [--db URL]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from master_merge import T0, Clock, histogram_pool, pieces  # a sibling bench script

from loadgate.engine.collector import Collector
from loadgate.engine.shipping import WorkerReport
from loadgate.engine.worker_merge import WorkerMerge
from loadgate.engine.writer import SecondsWriter
from loadgate.model import NewRun
from loadgate.store import RunStore

FLAT_RATIO = 1.10
SAMPLE_EVERY_S = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--db", help="a store URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    rng = random.Random(9)
    pool = histogram_pool(rng)
    process = psutil.Process()
    samples: list[int] = []
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        with RunStore.open(url) as store:
            run_id = store.create_run(
                NewRun(name="merge-memory-bench", script_path="-", script_text="", host="-",
                       started_at=datetime.now(UTC))
            )  # fmt: skip
            clock = Clock()
            merge = WorkerMerge(clock_s=clock)
            merge.live_workers = lambda: {"worker": 1}
            writer = SecondsWriter(store, run_id, Collector(clock_s=clock), pieces=merge)
            for elapsed_s in range(args.minutes * 60 + 1):
                second = T0 + elapsed_s
                clock.now_s = second + 1.05
                report = WorkerReport(
                    pieces=pieces(second, pool, rng), complete_before=second + 1,
                    final=False, cpu_percent=40.0 + elapsed_s % 50, sent_at_s=second + 1.0,
                    users=1,
                )  # fmt: skip
                merge.add("worker", report)
                writer.tick(clock.now_s, users=1)
                if elapsed_s % SAMPLE_EVERY_S == 0:
                    samples.append(process.memory_info().rss)
                    rss_mib = samples[-1] / 2**20
                    print(f"{elapsed_s // 60:4d} min  RSS {rss_mib:6.1f} MiB", flush=True)
    if len(samples) < 3:
        sys.exit("--minutes must be 10 or more: nothing to compare")
    ratio = samples[-1] / samples[1]
    verdict = "flat" if ratio <= FLAT_RATIO else "GROWS"
    print(f"RSS at minute 5 {samples[1] / 2**20:.1f} MiB, at minute {args.minutes} "
          f"{samples[-1] / 2**20:.1f} MiB ({ratio:.3f}×): {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
