"""The smallest script: one user, one endpoint."""

from locust import FastHttpUser, constant, task


class Pinger(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def ping(self):
        self.client.get("/zero", name="ping")
