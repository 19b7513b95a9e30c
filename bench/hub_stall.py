"""The gevent hub's longest stall per second during `loadgate run`: 20 busy endpoints, nginx target.

Runs tests/e2e/stall_harness.py (session.execute with libev watchers of its
own, so any engine version can be measured the same way, under SCHED_FIFO
when run as root so that other programs do not preempt it) against one nginx
on 127.0.0.1, or `--host` (e.g. tests/e2e/delay_server.py: a slower target,
which leaves the hub idle part of the time, as most targets do), and prints
the per-second stalls and their median, 90th percentile and maximum over the
steady seconds (the first 3 and the last 2 left out: loading, spawning,
stopping).

    .venv/bin/python bench/hub_stall.py [--seconds 20] [--users 10] [--host URL] [--normal]

With nginx the generator is busy all the time: use --normal there (no
SCHED_FIFO), or the kernel's throttling of real-time threads (about 50 ms a
second past 95% of a CPU) is what gets measured.
    PYTHONPATH=/tmp/main-src/src .venv/bin/python bench/hub_stall.py   # another checkout
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from overhead import start_nginx  # a sibling script, not a package

REPO = Path(__file__).parents[1]
HARNESS = REPO / "tests" / "e2e" / "stall_harness.py"
SCRIPT = REPO / "tests" / "e2e" / "scripts" / "twenty_endpoints.py"
SKIP_FIRST, SKIP_LAST = 3, 2


def measure(url: str, db_url: str, args: argparse.Namespace) -> list[float]:
    result = subprocess.run(
        [sys.executable, str(HARNESS), str(SCRIPT), url, db_url, str(args.users),
         str(args.seconds), *(["normal"] if args.normal else [])],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    data = json.loads(result.stdout.strip().splitlines()[-1])
    if not data["realtime"]:
        print("(not SCHED_FIFO: other programs on the machine may add to the stalls)")
    stalls: list[float] = data["stalls_ms"]
    return stalls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--host", help="an HTTP target on 127.0.0.1 [a new nginx]")
    parser.add_argument("--normal", action="store_true", help="no SCHED_FIFO")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="loadgate-stall-"))
    nginx, url = start_nginx(root / "nginx", cpu=None) if args.host is None else (None, args.host)
    try:
        stalls = measure(url, f"sqlite:///{root / 'runs.db'}", args)
    finally:
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
    steady = sorted(stalls[SKIP_FIRST:-SKIP_LAST])
    target = "nginx" if args.host is None else args.host
    print(f"hub stall per second, ms ({args.users} users, 20 endpoints, {args.seconds}s, {target})")
    print("  " + " ".join(f"{ms:.1f}" for ms in stalls))
    print(
        f"steady: median {statistics.median(steady):.2f}  "
        f"p90 {steady[int(0.9 * (len(steady) - 1))]:.2f}  max {steady[-1]:.2f}"
    )


if __name__ == "__main__":
    main()
