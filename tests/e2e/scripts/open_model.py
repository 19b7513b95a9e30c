"""The open model's script: one product request per iteration; its wait_time does not pace it."""

from locust import FastHttpUser, constant, task


class Browser(FastHttpUser):
    wait_time = constant(5)  # under --arrival-rate the schedule paces, not this

    @task
    def product(self):
        self.client.get("/v1/products/1042", name="product")
