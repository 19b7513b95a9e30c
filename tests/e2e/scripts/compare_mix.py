"""Steady traffic to one endpoint per upstream of the reference gateway (compare's e2e test).

Each user sends one request per iteration, in rotation over the endpoints, at a
constant rate: added latency on one upstream (well under the iteration time)
changes that endpoint's latency only, not how often any endpoint is called.
"""

import itertools
import random

from locust import FastHttpUser, constant_throughput, task

# The gateway's default config accepts this static token (consumer checkout-tester).
HEADERS = {"Authorization": "Bearer test-checkout-token", "X-Tenant-Id": "tenant-qa-001"}
# (path, name): one endpoint behind each upstream of the default config.
ENDPOINTS = (
    ("/v1/products/1042", "GET /v1/products/:id"),  # upstream catalog
    ("/v1/search?q=", "GET /v1/search"),  # upstream search (cached: see next_endpoint)
    ("/v1/users/profile", "GET /v1/users/profile"),  # upstream identity
    ("/v1/inventory/1042?warehouse=us-east", "GET /v1/inventory/:id"),  # upstream commerce
)


class SteadyMix(FastHttpUser):
    wait_time = constant_throughput(25)

    def on_start(self) -> None:
        # Users start at different places in the rotation, so each second sees every endpoint.
        start = random.randrange(len(ENDPOINTS))
        self.rotation = itertools.islice(itertools.cycle(ENDPOINTS), start, None)

    @task
    def next_endpoint(self) -> None:
        path, name = next(self.rotation)
        if path.endswith("q="):
            # The gateway caches search responses by URL: a new query always reaches the upstream.
            path += f"item-{random.getrandbits(48):x}"
        self.client.get(path, headers=HEADERS, name=name)
