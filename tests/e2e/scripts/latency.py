"""Known delays from delay_server.py's /mix, and every response time Locust measured, kept raw."""

import json
import os
from pathlib import Path

import locust_counts  # noqa: F401 -- writes Locust's own counts when the run quits
from locust import FastHttpUser, constant_throughput, events, task

RAW_TIMES = []


@events.request.add_listener
def keep_raw_time(name, response_time, **_kwargs):
    RAW_TIMES.append((name, response_time))


@events.quitting.add_listener
def write_raw_times(environment, **_kwargs):
    path = os.environ.get("RAW_TIMES_FILE")
    if path:
        Path(path).write_text(json.dumps(RAW_TIMES))


class TimedUser(FastHttpUser):
    wait_time = constant_throughput(100)

    @task(3)
    def mix(self):
        self.client.get("/mix", name="mix")

    @task(1)
    def zero(self):
        self.client.get("/zero", name="zero")
