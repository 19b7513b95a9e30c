"""Names its one request after the class of `self.client`, so a test can see which one ran."""

from locust import HttpUser, constant, task


class Which(HttpUser):
    wait_time = constant(0.1)

    @task
    def named(self):
        self.client.get("/v1/products/1042", name=f"client {type(self.client).__name__}")
