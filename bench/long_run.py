"""Time and peak memory of `show`, `report` and `compare` on long synthetic stored runs.

Builds, through the store's own API (RunStore.create_run, append, finish_run,
then the whole-run read and store_totals that `loadgate run` makes at its end),
runs of 1 hour and 4 hours (by default; `--hours`): 8 endpoints, 10,000 req/s
in all, each second of each endpoint an HDR histogram with a realistic
latency spread (log-normal around a per-endpoint median, a slow tail, a few
failures). Two runs of each length are built, the second 15 % slower on one
endpoint, so that `compare` has something to find.

Histograms are built with `record_us(value, count)` over a latency grid, and
encoded once per distinct shape (a few variants per endpoint), then reused:
building a 4-hour run costs what storing its rows costs.

Then each command runs as a subprocess of the installed CLI, its wall time
measured and its peak RSS read from the child's rusage (os.wait4). Nothing is
judged here: the goals are in README ("Long runs").

    .venv/bin/python bench/long_run.py [--hours 1 4] [--keep DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loadgate.model import EndpointSecond, NewRun, RunStatus, UsersSample
from loadgate.stats import LatencyHistogram
from loadgate.store import RunStore
from loadgate.store.run_view import read_run_view

TOTAL_RATE_PER_S = 10_000
# (method, name, share of the requests, median latency in µs, failure ratio)
ENDPOINTS: tuple[tuple[str, str, float, int, float], ...] = (
    ("GET", "/v1/products", 0.30, 4_000, 0.0),
    ("GET", "/v1/products/[id]", 0.20, 6_000, 0.001),
    ("GET", "/v1/search", 0.15, 25_000, 0.002),
    ("POST", "/v1/cart", 0.10, 12_000, 0.0),
    ("GET", "/v1/users/profile", 0.10, 8_000, 0.0),
    ("POST", "/v1/checkout", 0.08, 60_000, 0.01),
    ("GET", "/health", 0.05, 400, 0.0),
    ("DELETE", "/v1/cart/items", 0.02, 15_000, 0.005),
)
VARIANTS_PER_ENDPOINT = 12  # distinct histogram shapes per endpoint, reused across seconds
SIGMA = 0.45  # log-normal spread: p99 about 3x the median
GRID_STEPS = 160  # latency grid points per histogram
APPEND_BATCH_S = 60  # seconds per append call (the engine appends every second)
SLOWER_ENDPOINT = "/v1/search"
SLOWER_FACTOR = 1.15
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
COMMANDS = ("show", "report", "compare")


@dataclass(frozen=True)
class Shape:
    """One encoded second of one endpoint: what append stores, minus the second."""

    requests: int
    failures: int
    encoded: bytes


def _shape(rng: random.Random, median_us: float, requests: int, failure_ratio: float) -> Shape:
    histogram = LatencyHistogram()
    # Log-normal weights over a geometric grid from median/5 to median*20.
    low, high = math.log(median_us / 5), math.log(median_us * 20)
    points = [low + (high - low) * i / (GRID_STEPS - 1) for i in range(GRID_STEPS)]
    jitter = rng.uniform(0.9, 1.1)
    weights = [math.exp(-(((p - math.log(median_us * jitter)) / SIGMA) ** 2) / 2) for p in points]
    scale = requests / sum(weights)
    counts = [int(w * scale) for w in weights]
    counts[GRID_STEPS // 2] += requests - sum(counts)
    for point, count in zip(points, counts, strict=True):
        if count:
            histogram.record_us(round(math.exp(point)), count)
    return Shape(
        requests=requests, failures=round(requests * failure_ratio), encoded=histogram.encode()
    )


def _shapes(seed: int, slower: bool) -> dict[str, list[Shape]]:
    rng = random.Random(seed)
    shapes: dict[str, list[Shape]] = {}
    for _method, name, share, median_us, failure_ratio in ENDPOINTS:
        factor = SLOWER_FACTOR if slower and name == SLOWER_ENDPOINT else 1.0
        shapes[name] = [
            _shape(rng, median_us * factor, round(TOTAL_RATE_PER_S * share), failure_ratio)
            for _ in range(VARIANTS_PER_ENDPOINT)
        ]
    return shapes


def _second(second: int, method: str, name: str, shape: Shape) -> EndpointSecond:
    ok = shape.requests - shape.failures
    failed = {"503": shape.failures} if shape.failures else {}
    return EndpointSecond(
        second=second,
        method=method,
        name=name,
        requests=shape.requests,
        failures=shape.failures,
        bytes_received=shape.requests * 512,
        histogram=shape.encoded,
        ok_status_counts={"200": ok},
        failed_status_counts=failed,
        errors={"HTTPError('503 Server Error')": shape.failures} if shape.failures else {},
    )


def build_run(
    store: RunStore,
    name: str,
    duration_s: int,
    *,
    slower: bool,
    with_totals: bool = True,
    as_run_ends: bool = True,
) -> int:
    """Store one synthetic run through the store's API; returns its id.

    It ends as `loadgate run` ends it: one whole-run read (which keeps the
    run's folded view, store/kept_view.py), whose fold is stored as its
    totals. `as_run_ends=False` stores the totals alone (folded by
    store_totals), as for a run imported or ended otherwise: its first
    whole-run reader folds the seconds. `with_totals=False` leaves it as a
    run ended by a second Ctrl-C is: its readers fold every second
    (tests/store/test_memory.py reads such runs).
    """
    started_at = START
    run_id = store.create_run(
        NewRun(
            name=name,
            script_path="bench/long_run.py",
            script_text="# synthetic\n",
            host="http://synthetic",
            started_at=started_at,
            settings={"users": 500, "synthetic": True},
        )
    )
    shapes = _shapes(seed=1 if slower else 0, slower=slower)
    rng = random.Random(7)
    first = int(started_at.timestamp())
    for batch_start in range(0, duration_s, APPEND_BATCH_S):
        seconds: list[EndpointSecond] = []
        users: list[UsersSample] = []
        for offset in range(batch_start, min(duration_s, batch_start + APPEND_BATCH_S)):
            for method, endpoint, *_ in ENDPOINTS:
                shape = shapes[endpoint][rng.randrange(VARIANTS_PER_ENDPOINT)]
                seconds.append(_second(first + offset, method, endpoint, shape))
            users.append(UsersSample(second=first + offset, users=min(500, 10 * (offset + 1))))
        store.append(run_id, seconds, users)
    store.finish_run(run_id, RunStatus.COMPLETED, started_at + timedelta(seconds=duration_s))
    if with_totals and as_run_ends:
        view = read_run_view(store, store.get_run(run_id))  # as cli/run_outputs.finish reads it
        store.store_totals(run_id, view.fold)
    elif with_totals:
        store.store_totals(run_id)
    return run_id


@dataclass(frozen=True)
class Measured:
    wall_s: float
    peak_rss_mb: float
    exit_code: int


def measure(arguments: list[str]) -> Measured:
    """Run the installed CLI once; wall time and the child's own peak RSS."""
    loadgate = Path(sys.executable).parent / "loadgate"
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(loadgate), *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    wall_s = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stderr is not None
    errors = process.stderr.read().decode(errors="replace").strip()
    process.stderr.close()
    if process.returncode not in (0, 98):  # 98: compare found a regression
        print(f"  loadgate {' '.join(arguments)} exited {process.returncode}: {errors}")
    # Linux reports ru_maxrss in KiB.
    return Measured(wall_s, usage.ru_maxrss / 1024, process.returncode)


def bench_length(folder: Path, hours: float) -> dict[str, Measured]:
    duration_s = round(hours * 3600)
    db = folder / f"long-{hours:g}h.db"
    url = f"sqlite:///{db}"
    began = time.perf_counter()
    with RunStore.open(url) as store:
        base = build_run(store, f"long-{hours:g}h", duration_s, slower=False)
        candidate = build_run(store, f"long-{hours:g}h", duration_s, slower=True)
    built_s = time.perf_counter() - began
    size_mb = db.stat().st_size / 2**20
    print(f"{hours:g} h: built 2 runs in {built_s:.1f} s ({size_mb:.0f} MB of SQLite)")
    report = folder / f"report-{hours:g}h.html"
    arguments = {
        "show": ["show", str(candidate), "--db", url],
        "report": ["report", str(candidate), "-o", str(report), "--db", url],
        "compare": ["compare", str(base), str(candidate), "--db", url],
    }
    results = {command: measure(arguments[command]) for command in COMMANDS}
    if report.exists():
        print(f"  report size: {report.stat().st_size / 2**20:.1f} MB")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, nargs="+", default=[1.0, 4.0])
    parser.add_argument("--keep", type=Path, help="build into this folder and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="loadgate-long-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        table = {hours: bench_length(folder, hours) for hours in args.hours}
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{'run':>6}  {'command':<8} {'wall s':>8} {'peak RSS MB':>12}")
    for hours, results in table.items():
        for command, result in results.items():
            print(f"{hours:>5g}h  {command:<8} {result.wall_s:>8.2f} {result.peak_rss_mb:>12.0f}")


if __name__ == "__main__":
    main()
