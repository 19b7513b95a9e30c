"""Steady pressure on a rate-limited consumer; 429s are accepted (expected throttling).

Each request on a new connection (Connection: close), so that gateway
processes sharing the port (SO_REUSEPORT) each get their share.
"""

from locust import HttpUser, constant, task

HEADERS = {"X-API-Key": "lf_test_key_8f3a92_gateway", "Connection": "close"}


class Pressing(HttpUser):
    wait_time = constant(0.1)

    @task
    def search(self):
        with self.client.get(
            "/v1/search?q=shoes", headers=HEADERS, name="search", catch_response=True
        ) as response:
            if response.status_code == 429:
                response.success()
