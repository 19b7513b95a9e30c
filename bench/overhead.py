"""CPU time per request of `loadgate run` against bare `locust --headless`, same script and target.

Both generators run at the same time, side by side, for one run: the same
script (a FastHttpUser without waits: Locust's cheapest client, so any
per-request cost of ours shows at its largest) against two identical nginx
servers on 127.0.0.1 (`return 200`), one each, so that nginx's stub_status
counts each generator's requests. Running them together, on the same core
when there are two or more (nginx on another), means both see the same machine
at the same moment: on a shared machine, runs one after the other differ by
more than the overhead being measured.

Every interval after a warm-up, the generator processes' CPU time (user +
system, psutil) and the requests each nginx served are sampled; printed are
the µs of CPU per request of each, per interval and over the whole steady
window, and their ratio (aim: under 1.10). The whole-process ratio (start-up,
final flush and summary included) is printed as well.

    .venv/bin/python bench/overhead.py [--seconds 60] [--users 10] [--interval 5]
                                       [--gateway-headers] [--timings]

`--gateway-headers`: nginx adds X-Cache-Status and Server-Timing to every
answer, so that loadgate's collector reads and counts them (its costliest
path; without the flag, the usual one: no such headers). `--timings`: loadgate
runs with `--timings` (each request's connect, TLS, first-byte and download
phases timed and counted).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

WARMUP_S = 4.0
TAIL_S = 2.0
NAMES = ("locust", "loadgate")
SCRIPT = """
from locust import FastHttpUser, constant, task


class Hammer(FastHttpUser):
    wait_time = constant(0)

    @task
    def ping(self):
        self.client.get("/", name="ping")
