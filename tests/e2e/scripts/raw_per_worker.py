"""Every response time each process measured, raw, in RAW_TIMES_DIR/<pid>.txt (one per worker)."""

import os
from pathlib import Path

from locust import FastHttpUser, constant_throughput, events, task

_FILES = {}


@events.request.add_listener
def keep_raw_time(name, response_time, **_kwargs):
    folder = os.environ.get("RAW_TIMES_DIR")
    if not folder:
        return
    pid = os.getpid()  # the worker's: the script was loaded before the fork
    file = _FILES.get(pid)
    if file is None:
        file = _FILES[pid] = (Path(folder) / f"{pid}.txt").open("a", buffering=1)
    file.write(f"{name} {response_time!r}\n")


class Browser(FastHttpUser):
    wait_time = constant_throughput(40)

    @task(3)
    def products(self):
        self.client.get("/v1/products", name="products")

    @task(1)
    def search(self):
        self.client.get("/v1/search?q=lamp", name="search")
