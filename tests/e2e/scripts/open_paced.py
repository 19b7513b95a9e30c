"""The closed model's view of the stall test: Locust users pacing themselves to 200 req/s."""

from locust import FastHttpUser, constant_pacing, task


class Paced(FastHttpUser):
    wait_time = constant_pacing(0.1)  # 20 users, one request each per 100 ms: 200/s

    @task
    def product(self):
        self.client.get("/v1/products/1042", name="product")
