"""A script whose task blocks the gevent hub: a 30 ms busy loop after each request."""

import time

from locust import FastHttpUser, constant, task

BUSY_S = 0.030


class Spinner(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def ping_then_spin(self):
        self.client.get("/zero", name="ping")
        until_s = time.perf_counter() + BUSY_S
        while time.perf_counter() < until_s:
            pass
