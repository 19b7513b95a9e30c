"""In the shape of Locust's examples on validating responses: catch_response with JSON checks,
success() on an expected error, failure() with and without an exception, rest(), raise_for_status,
session headers set in on_start, and rename_request."""

import random

from locust import HttpUser, constant, task
from requests.exceptions import HTTPError


class Checker(HttpUser):
    # Each user its own JWT subject, well under the gateway's 100/s per subject.
    wait_time = constant(0.05)

    def on_start(self):
        with self.client.post(
            "/v1/auth/token",
            json={
                "client_id": "web-frontend",
                "client_secret": "test-client-secret",
                "audience": "commerce-api",
                "grant_type": "password",
                "username": f"loadtest_user_{random.randint(1, 10**6)}@example.com",
                "password": "P@ssw0rd123!",
            },
            catch_response=True,
        ) as response:
            token = response.json().get("access_token") if response.ok else None
            if not token:
                response.failure(f"no token: {response.status_code}")
                token = "none"
        self.client.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )

    @task(3)
    def profile(self):
        with self.client.get("/v1/users/profile", catch_response=True) as response:
            if response.elapsed.total_seconds() > 30:
                response.failure("too slow")
            elif "user" not in response.text and response.status_code == 200:
                response.failure("no user in the profile")

    @task(2)
    def orders_json(self):
        with self.client.get("/v1/orders?limit=2", catch_response=True, name="orders") as response:
            try:
                response.json()
            except ValueError:
                response.failure("not JSON")

    @task(1)
    def expected_not_found(self):
        with self.client.get("/v1/missing", catch_response=True) as response:
            if response.status_code == 404:
                response.success()

    @task(1)
    def wrong_method(self):
        with self.client.put("/v1/products/1042", json={}, catch_response=True) as response:
            response.failure(RuntimeError(f"status {response.status_code}"))

    @task(1)
    def rest_call(self):
        with self.rest("GET", "/v1/products/2088") as response:
            if not isinstance(response.js, dict):
                response.failure("not a JSON object")

    @task(1)
    def grouped(self):
        with self.client.rename_request("/v1/inventory/[id]"):
            for item in (1042, 3011):
                self.client.get(f"/v1/inventory/{item}")

    @task(1)
    def raises(self):
        response = self.client.get("/v1/unknown-route")
        try:
            response.raise_for_status()
        except HTTPError as error:
            self.client.get("/v1/products/1042", name=f"after {type(error).__name__}")
