"""Traffic for the cache and timing tests: one search, from both of Locust's HTTP clients.

CACHE_FALLS_AFTER_S (seconds, optional): from then on, every search asks a
new query, so the cache stops hitting (a working set that outgrew it).
"""

import itertools
import os
import time

from locust import FastHttpUser, HttpUser, constant, task

FALLS_AFTER_S = float(os.environ.get("CACHE_FALLS_AFTER_S", "0") or 0)
STARTED_S = time.monotonic()
FRESH = itertools.count()


def query():
    if FALLS_AFTER_S and time.monotonic() - STARTED_S > FALLS_AFTER_S:
        return f"fresh{next(FRESH)}"
    return "shoes"


class FastSearcher(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def search(self):
        self.client.get(f"/v1/search?q={query()}", name="search fast")


class Searcher(HttpUser):
    wait_time = constant(0.05)

    @task
    def search(self):
        self.client.get(f"/v1/search?q={query()}", name="search requests")
