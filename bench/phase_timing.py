"""The per-request cost of `--timings`: the client's timing wrappers and the collector's counts.

Two measures, each against a baseline taken in the same run:

- client: CPU µs per request of Locust's FastHttpSession (FastHttpUser's
  client) sending GETs to one nginx (`return 200`) in a loop, each request's
  event counted by a Collector, in a child process with phase timing
  installed and `Collector(timings=True)`, and in one without; the two kinds
  alternate for --rounds rounds (a shared machine drifts between rounds).
  `--close` makes nginx close every connection (keepalive_requests 1), so
  that each request also times a connect: the costliest case.
- collector: `Collector.on_request` alone (timeit on CPU time, best of 5) on a response
  that carries phases, with timings on and off.

    .venv/bin/python bench/phase_timing.py [--requests 20000] [--rounds 5] [--close]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

from overhead import start_nginx

CHILD = """
import locust, resource, sys, json
from locust.contrib.fasthttp import FastHttpSession
from locust.event import EventHook
from loadgate.engine.collector import Collector
timed = sys.argv[2] == "timed"
if timed:
    from loadgate.engine.fastclient.phases import install_phase_timing
    install_phase_timing()
collector = Collector(timings=timed)
hook = EventHook()
hook.add_listener(collector.on_request)
session = FastHttpSession(base_url=sys.argv[1], request_event=hook, user=None)
for _ in range(200):
    session.get("/", name="ping")
collector.take_all()
count = int(sys.argv[3])
before = resource.getrusage(resource.RUSAGE_SELF)
for _ in range(count):
    session.get("/", name="ping")
after = resource.getrusage(resource.RUSAGE_SELF)
cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
seconds = collector.take_all()
parts = sorted({p.value for s in seconds for t in s.tallies.values() for p in (t.parts or {})})
print(json.dumps({"us_per_request": cpu_s / count * 1e6, "parts": parts}))
"""


def client_round(url: str, kind: str, requests: int, close: bool) -> float:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, url, kind, str(requests)],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(result.stdout.strip().splitlines()[-1])
    expected = {"download", "ttfb", *(["connect"] if close else [])} if kind == "timed" else set()
    if not expected <= set(data["parts"]) or (kind != "timed" and data["parts"]):
        sys.exit(f"the {kind} child counted the parts {data['parts']}")
    return float(data["us_per_request"])


def collector_us(timings: bool, requests: int) -> float:
    from loadgate.engine.collector import PHASES_ATTRIBUTE, Collector
    from loadgate.engine.fastclient.phases import PhaseTimes

    class Response:
        status_code = 200
        headers = None

    response = Response()
    phases = PhaseTimes(0.0002, None, 1.0)
    phases.headers_end_s, phases.body_end_s = 1.0004, 1.0005
    setattr(response, PHASES_ATTRIBUTE, phases)
    collector = Collector(lambda: 1000.0, timings=timings)

    def one() -> None:
        collector.on_request(
            request_type="GET", name="/x", response_time=0.7, response_length=3, response=response
        )

    # CPU time, not wall time: on a shared machine, time spent preempted is not ours.
    best_s = min(timeit.repeat(one, number=requests, repeat=5, timer=time.process_time))
    return best_s / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--close", action="store_true", help="nginx closes every connection")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="loadgate-phases-"))
    nginx_cpu = 1 if (os.cpu_count() or 1) >= 2 else None
    nginx, url = start_nginx(root / "nginx", nginx_cpu)
    if args.close:
        conf = root / "nginx" / "nginx.conf"
        conf.write_text(
            conf.read_text().replace("keepalive_requests 10000000", "keepalive_requests 1")
        )
        subprocess.run(
            ["nginx", "-c", str(conf), "-p", str(root / "nginx"), "-s", "reload"], check=True
        )
    try:
        plain: list[float] = []
        timed: list[float] = []
        for _ in range(args.rounds):
            plain.append(client_round(url, "plain", args.requests, args.close))
            timed.append(client_round(url, "timed", args.requests, args.close))
    finally:
        nginx.terminate()
        nginx.wait()
    ratios = [t / p for t, p in zip(timed, plain, strict=True)]
    close = "nginx closes every connection" if args.close else "kept-alive connection"
    print(f"FastHttpSession to nginx ({close}), {args.requests} requests a round, CPU µs/request")
    print(f"{'round':>5}  {'plain':>8}  {'timed':>8}  {'ratio':>6}")
    for index, (p, t, r) in enumerate(zip(plain, timed, ratios, strict=True), 1):
        print(f"{index:>5}  {p:>8.1f}  {t:>8.1f}  {r:>6.3f}")
    print(f"{'median':>5}  {statistics.median(plain):>8.1f}  {statistics.median(timed):>8.1f}  "
          f"{statistics.median(ratios):>6.3f}")  # fmt: skip
    off, on = collector_us(False, 200_000), collector_us(True, 200_000)
    print(f"Collector.on_request: {off:.2f} µs without timings, {on:.2f} µs with (+{on - off:.2f})")


if __name__ == "__main__":
    main()
