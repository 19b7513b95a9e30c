"""CPU per request of the open model (`--arrival-rate`) against Locust's closed model, same rate.

Two `loadgate run` processes side by side, for the same seconds, against one
reference gateway on 127.0.0.1: one with `--arrival-rate RATE/s` (the
scheduler, its tickets and the gated task), one with Locust users pacing
themselves to the same rate (`constant_pacing`). Side by side, so that both
see the same machine at the same moment. After a warm-up, their CPU time
(user + system, psutil) is sampled and divided by the requests each stored;
printed are both, and their ratio (the open model's cost over the closed
model's, for the same requests).

    .venv/bin/python bench/open_model_cost.py [--rate 400] [--seconds 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fixtures.gateway import launch_gateway  # noqa: E402

from loadgate.store import RunStore  # noqa: E402

WARMUP_S = 4.0
PACING_USERS = 40
SCRIPT = """
from locust import FastHttpUser, constant_pacing, task


class Product(FastHttpUser):
    wait_time = constant_pacing({pacing_s})

    @task
    def product(self):
        self.client.get("/v1/products/1042", name="product")
"""


def _cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=400)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    loadgate = str(Path(sys.executable).parent / "loadgate")
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        script = folder / "product.py"
        script.write_text(textwrap.dedent(SCRIPT.format(pacing_s=PACING_USERS / args.rate)))
        gateway = launch_gateway(folder, "[upstreams.catalog]\nmax_connections = 1024\n")
        try:
            common = ["run", str(script), "-H", gateway.api_url, "-t", f"{args.seconds}s", "-q"]
            runs = {
                "open": [*common, "--arrival-rate", f"{args.rate}/s", "-u", str(PACING_USERS)],
                "closed": [*common, "-u", str(PACING_USERS), "-r", str(PACING_USERS)],
            }
            processes = {
                name: subprocess.Popen(
                    [loadgate, *command, "--db", f"sqlite:///{folder / name}.db"],
                    stdout=subprocess.DEVNULL,
                )
                for name, command in runs.items()
            }
            watched = {name: psutil.Process(p.pid) for name, p in processes.items()}
            time.sleep(WARMUP_S)
            started = {name: _cpu_s(p) for name, p in watched.items()}
            time.sleep(args.seconds - WARMUP_S - 1)
            used = {name: _cpu_s(p) - started[name] for name, p in watched.items()}
            for process in processes.values():
                process.wait(timeout=120)
        finally:
            gateway.stop()
        per_request_us = {}
        for name in runs:
            with RunStore.open(f"sqlite:///{folder / name}.db") as store:
                requests = store.list_runs(limit=1)[0].requests
            # The CPU window is most of the run: scale the requests to it.
            window_requests = requests * (args.seconds - WARMUP_S - 1) / args.seconds
            per_request_us[name] = used[name] / window_requests * 1e6
            print(f"{name:>6}: {requests} requests, {per_request_us[name]:.0f} µs CPU per request")
    print(f" ratio: open / closed = {per_request_us['open'] / per_request_us['closed']:.2f}")


if __name__ == "__main__":
    main()
