"""Shared test set-up: every module in tests/fixtures is a pytest plugin.

Importing Locust monkey-patches the whole process (gevent): threads become
greenlets, and the raw-socket servers of the gateway tests, which run an
event loop on a thread, hang after it. So the modules that import Locust
into the test process (IN_CHILD) are not collected here: each runs in a
child pytest of its own (tests/test_in_child.py), where
LOADGATE_TESTS_IN_CHILD names it.
"""

import os
from pathlib import Path

TESTS = Path(__file__).parent
IN_CHILD = (
    "engine/fastclient",
    "engine/test_arrival.py",
    "engine/test_locust_bounds.py",
    "engine/test_locust_stats.py",
)
IN_CHILD_VARIABLE = "LOADGATE_TESTS_IN_CHILD"

pytest_plugins = sorted(
    f"tests.fixtures.{path.stem}"
    for path in (TESTS / "fixtures").glob("*.py")
    if path.stem != "__init__"
)

collect_ignore = [path for path in IN_CHILD if os.environ.get(IN_CHILD_VARIABLE) != path]
