"""RSS of the generator over a long run at a steady rate: does memory stay flat?

One nginx from Debian (one worker process, `return 200`) is the target of one
`loadgate run` of an HttpUser script with `--client fast` (or `--client
requests`) whose users wait 10 ms between requests and ask for ever new URLs
(`/items/<counter>?page=<random>`) under --endpoints names, one request in
ten marked failed (--unique-errors: each with a message of its own): the
case that would grow a per-URL cache, a per-request list, a per-second map
or a set of error messages. With `--processes N` the run is distributed: a
master and N forked workers, each process sampled on its own (the master
merges and stores the workers' seconds, and holds Locust's own statistics
of the run). The RSS of each process is sampled every --every seconds;
flat means the last sample is within 10% of the one at minute 1.

    .venv/bin/python bench/soak.py [--minutes 10] [--users 20] [--client fast] [--every 10]
                                   [--endpoints 20] [--processes 0] [--unique-errors] [--trace]
                                   [--timings]

`--timings`: the run records each request's timing phases (`loadgate run --timings`).

`--trace`: the run goes through bench/traced_loadgate.py; tracemalloc starts
in the master at minute 1 and, before the end, the allocation sites still
alive that were made since then are printed (what grew).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from overhead import served, start_nginx  # a sibling bench script

FLAT_RATIO = 1.10
TRACE_BEFORE_END_S = 15
SCRIPT = """
import itertools
import random

from locust import HttpUser, constant, task

COUNTER = itertools.count()


class Wanderer(HttpUser):
    wait_time = constant(0.01)

    @task
    def fresh_url(self):
        number = next(COUNTER)
        name = f"/items/{{number % {endpoints}}}"
        url = f"/items/{{number}}?page={{random.randint(1, 10**9)}}"
        with self.client.get(url, name=name, catch_response=True) as response:
            if number % 10 == 0:
                response.failure({message})
"""


def sample(root: psutil.Process) -> dict[str, int] | None:
    """RSS of the run's processes (the generator alone, or the master and each worker).

    None once a process has gone: the run is ending.
    """
    try:
        children = root.children(recursive=True)
        if not children:
            return {"generator": int(root.memory_info().rss)}
        rss = {"master": int(root.memory_info().rss)}
        for number, child in enumerate(children, start=1):
            rss[f"worker {number}"] = int(child.memory_info().rss)
    except psutil.NoSuchProcess:
        return None
    return rss


def command(args: argparse.Namespace, folder: Path, url: str, run_s: int) -> list[str]:
    script = folder / "wander.py"
    # A message that names the request is a new error for Locust each time.
    message = 'f"page {number} failed"' if args.unique_errors else '"one in ten fails"'
    script.write_text(SCRIPT.format(endpoints=args.endpoints, message=message))
    bench = Path(__file__).parent
    runner = (
        [sys.executable, str(bench / "traced_loadgate.py"), str(folder / "trace.txt")]
        if args.trace
        else [str(Path(sys.executable).parent / "loadgate")]
    )
    processes = ["--processes", str(args.processes)] if args.processes else []
    return [
        *runner, "run", str(script), "-H", url, *processes,
        "-u", str(args.users), "-r", str(args.users), "-t", f"{run_s}s", "-q",
        "--client", args.client, "--db", f"sqlite:///{folder / 'runs.db'}",
        *(["--timings"] if args.timings else []),
    ]  # fmt: skip


def verdicts(samples: list[tuple[float, dict[str, int]]]) -> list[str]:
    at_minute = next((rss for elapsed_s, rss in samples if elapsed_s >= 60), None)
    if at_minute is None:
        sys.exit("the run was shorter than a minute: nothing to compare")
    last = samples[-1][1]
    lines = []
    for name, first in at_minute.items():
        ratio = last.get(name, 0) / first
        verdict = "flat" if ratio <= FLAT_RATIO else "GROWS"
        lines.append(
            f"{name}: RSS at minute 1 {first / 2**20:.1f} MiB, at the end "
            f"{last.get(name, 0) / 2**20:.1f} MiB ({ratio:.3f}×): {verdict}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--client", choices=("fast", "requests"), default="fast")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--endpoints", type=int, default=20, help="request names")
    parser.add_argument("--processes", type=int, default=0, help="workers (0: one process)")
    parser.add_argument(
        "--unique-errors", action="store_true", help="every failure message differs"
    )
    parser.add_argument("--trace", action="store_true", help="tracemalloc in the master")
    parser.add_argument("--timings", action="store_true", help="loadgate run --timings")
    args = parser.parse_args()
    run_s = int(args.minutes * 60)
    with tempfile.TemporaryDirectory(prefix="loadgate-soak-") as name:
        folder = Path(name)
        nginx, url = start_nginx(folder / "nginx", None)
        process = subprocess.Popen(
            command(args, folder, url, run_s),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        samples: list[tuple[float, dict[str, int]]] = []
        signals = [60.0, run_s - TRACE_BEFORE_END_S] if args.trace else []
        try:
            root = psutil.Process(process.pid)
            start = time.monotonic()
            while process.poll() is None and time.monotonic() - start < run_s - args.every:
                time.sleep(args.every)
                elapsed_s = time.monotonic() - start
                while signals and elapsed_s >= signals[0]:
                    os.kill(process.pid, signal.SIGUSR1)
                    signals.pop(0)
                rss_now = sample(root)
                if rss_now is None:
                    break
                samples.append((elapsed_s, rss_now))
                rss = "  ".join(f"{k} {v / 2**20:6.1f}" for k, v in samples[-1][1].items())
                print(f"{elapsed_s:5.0f} s  {served(url):>10,} requests  MiB: {rss}", flush=True)
        finally:
            try:
                process.wait(timeout=120)
            finally:
                nginx.terminate()
                nginx.wait()
        trace = folder / "trace.txt"
        if trace.exists():
            print(f"grown in the master since minute 1, by allocation site:\n{trace.read_text()}")
    print(f"--client {args.client}, --processes {args.processes}:")
    print("\n".join(verdicts(samples)))


if __name__ == "__main__":
    main()
