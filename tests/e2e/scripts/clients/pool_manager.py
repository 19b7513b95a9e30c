"""An HttpUser with its own urllib3 PoolManager: something only python-requests can use."""

from locust import HttpUser, constant, task
from urllib3 import PoolManager


class Pooled(HttpUser):
    wait_time = constant(0.1)
    pool_manager = PoolManager(maxsize=4)

    @task
    def get(self):
        self.client.get("/v1/products/1042")
