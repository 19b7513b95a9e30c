"""What the distributed path costs: one process, `--processes 1` and `--processes 2`, against nginx.

One nginx from Debian (one worker process, `return 200`) is the target; the
same FastHttpUser script without waits runs three times, one after the
other: as one process, as a master with one forked worker, and as a master
with two. In each run, after a warm-up, the CPU time of loadgate's whole
process tree (the master and its workers: psutil, user + system) and the
requests nginx served (stub_status) are sampled at the start and the end of
a steady window; printed are requests per second and µs of CPU per request,
and each mode's cost relative to one process (aim: at most 1.10 for the
distributed path). The master's own work (merging, storing) is included.

    .venv/bin/python bench/scale.py [--seconds 20] [--users 10]

On a machine with fewer cores than workers + nginx, requests per second say
more about the machine than about loadgate; CPU per request still compares.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from overhead import SCRIPT, served, start_nginx  # a sibling bench script

WARMUP_S = 4.0
MODES: dict[str, list[str]] = {
    "one process": [],
    "--processes 1": ["--processes", "1"],
    "--processes 2": ["--processes", "2"],
}


@dataclass(frozen=True)
class Result:
    mode: str
    requests_per_s: float
    cpu_us_per_request: float
    master_us_per_request: float  # the parent process alone (the master, or the one process)


def tree_cpu_s(root: psutil.Process) -> tuple[float, float]:
    """CPU seconds of a process and its live children (a child's time is lost once it exits),
    and of the process alone."""
    total = own = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
        if process.pid == root.pid:
            own = times.user + times.system
    return total, own


def measure(mode: str, script: Path, url: str, db: str, args: argparse.Namespace) -> Result:
    command = [
        str(Path(sys.executable).parent / "loadgate"), "run", str(script), "-H", url,
        "-u", str(args.users), "-r", str(args.users), "-t", f"{int(WARMUP_S + args.seconds + 3)}s",
        "-q", "--db", db, *MODES[mode],
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        root = psutil.Process(process.pid)
        time.sleep(WARMUP_S)
        cpu_start_s, served_start, wall_start_s = tree_cpu_s(root), served(url), time.monotonic()
        time.sleep(args.seconds)
        cpu_end_s, served_end, wall_end_s = tree_cpu_s(root), served(url), time.monotonic()
    finally:
        process.wait(timeout=120)
    requests = served_end - served_start - 1  # less our own status read
    return Result(
        mode=mode,
        requests_per_s=requests / (wall_end_s - wall_start_s),
        cpu_us_per_request=(cpu_end_s[0] - cpu_start_s[0]) / requests * 1e6,
        master_us_per_request=(cpu_end_s[1] - cpu_start_s[1]) / requests * 1e6,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loadgate-scale-") as folder:
        root = Path(folder)
        script = root / "hammer.py"
        script.write_text(SCRIPT)
        nginx, url = start_nginx(root / "nginx", None)
        try:
            results = [
                measure(mode, script, url, f"sqlite:///{root / 'runs.db'}", args) for mode in MODES
            ]
        finally:
            nginx.terminate()
            nginx.wait()
    base = results[0].cpu_us_per_request
    print(f"nginx (1 worker process), FastHttpUser without waits, {args.users} users, "
          f"{args.seconds:g} s steady window, {os.cpu_count()} cores")  # fmt: skip
    print(f"{'mode':<16}{'req/s':>10}{'CPU µs/request':>16}{'vs one process':>16}"
          f"{'of which master':>17}")  # fmt: skip
    for result in results:
        print(
            f"{result.mode:<16}{result.requests_per_s:>10,.0f}{result.cpu_us_per_request:>16.1f}"
            f"{result.cpu_us_per_request / base:>16.2f}{result.master_us_per_request:>17.1f}"
        )


if __name__ == "__main__":
    main()
