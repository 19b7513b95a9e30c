"""Pressure on a real gateway (nginx, HAProxy) in front of the mock upstreams.

One API key for every user, so they share its rate limit (20/s in the
examples), and more requests than that: 429s follow, and are failures. Half
the requests are a cached search over 40 queries (MISS first, then HITs for
10 s), the other half product pages, which are not cached.
"""

import random

from locust import HttpUser, constant, task

HEADERS = {"X-API-Key": "lf_test_key_8f3a92_gateway"}
QUERIES = [f"term{i}" for i in range(40)]


class BehindGateway(HttpUser):
    wait_time = constant(0.05)

    @task
    def search(self):
        self.client.get(f"/v1/search?q={random.choice(QUERIES)}", headers=HEADERS, name="search")

    @task
    def product(self):
        self.client.get(f"/v1/products/{random.randint(1, 500)}", headers=HEADERS, name="product")
