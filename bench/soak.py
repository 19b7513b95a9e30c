"""RSS of the generator over a long run at a steady rate: does memory stay flat?

One nginx from Debian (one worker process, `return 200`) is the target of one
`loadgate run` of an HttpUser script with `--client fast` (or `--client
requests`) whose users wait 10 ms between requests and ask for ever new URLs
(`/items/<counter>?page=<random>`), the case that would grow a per-URL cache
or a per-request list. The generator's RSS (its process tree, psutil) is
sampled every --every seconds; flat means the last sample is within 10% of
the one at minute 1.

    .venv/bin/python bench/soak.py [--minutes 10] [--users 20] [--client fast] [--every 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from overhead import served, start_nginx  # a sibling bench script

FLAT_RATIO = 1.10
SCRIPT = """
import itertools
import random

from locust import HttpUser, constant, task

COUNTER = itertools.count()


class Wanderer(HttpUser):
    wait_time = constant(0.01)

    @task
    def fresh_url(self):
        self.client.get(f"/items/{next(COUNTER)}?page={random.randint(1, 10**9)}", name="/items")
"""


def tree_rss_bytes(root: psutil.Process) -> int:
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--client", choices=("fast", "requests"), default="fast")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    args = parser.parse_args()
    run_s = int(args.minutes * 60)
    with tempfile.TemporaryDirectory(prefix="loadgate-soak-") as name:
        folder = Path(name)
        script = folder / "wander.py"
        script.write_text(SCRIPT)
        nginx, url = start_nginx(folder / "nginx", None)
        command = [
            str(Path(sys.executable).parent / "loadgate"), "run", str(script), "-H", url,
            "-u", str(args.users), "-r", str(args.users), "-t", f"{run_s}s", "-q",
            "--client", args.client, "--db", f"sqlite:///{folder / 'runs.db'}",
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples: list[tuple[float, int, int]] = []
        try:
            root = psutil.Process(process.pid)
            start = time.monotonic()
            while process.poll() is None and time.monotonic() - start < run_s - 2:
                time.sleep(args.every)
                samples.append((time.monotonic() - start, tree_rss_bytes(root), served(url)))
                elapsed_s, rss, requests = samples[-1]
                print(f"{elapsed_s:7.0f} s  {rss / 2**20:7.1f} MiB  {requests:>10,} requests",
                      flush=True)  # fmt: skip
        finally:
            process.wait(timeout=120)
            nginx.terminate()
            nginx.wait()
    at_minute = [rss for elapsed_s, rss, _ in samples if elapsed_s >= 60]
    if not at_minute:
        sys.exit("the run was shorter than a minute: nothing to compare")
    ratio = samples[-1][1] / at_minute[0]
    verdict = "flat" if ratio <= FLAT_RATIO else "GROWS"
    print(f"--client {args.client}: RSS at minute 1 {at_minute[0] / 2**20:.1f} MiB, at the end "
          f"{samples[-1][1] / 2**20:.1f} MiB ({ratio:.3f}×): {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
