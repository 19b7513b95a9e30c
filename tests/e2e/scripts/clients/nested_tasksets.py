"""In the shape of Locust's nested TaskSet examples: sections with sub-pages, interrupt(),
a SequentialTaskSet, on_start in a TaskSet, and a plain task beside them."""

import random

from locust import HttpUser, SequentialTaskSet, TaskSet, constant, task


class ProductPage(TaskSet):
    @task(3)
    def details(self):
        self.client.get(f"/v1/products/{random.choice([1042, 2088])}", name="/v1/products/[id]")

    @task(1)
    def pricing(self):
        self.client.get("/v1/pricing/1042?currency=USD", name="/v1/pricing/[id]")

    @task(1)
    def back(self):
        self.interrupt()


class Catalog(TaskSet):
    tasks = {ProductPage: 2}  # noqa: RUF012 -- Locust's own idiom

    def on_start(self):
        self.client.get("/v1/products?limit=5", name="/v1/products (section start)")

    @task(1)
    def search(self):
        self.client.get("/v1/search", params={"q": "lamp", "limit": 3})

    @task(1)
    def leave(self):
        self.interrupt(reschedule=False)


class Purchase(SequentialTaskSet):
    @task
    def inventory(self):
        self.client.get("/v1/inventory/1042?warehouse=us-east", name="/v1/inventory/[id]")

    @task
    def cart(self):
        self.client.post("/v1/cart/items", json={"product_id": 1042, "quantity": 1})

    @task
    def done(self):
        self.interrupt()


class Shopper(HttpUser):
    wait_time = constant(0.02)
    tasks = {Catalog: 3, Purchase: 1}  # noqa: RUF012 -- Locust's own idiom

    def on_start(self):
        self.client.headers["Authorization"] = "Bearer test-checkout-token"

    @task(1)
    def missing(self):
        self.client.get("/v1/nothing-here")
