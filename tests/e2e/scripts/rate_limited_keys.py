"""Two API keys under a per-key limit; 429s are accepted (expected throttling).

Users take the keys in turn, so both are in use all run.
LOADGATE_TEST_CLIENT=fast makes it a FastHttpUser (geventhttpclient).
"""

import itertools
import os

from locust import FastHttpUser, HttpUser, constant, task

KEYS = ("lf_test_key_alpha_7c1e40_gateway", "lf_test_key_bravo_52d9b8_gateway")
_turn = itertools.count()
Client = FastHttpUser if os.environ.get("LOADGATE_TEST_CLIENT") == "fast" else HttpUser


class Pressing(Client):
    wait_time = constant(0.1)

    def on_start(self):
        self.key = KEYS[next(_turn) % len(KEYS)]

    @task
    def search(self):
        with self.client.get(
            "/v1/search?q=shoes",
            headers={"X-API-Key": self.key},
            name="search",
            catch_response=True,
        ) as response:
            if response.status_code == 429:
                response.success()
