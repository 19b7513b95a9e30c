"""Runs loadgate.engine.session.execute and measures the gevent hub with watchers of its own.

    python stall_harness.py SCRIPT HOST DB_URL USERS RUN_TIME_S [normal]  ->  prints JSON

The measurement does not use loadgate's meter (loadgate.engine.stall), so it
runs unchanged against older engines, which had none: a libev `check`
watcher of the highest priority stamps the end of each poll, a `prepare`
watcher of the lowest priority the start of the next; the longest stretch
between them, per wall-clock second, is printed as `stalls_ms`.

When it may (as root), the process runs under SCHED_FIFO, so that other
programs on a shared machine do not preempt it: what is left is the
generator's own work. Not with `normal`, for a generator that is busy all
the time: the kernel throttles real-time threads that use more than 95% of
a CPU (sched_rt_runtime_us), a pause of about 50 ms a second.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

from loadgate.engine import session  # isort: skip  (Locust first)
import gevent

from loadgate.engine.config import RunConfig
from loadgate.engine.interrupt import Interrupts
from loadgate.store import RunStore

REALTIME_PRIORITY = 10


class Stretches:
    def __init__(self) -> None:
        loop = gevent.get_hub().loop
        self.busy_since_s = time.perf_counter()
        self.longest_s = 0.0
        self.per_second_ms: list[float] = []
        self._check = loop.check(ref=False, priority=2)
        self._prepare = loop.prepare(ref=False, priority=-2)
        self._check.start(self._after_poll)
        self._prepare.start(self._before_poll)

    def _after_poll(self) -> None:
        self.busy_since_s = time.perf_counter()

    def _before_poll(self) -> None:
        self.longest_s = max(self.longest_s, time.perf_counter() - self.busy_since_s)

    def sample_every_second(self) -> None:
        while True:
            now_s = time.time()
            gevent.sleep(int(now_s) + 1 - now_s)
            self.per_second_ms.append(round(self.longest_s * 1000, 3))
            self.longest_s = 0.0


def main() -> None:
    script, host, db_url, users, run_time_s = sys.argv[1:6]
    if sys.argv[6:7] != ["normal"]:
        with contextlib.suppress(OSError, AttributeError):
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(REALTIME_PRIORITY))
    config = RunConfig(
        script_path=Path(script), name="stall", users=int(users), spawn_rate_per_s=int(users),
        run_time_s=int(run_time_s), host=host,
    )  # fmt: skip
    stretches = Stretches()
    sampler = gevent.spawn(stretches.sample_every_second)
    with Interrupts(on_exit=lambda _i: os._exit(130)) as interrupts, RunStore.open(db_url) as store:
        outcome = session.execute(session.prepare(config), store, None, interrupts)
    sampler.kill()
    realtime = os.sched_getscheduler(0) == os.SCHED_FIFO
    print(json.dumps({"run_id": outcome.run_id, "stalls_ms": stretches.per_second_ms,
                      "realtime": realtime}))  # fmt: skip


if __name__ == "__main__":
    main()
