"""Light traffic to one retried route: GET /v1/products (the catalog upstream)."""

from locust import FastHttpUser, constant, task


class Browser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def products(self):
        self.client.get("/v1/products", name="products")
