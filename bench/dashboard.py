"""Time of the dashboard's runs page and a 10-minute run's page over a store of 5,000 runs.

Builds, through the store's own API, 4,998 short runs (2 s, 8 endpoints,
their totals and listed numbers stored as `loadgate run` stores them; 20
names, one run in 10 aborted) and two 10-minute runs (long_run.py's: 8
endpoints, 10,000 req/s): one ended as `loadgate run` ends it (its folded
view kept, store/kept_view.py), one with its totals alone (an imported run:
its first view folds its seconds). Then serves them with `loadgate
dashboard` and times each page over HTTP: the first request, then REPEATS,
median and worst; and the dashboard's CPU time (user + system) for the
first request, which the machine's other load does not inflate as much as
the wall time (counted in 10 ms ticks). A short run's page is viewed
before any is timed, so that the dashboard process's one-time costs
(templates compiled, modules loaded) are not counted as a long run's. The
dashboard's peak RSS (VmHWM) is read at the end.

Baselines measured in the same run, on the same store: `loadgate runs`
(the terminal's list of 50) and `loadgate report` of the long run (the
one-file report): each page's time is also given as a ratio of them.
Goals (README): runs page under 200 ms, the long run's page under 500 ms.

    .venv/bin/python bench/dashboard.py [--runs 5000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from long_run import (  # bench/long_run.py: the synthetic runs' shapes
    ENDPOINTS,
    START,
    VARIANTS_PER_ENDPOINT,
    _second,
    _shapes,
    build_run,
    measure,
)

from loadgate.model import NewRun, RunStatus, ThresholdOutcome
from loadgate.store import RunStore

SHORT_RUN_S = 2
NAMES = 20
REPEATS = 10
LONG_RUN_S = 600


def fill(store: RunStore, runs: int) -> tuple[int, int]:
    """`runs - 2` short runs, then the two long ones; returns their ids (kept view, folded)."""
    shapes = _shapes(seed=0, slower=False)
    rng = random.Random(11)
    for index in range(runs - 2):
        started_at = START + timedelta(minutes=index)
        run_id = store.create_run(
            NewRun(
                name=f"nightly-{index % NAMES}" + ("-eu" if index % 7 == 0 else ""),
                script_path="bench/dashboard.py",
                script_text="# synthetic\n",
                host="http://synthetic",
                started_at=started_at,
                settings={"users": 50, "synthetic": True},
            )
        )
        first = int(started_at.timestamp())
        store.append(
            run_id,
            [
                _second(
                    first + offset, method, name, shapes[name][rng.randrange(VARIANTS_PER_ENDPOINT)]
                )
                for offset in range(SHORT_RUN_S)
                for method, name, *_ in ENDPOINTS
            ],
        )
        status = RunStatus.ABORTED if index % 10 == 9 else RunStatus.COMPLETED
        store.finish_run(run_id, status, started_at + timedelta(seconds=SHORT_RUN_S))
        store.store_totals(run_id)
        total = store.summary(run_id).total
        outcome = ThresholdOutcome.FAILED if index % 13 == 0 else ThresholdOutcome.PASSED
        store.store_listing(run_id, (total.p50_ms, total.p95_ms, total.p99_ms), outcome)
        if index % 500 == 0:
            print(f"  {index} runs stored", file=sys.stderr)
    long_ids = (
        build_run(store, "long", LONG_RUN_S, slower=False),
        build_run(store, "long-imported", LONG_RUN_S, slower=False, as_run_ends=False),
    )
    for long_id in long_ids:
        total = store.summary(long_id).total
        percentiles_ms = (total.p50_ms, total.p95_ms, total.p99_ms)
        store.store_listing(long_id, percentiles_ms, ThresholdOutcome.NONE)
    return long_ids


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def timed_ms(client: httpx.Client, path: str, pid: int) -> tuple[float, float, float, float]:
    """The first request's time and the server's CPU for it, then the median and worst
    of REPEATS more (ms).

    The first view of an ended run's page renders it; later views are served
    from the dashboard's page cache (web/page_cache.py).
    """
    cpu_before = cpu_ms(pid)
    started = time.perf_counter()
    assert client.get(path).status_code == 200, path
    first_ms = (time.perf_counter() - started) * 1000
    first_cpu_ms = cpu_ms(pid) - cpu_before
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, path
    return first_ms, first_cpu_ms, statistics.median(times), max(times)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--keep", type=Path, help="build the store in DIR and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="loadgate-bench-dashboard-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{folder / 'runs.db'}"
    started = time.perf_counter()
    with RunStore.open(db_url) as store:
        long_id, imported_id = fill(store, args.runs)
        middle_id = store.list_runs(1)[0].run.run_id // 2
    print(f"store: {args.runs} runs in {time.perf_counter() - started:.0f} s ({db_url})")

    runs_s = measure(["runs", "--db", db_url]).wall_s
    report_s = measure(
        ["report", str(long_id), "-o", str(folder / "long.html"), "--db", db_url]
    ).wall_s
    port = free_port()
    loadgate = Path(sys.executable).parent / "loadgate"
    process = subprocess.Popen(
        [str(loadgate), "dashboard", "--port", str(port), "--db", db_url],
        stdout=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    client.get("/runs")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            # A short run's page first: the process's one-time costs (templates
            # compiled, modules loaded) are not the long runs' first views.
            assert client.get("/runs/1").status_code == 200
            pages = {
                "runs page (newest 50)": ("/runs", runs_s),
                "runs page, halfway down": (f"/runs?before={middle_id}", runs_s),
                "runs page, by name": ("/runs?name=nightly-7", runs_s),
                "runs page, aborted only": ("/runs?status=aborted", runs_s),
                "runs page, text 'eu'": ("/runs?q=eu", runs_s),
                f"10-minute run {long_id}, view kept": (f"/runs/{long_id}", report_s),
                f"10-minute run {imported_id}, folded": (f"/runs/{imported_id}", report_s),
            }
            print(
                f"{'page':36} {'first ms':>9} {'CPU ms':>7} {'median ms':>10} {'worst ms':>9}"
                "  first/baseline"
            )
            for label, (path, baseline_s) in pages.items():
                first_ms, first_cpu_ms, median_ms, worst_ms = timed_ms(client, path, process.pid)
                ratio = first_ms / (baseline_s * 1000)
                print(
                    f"{label:36} {first_ms:9.1f} {first_cpu_ms:7.0f} {median_ms:10.1f}"
                    f" {worst_ms:9.1f}  {ratio:.2f}"
                )
        print(f"baselines: loadgate runs {runs_s * 1000:.0f} ms, report {report_s * 1000:.0f} ms")
        print(f"dashboard peak RSS: {peak_rss_mb(process.pid):.0f} MB")
    finally:
        process.terminate()
        process.wait(timeout=10)
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
