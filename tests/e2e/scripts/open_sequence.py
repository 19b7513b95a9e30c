"""The open model's iterations: a SequentialTaskSet's tasks, each start noted in a file.

OPEN_SEQUENCE_LOG names the file; each line is "START_S USER_ID TASK".
"""

import os
import time

from locust import FastHttpUser, SequentialTaskSet, constant, task

LOG = os.environ["OPEN_SEQUENCE_LOG"]


def note(user, name):
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(f"{time.time():.6f} {id(user)} {name}\n")


class Steps(SequentialTaskSet):
    @task
    def first(self):
        note(self.user, "first")
        self.client.get("/v1/products/1042", name="first")

    @task
    def second(self):
        note(self.user, "second")
        self.client.get("/v1/products/1042", name="second")

    @task
    def third(self):
        note(self.user, "third")
        self.client.get("/v1/products/1042", name="third")


class Shopper(FastHttpUser):
    wait_time = constant(10)  # would allow one task per user per 10 s in the closed model
    tasks = [Steps]  # noqa: RUF012
