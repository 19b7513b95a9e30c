"""The open model's script: one product request per iteration; its wait_time does not pace it.

With OPEN_MODEL_SERVER_LOG set, each response's own account of its time in the
gateway (its Server-Timing `total`, in ms) is appended to that file, one a line:
the target's view of the same requests, measured outside loadgate.
"""

import os
import re

from locust import FastHttpUser, constant, events, task

SERVER_LOG = os.environ.get("OPEN_MODEL_SERVER_LOG")
_TOTAL = re.compile(r"total;dur=([0-9.]+)")


if SERVER_LOG:

    @events.request.add_listener
    def note_server_time(response=None, **_kwargs):
        timing = _TOTAL.search(response.headers.get("Server-Timing", "")) if response else None
        if timing:
            with open(SERVER_LOG, "a", encoding="utf-8") as log:
                log.write(timing.group(1) + "\n")


class Browser(FastHttpUser):
    wait_time = constant(5)  # under --arrival-rate the schedule paces, not this

    @task
    def product(self):
        self.client.get("/v1/products/1042", name="product")
