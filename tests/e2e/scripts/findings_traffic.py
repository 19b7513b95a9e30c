"""Light traffic for the findings tests: products (public) and a rate-limited search.

The search is sent with the rate-limit tester's API key and does not accept
429s: they are failures unless FINDINGS_ACCEPT_429 is set.
"""

import os

from locust import FastHttpUser, constant, task

ACCEPT_429 = bool(os.environ.get("FINDINGS_ACCEPT_429"))


class Shopper(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def products(self):
        self.client.get("/v1/products", name="products")

    @task
    def search(self):
        headers = {"X-API-Key": "lf_test_key_8f3a92_gateway"}
        with self.client.get(
            "/v1/search?q=shoes", headers=headers, name="search", catch_response=True
        ) as response:
            if response.status_code == 429 and ACCEPT_429:
                response.success()
