"""CPU of one live-view event, piece by piece, as a stored run is replayed second by second.

Copies a stored run (`--db`, `--run`; bench/live_view.py --keep DIR makes
one) into a new store as a running run, one second at a time, as its
writer stored it. After each second the dashboard's live read
(web/live_read.py) reads it, as the live view does every second; at each
checkpoint the CPU time of one event is measured, the median of REPEATS:
the live read, the event's rendering (the report's charts and endpoint
table, report/), its JSON text, and, for comparison, the whole read the live view made
before (run_reading.read_for_report). All in this one process, so the
ratios between checkpoints do not depend on other jobs' load.

With --memory, the memory Python holds (tracemalloc, after the live read)
is given instead of times: what the live read keeps as the run goes on
(tracing slows everything, so times are not measured then).

    .venv/bin/python bench/live_replay.py --db sqlite:///DIR/runs.db [--run 1] [--every-s 60]
        [--memory]
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import tempfile
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from loadgate.model import (
    EndpointSecond,
    NewRun,
    Part,
    PartHistogram,
    RunInfo,
    RunStatus,
    UsersSample,
)
from loadgate.run_reading import read_for_report
from loadgate.store import RunStore
from loadgate.web.live_feed import update_of
from loadgate.web.live_read import LiveRead

REPEATS = 5


def cpu_ms(action: Callable[[], object]) -> float:
    """The median process CPU time of `action`, over REPEATS calls (ms)."""
    times = []
    for _ in range(REPEATS):
        started = time.process_time()
        action()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def by_second(source: RunStore, run_id: int) -> dict[int, list[EndpointSecond]]:
    """The run's endpoint-seconds with their parts, by second, ready to append again."""
    parts: dict[tuple[int, str, str], dict[Part, PartHistogram]] = defaultdict(dict)
    for piece in source.iter_part_seconds(run_id):
        parts[piece.second, piece.method, piece.name][piece.part] = PartHistogram(
            requests=piece.requests, histogram=piece.histogram
        )
    seconds: dict[int, list[EndpointSecond]] = defaultdict(list)
    for second in source.iter_endpoint_seconds(run_id):
        own = parts.get((second.second, second.method, second.name), {})
        seconds[second.second].append(replace(second, parts=own))
    return seconds


def replay(
    run: RunInfo,
    seconds: dict[int, list[EndpointSecond]],
    users: dict[int, UsersSample],
    folder: Path,
    *,
    every_s: int,
    memory: bool,
) -> None:
    """Append `run`'s seconds to a new store in `folder` one by one; print each checkpoint."""
    with RunStore.open(f"sqlite:///{folder / 'runs.db'}") as store:
        run_id = store.create_run(
            NewRun(name=run.name, script_path=run.script_path, script_text=run.script_text,
                   host=run.host, started_at=run.started_at, settings=dict(run.settings))
        )  # fmt: skip
        live = LiveRead(store, run_id)
        if memory:
            tracemalloc.start()
            print(f"{'stored s':>8} {'held MB':>8}")
        else:
            print(f"{'stored s':>8} {'live read ms':>13} {'render ms':>10} {'JSON ms':>8} "
                  f"{'whole read ms':>14}")  # fmt: skip
        first = min(seconds)
        for at in range(first, max(seconds) + 1):
            store.append(run_id, seconds.get(at, []), [users[at]] if at in users else [])
            running = store.get_run(run_id)
            assert running.status is RunStatus.RUNNING
            read = live.read(running)  # one tick, as the live view makes it every second
            stored_s = at - first + 1
            if stored_s % every_s == 0 and memory:
                gc.collect()
                print(f"{stored_s:8d} {tracemalloc.get_traced_memory()[0] / 2**20:8.1f}")
            elif stored_s % every_s == 0:
                live_ms = cpu_ms(lambda: live.read(running))  # noqa: B023
                render_ms = cpu_ms(lambda: update_of(running, *read))  # noqa: B023
                whole_ms = cpu_ms(lambda: read_for_report(store, running))  # noqa: B023
                event = update_of(running, *read)
                json_ms = cpu_ms(lambda: json.dumps(event))  # noqa: B023
                print(f"{stored_s:8d} {live_ms:13.0f} {render_ms:10.0f} {json_ms:8.0f} "
                      f"{whole_ms:14.0f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="the store holding the run to replay")
    parser.add_argument("--run", type=int, default=1)
    parser.add_argument("--every-s", type=int, default=60, help="seconds between checkpoints")
    parser.add_argument("--memory", action="store_true", help="memory held, not times")
    args = parser.parse_args()
    with RunStore.open(args.db) as source:
        run = source.get_run(args.run)
        seconds = by_second(source, run.run_id)
        users = {u.second: u for u in source.user_samples(run.run_id)}
    folder = Path(tempfile.mkdtemp(prefix="loadgate-bench-replay-"))
    try:
        replay(run, seconds, users, folder, every_s=args.every_s, memory=args.memory)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
