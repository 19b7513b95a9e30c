"""Most of what a Locust script may use, in one script, against delay_server.py.

FastHttpUser and HttpUser, @task weights, a TaskSet with a SequentialTaskSet
nested in it, on_start/on_stop, catch_response both ways, name=, a wait_time
function, event listeners, and a tag (the test excludes it with -E slow).
"""

import json
import os
from pathlib import Path

import locust_counts  # noqa: F401 -- writes Locust's own counts when the run quits
from locust import FastHttpUser, HttpUser, SequentialTaskSet, TaskSet, constant, events, tag, task

SEEN = {"test_start": 0, "test_stop": 0, "on_start": 0, "on_stop": 0, "requests": 0, "steps": []}


@events.test_start.add_listener
def count_test_start(environment, **_kwargs):
    SEEN["test_start"] += 1


@events.test_stop.add_listener
def count_test_stop(environment, **_kwargs):
    SEEN["test_stop"] += 1


@events.request.add_listener
def count_request(**_kwargs):
    SEEN["requests"] += 1


@events.quitting.add_listener
def write_seen(environment, **_kwargs):
    path = os.environ.get("FEATURES_FILE")
    if path:
        Path(path).write_text(json.dumps(SEEN))


class Checkout(SequentialTaskSet):
    @task
    def cart(self):
        SEEN["steps"].append("cart")
        self.client.get("/delay/1000", name="checkout: cart")

    @task
    def pay(self):
        SEEN["steps"].append("pay")
        self.client.post("/delay/500", json={"card": "4242"}, name="checkout: pay")

    @task
    def leave(self):
        self.interrupt()


class Browse(TaskSet):
    tasks = {Checkout: 1}  # noqa: RUF012 -- Locust's own idiom

    @task(3)
    def page(self):
        self.client.get("/zero?page=1", name="browse: page")

    @task(1)
    def leave(self):
        self.interrupt()


def short_pause(user):
    """A wait_time function of our own."""
    return 0.02


class Shopper(FastHttpUser):
    wait_time = short_pause
    tasks = [Browse]  # noqa: RUF012

    def on_start(self):
        SEEN["on_start"] += 1
        self.client.post("/zero", json={"user": "shopper"}, name="login")

    def on_stop(self):
        SEEN["on_stop"] += 1


class Checker(HttpUser):
    wait_time = constant(0.05)

    @task(3)
    def limited(self):
        with self.client.get("/status/429", name="limited", catch_response=True) as response:
            if response.status_code == 429:
                response.success()

    @task(2)
    def validated(self):
        with self.client.get("/zero", name="validated", catch_response=True) as response:
            response.failure("the body lacks the expected field")

    @task(1)
    def unavailable(self):
        self.client.get("/status/503", name="unavailable")

    @tag("slow")
    @task(1)
    def excluded(self):
        self.client.get("/status/500", name="excluded by tag")
