"""A seed script (examples/seed/$SEED_SCRIPT), its tasks and client calls unchanged, with waits
of 20-50 ms instead of seconds, so that a run of a few seconds reaches every task."""

import importlib.util
import os
from pathlib import Path

from locust import HttpUser, between

_PATH = Path(__file__).parents[4] / "examples" / "seed" / os.environ["SEED_SCRIPT"]
_SPEC = importlib.util.spec_from_file_location("seed_script", _PATH)
_MODULE = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_MODULE)


def _seed_user():
    found = [
        value
        for value in vars(_MODULE).values()
        if isinstance(value, type) and issubclass(value, HttpUser) and value is not HttpUser
    ]
    return found[0]


class QuickSeedUser(_seed_user()):
    wait_time = between(0.02, 0.05)
