"""An HttpUser that streams its response: something only python-requests does."""

from locust import HttpUser, constant, task


class Streamer(HttpUser):
    wait_time = constant(0.5)

    @task
    def streamed(self):
        self.client.get("/v1/products/1042", stream=True)
