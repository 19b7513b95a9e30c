"""What a request costs the load generator: wrk, Locust and loadgate with each client, one target.

One nginx from Debian (one worker process, `return 200`, pinned to its own
core when there are two) is the target of six generators, each pinned to one
core, each run alone for a warm-up and a steady window, one after the other:

    wrk                          (-t1 -c USERS: the floor)
    locust HttpUser              (python-requests)
    locust FastHttpUser          (geventhttpclient)
    loadgate HttpUser --client requests
    loadgate HttpUser --client fast
    loadgate FastHttpUser

Every generator sends the same request (`GET /`, no waits) from USERS users.
In the steady window the CPU time of the generator's process tree (user +
system, psutil) and the requests nginx served (stub_status) are sampled;
printed are µs of CPU per request and requests per second. The machine may
be shared, so the six run in turn for several rounds (--rounds), and each
figure is given as the median and the range over the rounds, with the
ratios against plain Locust measured in the same rounds.

    .venv/bin/python bench/generator.py [--seconds 10] [--users 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from overhead import SCRIPT as FAST_SCRIPT  # sibling bench scripts
from overhead import pinned, served, start_nginx
from scale import tree_cpu_s

WARMUP_S = 4.0
TAIL_S = 3.0
HTTP_SCRIPT = """
from locust import HttpUser, constant, task


class Hammer(HttpUser):
    wait_time = constant(0)

    @task
    def ping(self):
        self.client.get("/", name="ping")
"""
GENERATORS = (
    "wrk",
    "locust HttpUser",
    "locust FastHttpUser",
    "loadgate HttpUser --client requests",
    "loadgate HttpUser --client fast",
    "loadgate FastHttpUser",
)


@dataclass(frozen=True)
class Sample:
    cpu_us_per_request: float
    requests_per_s: float


def command(generator: str, folder: Path, url: str, args: argparse.Namespace) -> list[str]:
    bin_dir = Path(sys.executable).parent
    run_s = f"{int(WARMUP_S + args.seconds + TAIL_S)}s"
    if generator == "wrk":
        return ["wrk", "-t1", f"-c{args.users}", f"-d{run_s}", f"{url}/"]
    script = folder / ("fast.py" if "FastHttpUser" in generator else "http.py")
    load = ["-u", str(args.users), "-r", str(args.users), "-t", run_s, "-H", url]
    if generator.startswith("locust"):
        return [str(bin_dir / "locust"), "-f", str(script), "--headless", "--only-summary", *load]
    # "loadgate HttpUser --client X": the flag as named (fast is the default, requests is not).
    client = generator.split()[-2:] if "--client" in generator else []
    db = f"sqlite:///{folder / 'runs.db'}"
    return [str(bin_dir / "loadgate"), "run", str(script), *load, "-q", "--db", db, *client]


def measure(
    generator: str, folder: Path, url: str, cpu: int | None, args: argparse.Namespace
) -> Sample:
    process = subprocess.Popen(
        pinned(command(generator, folder, url, args), cpu),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        root = psutil.Process(process.pid)
        time.sleep(WARMUP_S)
        cpu_start, served_start, wall_start = tree_cpu_s(root)[0], served(url), time.monotonic()
        time.sleep(args.seconds)
        cpu_end, served_end, wall_end = tree_cpu_s(root)[0], served(url), time.monotonic()
    finally:
        process.wait(timeout=120)
    requests = served_end - served_start - 1  # less our own status read
    return Sample(
        cpu_us_per_request=(cpu_end - cpu_start) / requests * 1e6,
        requests_per_s=requests / (wall_end - wall_start),
    )


def spread(values: list[float], digits: int) -> str:
    median = statistics.median(values)
    return f"{median:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def report(samples: dict[str, list[Sample]], args: argparse.Namespace) -> None:
    print(
        f"nginx (1 worker process), GET / without waits, {args.users} users (wrk: connections), "
        f"{args.seconds:g} s steady window, {args.rounds} rounds, {os.cpu_count()} cores; "
        "median (range)"
    )
    base_http = [s.cpu_us_per_request for s in samples["locust HttpUser"]]
    base_fast = [s.cpu_us_per_request for s in samples["locust FastHttpUser"]]
    print(f"{'generator':<38}{'CPU µs/request':>22}{'requests/s':>26}"
          f"{'÷ locust HttpUser':>20}{'÷ locust FastHttpUser':>24}")  # fmt: skip
    for generator in GENERATORS:
        cpu = [s.cpu_us_per_request for s in samples[generator]]
        rate = [s.requests_per_s for s in samples[generator]]
        # Ratios within a round: both measured minutes apart on the same machine.
        vs_http = [c / b for c, b in zip(cpu, base_http, strict=True)]
        vs_fast = [c / b for c, b in zip(cpu, base_fast, strict=True)]
        print(
            f"{generator:<38}{spread(cpu, 1):>22}{spread(rate, 0):>26}"
            f"{spread(vs_http, 2):>20}{spread(vs_fast, 2):>24}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/generator.py needs wrk (Debian: apt-get install wrk)")
    two_cores = (os.cpu_count() or 1) >= 2
    with tempfile.TemporaryDirectory(prefix="loadgate-generator-") as name:
        folder = Path(name)
        (folder / "http.py").write_text(HTTP_SCRIPT)
        (folder / "fast.py").write_text(FAST_SCRIPT)
        nginx, url = start_nginx(folder / "nginx", 1 if two_cores else None)
        samples: dict[str, list[Sample]] = {generator: [] for generator in GENERATORS}
        try:
            for round_number in range(args.rounds):
                for generator in GENERATORS:
                    sample = measure(generator, folder, url, 0 if two_cores else None, args)
                    samples[generator].append(sample)
                    print(
                        f"round {round_number + 1}: {generator}: "
                        f"{sample.cpu_us_per_request:.1f} µs/request, "
                        f"{sample.requests_per_s:,.0f} requests/s",
                        file=sys.stderr,
                    )
        finally:
            nginx.terminate()
            nginx.wait()
    report(samples, args)


if __name__ == "__main__":
    main()
