"""which_client.py's user with a urllib3 PoolManager: a worker script the fast client refuses."""

from locust import HttpUser, constant, task
from urllib3 import PoolManager


class Which(HttpUser):
    wait_time = constant(0.1)
    pool_manager = PoolManager(maxsize=4)

    @task
    def named(self):
        self.client.get("/v1/products/1042", name=f"client {type(self.client).__name__}")
