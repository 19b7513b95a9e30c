"""Light traffic for the findings tests: products (public) and a rate-limited search.

The search is sent with the rate-limit tester's API key (FINDINGS_API_KEY
replaces it) and does not accept 429s: they are failures unless
FINDINGS_ACCEPT_429 is set. FINDINGS_TIMEOUT_S sets the client's timeout.
"""

import os

from locust import FastHttpUser, constant, task

ACCEPT_429 = bool(os.environ.get("FINDINGS_ACCEPT_429"))
API_KEY = os.environ.get("FINDINGS_API_KEY", "lf_test_key_8f3a92_gateway")
TIMEOUT_S = float(os.environ.get("FINDINGS_TIMEOUT_S", "60"))


class Shopper(FastHttpUser):
    wait_time = constant(0.1)
    network_timeout = TIMEOUT_S

    @task
    def products(self):
        self.client.get("/v1/products", name="products")

    @task
    def search(self):
        headers = {"X-API-Key": API_KEY}
        with self.client.get(
            "/v1/search?q=shoes", headers=headers, name="search", catch_response=True
        ) as response:
            if response.status_code == 429 and ACCEPT_429:
                response.success()
