"""Runs loadgate.engine.session.execute with an abort check, in its own process (Locust inside).

    python abort_harness.py SCRIPT HOST DB_URL  ->  prints the outcome as JSON
The check stops the run once its last 2 seconds hold 20 requests or more.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from loadgate.engine import session  # isort: skip  (Locust first)
from loadgate.engine.config import RunConfig
from loadgate.engine.interrupt import Interrupts
from loadgate.model import EndpointSecond
from loadgate.store import RunStore


class EnoughRequests:
    window_s = 2

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, seconds: Sequence[EndpointSecond], now_s: int | None = None) -> str | None:
        assert now_s is not None
        assert all(now_s - self.window_s < s.second <= now_s for s in seconds), (seconds, now_s)
        requests = sum(s.requests for s in seconds)
        self.calls.append((now_s, requests))
        return "20 requests in 2 s" if requests >= 20 else None


def main() -> None:
    script, host, db_url = sys.argv[1:4]
    config = RunConfig(
        script_path=Path(script), name="abort", users=2, spawn_rate_per_s=2,
        run_time_s=30, host=host,
    )  # fmt: skip
    check = EnoughRequests()
    with Interrupts(on_exit=lambda _i: os._exit(130)) as interrupts, RunStore.open(db_url) as store:
        outcome = session.execute(session.prepare(config), store, None, interrupts, check)
    print(json.dumps({"status": outcome.status.value, "reason": outcome.reason,
                      "interrupted": outcome.interrupted, "calls": check.calls}))  # fmt: skip


if __name__ == "__main__":
    main()
