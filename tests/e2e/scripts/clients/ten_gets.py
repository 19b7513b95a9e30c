"""One user sends ten GETs, one after the other, to the test's server (given as -H), then stops."""

from locust import HttpUser, constant, task
from locust.exception import StopUser

REQUESTS = 10


class TenGets(HttpUser):
    wait_time = constant(0)
    sent = 0

    @task
    def call(self):
        if self.sent == REQUESTS:
            raise StopUser()
        self.sent += 1
        self.client.get("/", name="get")
