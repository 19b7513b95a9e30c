"""CPU of the dashboard while one browser watches a run live, minute by minute of the run.

Starts `loadgate run` (examples/seed/browse.py against the built-in gateway,
3 users, RUN_S long) writing to a new SQLite store, `loadgate dashboard`
over that store, and one Server-Sent Events client on the run's
`/runs/ID/events` (as the run page's live view opens it). Every WINDOW_S
it reads the dashboard process's CPU time (user + system, /proc/PID/stat)
and prints the CPU seconds the window cost and the events received in it.

A live view that reads only what is new costs the same per event however
long the run has gone: the CPU per event of the last window the run went
through whole, over the first window's, is the figure (near 1 when it does
not grow; it grows with the run when each event re-reads the whole run).
Both come from the same run, so other jobs on the machine weigh on both
alike. The events per window say whether the view kept its pace (one a
second).

    .venv/bin/python bench/live_view.py [--run-s 300] [--window-s 60] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from loadgate.store import RunStore

SCRIPT = "examples/seed/browse.py"
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def running_run_id(db_url: str, deadline_s: float) -> int:
    """The id of the store's first run, once `loadgate run` has stored it."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        with RunStore.open(db_url) as store:
            listed = store.list_runs(1)
        if listed:
            return listed[0].run.run_id
        time.sleep(0.2)
    raise TimeoutError("the run was not stored in time")


class EventCounter(threading.Thread):
    """An SSE client that counts the events of a run's live view until the stream ends."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.events = 0
        self.bytes = 0

    def run(self) -> None:
        with (
            httpx.Client(timeout=None) as client,
            client.stream("GET", self.url) as response,
        ):
            for line in response.iter_lines():
                self.bytes += len(line)
                if line.startswith("data: "):
                    self.events += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-s", type=int, default=300)
    parser.add_argument("--window-s", type=int, default=60)
    parser.add_argument("--keep", type=Path, help="store the run in DIR/runs.db and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="loadgate-bench-live-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{folder / 'runs.db'}"
    loadgate = Path(sys.executable).parent / "loadgate"
    run = subprocess.Popen(
        [str(loadgate), "run", SCRIPT, "-u", "3", "-r", "3", "-t", f"{args.run_s}s", "-q",
         "--name", "live-bench", "--db", db_url],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    port = free_port()
    dashboard = subprocess.Popen(
        [str(loadgate), "dashboard", "--port", str(port), "--db", db_url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        run_id = running_run_id(db_url, deadline_s=60)
        time.sleep(1)  # the dashboard listening
        counter = EventCounter(f"http://127.0.0.1:{port}/runs/{run_id}/events")
        counter.start()
        print(f"run {run_id}, {args.run_s} s; dashboard pid {dashboard.pid}")
        print(f"{'window':>8} {'CPU s':>7} {'events':>7} {'CPU ms/event':>13} {'RSS MB':>7}")
        cpu_before, events_before = cpu_s(dashboard.pid), 0
        per_event_ms: list[float] = []
        window = 0
        while counter.is_alive():
            counter.join(args.window_s)
            cpu_now, events_now = cpu_s(dashboard.pid), counter.events
            window += 1
            cost = cpu_now - cpu_before
            events = events_now - events_before
            each_ms = 1000 * cost / events if events else float("nan")
            rss = rss_mb(dashboard.pid)
            print(f"{window:8d} {cost:7.2f} {events:7d} {each_ms:13.0f} {rss:7.1f}")
            if counter.is_alive():  # the run went through the whole window
                per_event_ms.append(each_ms)
            cpu_before, events_before = cpu_now, events_now
        if len(per_event_ms) >= 2:
            ratio = per_event_ms[-1] / per_event_ms[0]
            print(f"CPU per event, last whole window / first: {ratio:.2f}")
        print(f"events: {counter.events}, bytes: {counter.bytes}")
    finally:
        dashboard.terminate()
        dashboard.wait(timeout=10)
        run.wait(timeout=60)
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