"""
NGINX_CONF = """
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  keepalive_requests 10000000;
  server {{
    listen 127.0.0.1:{port};
    location = /nginx_status {{ stub_status; }}
    location / {{ {gateway_headers}return 200 "ok\\n"; }}
  }}
}}
"""

# --gateway-headers: what the collector reads (engine.gateway_headers), on every answer.
GATEWAY_HEADERS = (
    "add_header X-Cache-Status MISS always; "
    'add_header Server-Timing "gateway;dur=0.412, upstream;dur=1.250, total;dur=1.662" always; '
)


@dataclass(frozen=True)
class Reading:
    """A generator's CPU seconds and its target's served requests at one moment."""

    cpu_s: float
    served: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pinned(command: list[str], cpu: int | None) -> list[str]:
    if cpu is None or not shutil.which("taskset"):
        return command
    return ["taskset", "-c", str(cpu), *command]


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        sys.exit("bench/overhead.py needs nginx (Debian: apt-get install nginx)")
    return found


def start_nginx(
    root: Path, cpu: int | None, gateway_headers: bool = False
) -> tuple[subprocess.Popen[bytes], str]:
    root.mkdir()
    port = free_port()
    headers = GATEWAY_HEADERS if gateway_headers else ""
    (root / "nginx.conf").write_text(
        NGINX_CONF.format(root=root, port=port, gateway_headers=headers)
    )
    command = [nginx_binary(), "-c", str(root / "nginx.conf"), "-p", str(root)]
    process = subprocess.Popen(
        pinned(command, cpu), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            served(url)
            return process, url
        except OSError:
            time.sleep(0.05)
    process.kill()
    sys.exit(f"nginx did not start; see {root}/error.log")


def served(url: str) -> int:
    """Requests nginx has handled so far, less our own status reads (one per read)."""
    with urllib.request.urlopen(f"{url}/nginx_status", timeout=5) as response:
        text = response.read().decode()
    return int(text.splitlines()[2].split()[2])


def commands(script: Path, urls: dict[str, str], args: argparse.Namespace) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    load = ["-u", str(args.users), "-r", str(args.users), "-t", f"{args.seconds}s"]
    db = f"sqlite:///{script.parent / 'runs.db'}"
    return {
        "locust": [str(bin_dir / "locust"), "-f", str(script), "--headless", *load,
                   "-H", urls["locust"]],
        "loadgate": [str(bin_dir / "loadgate"), "run", str(script), *load, "-H", urls["loadgate"],
                     "--db", db, *(["--timings"] if args.timings else [])],
    }  # fmt: skip


def read(process: psutil.Process, url: str) -> Reading:
    times = process.cpu_times()
    return Reading(cpu_s=float(times.user + times.system), served=served(url))


def us_per_request(first: Reading, last: Reading, reads_between: int) -> float:
    requests = last.served - first.served - reads_between
    return (last.cpu_s - first.cpu_s) / requests * 1e6


def sample(
    processes: dict[str, psutil.Process], urls: dict[str, str], args: argparse.Namespace
) -> dict[str, list[Reading]]:
    """Readings of both generators every interval of the steady window."""
    readings: dict[str, list[Reading]] = {name: [] for name in NAMES}
    time.sleep(WARMUP_S)
    end = time.monotonic() + args.seconds - WARMUP_S - TAIL_S
    while True:
        for name in NAMES:
            readings[name].append(read(processes[name], urls[name]))
        if time.monotonic() + args.interval > end:
            return readings
        time.sleep(args.interval)


def run_side_by_side(
    runs: dict[str, list[str]], urls: dict[str, str], args: argparse.Namespace
) -> tuple[dict[str, list[Reading]], dict[str, float]]:
    """Both generators at once; their readings, and each one's whole-process µs/request."""
    cpu = 0 if (os.cpu_count() or 1) >= 2 else None
    before = {name: served(urls[name]) for name in NAMES}
    popen = {
        name: subprocess.Popen(
            pinned(runs[name], cpu), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for name in NAMES
    }
    readings = sample({n: psutil.Process(p.pid) for n, p in popen.items()}, urls, args)
    whole: dict[str, float] = {}
    for name, process in popen.items():
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            sys.exit(f"{' '.join(runs[name])} exited with {process.returncode}")
        requests = served(urls[name]) - before[name] - len(readings[name]) - 1
        whole[name] = (usage.ru_utime + usage.ru_stime) / requests * 1e6
    return readings, whole


def report(
    readings: dict[str, list[Reading]], whole: dict[str, float], args: argparse.Namespace
) -> None:
    print(
        f"CPU time per request of the generator process: bare `locust --headless` and "
        f"`loadgate run` side by side\n(FastHttpUser, no wait, one nginx each, {args.users} users "
        f"each, {args.seconds}s, sampled every {args.interval}s after {WARMUP_S:.0f}s)"
    )
    print(f"{'interval':>8}  {'locust µs/req':>14}  {'loadgate µs/req':>16}  {'ratio':>6}")
    bare, ours = readings["locust"], readings["loadgate"]
    ratios = []
    for i in range(1, len(bare)):
        bare_us = us_per_request(bare[i - 1], bare[i], 1)
        ours_us = us_per_request(ours[i - 1], ours[i], 1)
        ratios.append(ours_us / bare_us)
        print(f"{i:>8}  {bare_us:>14.1f}  {ours_us:>16.1f}  {ratios[-1]:>6.3f}")
    bare_us = us_per_request(bare[0], bare[-1], len(bare) - 1)
    ours_us = us_per_request(ours[0], ours[-1], len(ours) - 1)
    ratio = ours_us / bare_us
    print(f"{'steady':>8}  {bare_us:>14.1f}  {ours_us:>16.1f}  {ratio:>6.3f}  ({ratio - 1:+.1%})")
    print(f"{'median':>8}  {'':>14}  {'':>16}  {statistics.median(ratios):>6.3f}  (of intervals)")
    whole_ratio = whole["loadgate"] / whole["locust"]
    print(
        f"{'whole':>8}  {whole['locust']:>14.1f}  {whole['loadgate']:>16.1f}  "
        f"{whole_ratio:>6.3f}  ({whole_ratio - 1:+.1%}, start-up and summary included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument(
        "--gateway-headers",
        action="store_true",
        help="nginx answers with X-Cache-Status and Server-Timing, as the reference gateway",
    )
    parser.add_argument("--timings", action="store_true", help="loadgate runs with --timings")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="loadgate-bench-"))
    nginx_cpu = 1 if (os.cpu_count() or 1) >= 2 else None
    servers: list[subprocess.Popen[bytes]] = []
    try:
        urls = {}
        for name in NAMES:
            process, urls[name] = start_nginx(
                root / f"nginx-{name}", nginx_cpu, args.gateway_headers
            )
            servers.append(process)
        script = root / "hammer.py"
        script.write_text(SCRIPT)
        readings, whole = run_side_by_side(commands(script, urls, args), urls, args)
        report(readings, whole, args)
    finally:
        for process in servers:
            process.send_signal(signal.SIGQUIT)
            process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
