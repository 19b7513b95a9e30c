"""`loadgate worker` with Locust's connection attempts cut from 61 of 5 s to 3 of 1 s.

    python impatient_worker.py WORKER_ARGS...  ->  what `loadgate worker WORKER_ARGS...` does

So that a test sees, in seconds rather than 5 minutes, what a worker says
when no master ever answers. Only Locust's constants change.
"""

from __future__ import annotations

import sys

from loadgate.engine import worker_session  # noqa: F401  # isort: skip  (Locust first)
from locust import runners

from loadgate.cli import main

runners.CONNECT_TIMEOUT = 1
runners.CONNECT_RETRY_COUNT = 2

main(["worker", *sys.argv[1:]])
