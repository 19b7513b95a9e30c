"""A master's side of the open model: each live worker gets its share of the one schedule.

The master runs no users. It fixes when the schedule starts, numbers the
live workers (sorted by id) and sends each a Share (loadgate.engine.arrival)
in a Locust custom message; worker `index` of `count` runs every count-th
iteration, so the shares add up to the asked rate exactly, ramps included.
Once a second it compares the live workers with those it numbered: when one
was lost (Locust marks it missing after 3-4 s without a heartbeat) or one
joined, every live worker gets a new Share that takes over from a moment
just ahead (SWITCH_AHEAD_S, so that the old and new shares meet on every
worker at the same iteration). A worker that joined is numbered once it has
been live for a whole check: its process may still be setting up (its
message handler is registered after it connects) when Locust first lists it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gevent
from locust.runners import locust_exception_handler

from loadgate.arrival_rate import ArrivalPlan
from loadgate.engine.arrival import SHARE_MESSAGE, Share

CHECK_EVERY_S = 1.0
# A new split starts this far ahead, so that it reaches every worker before it applies.
SWITCH_AHEAD_S = 0.5


class ArrivalSplit:
    """Sends shares to the live workers; again whenever they change."""

    def __init__(
        self,
        runner: Any,
        plan: ArrivalPlan,
        live_workers: Callable[[], dict[str, int]],
        clock_s: Callable[[], float] = time.time,
    ) -> None:
        self._runner = runner
        self._plan = plan
        self._live_workers = live_workers
        self._clock_s = clock_s
        self._start_s = 0.0
        self._numbered: list[str] = []
        self._live_before: set[str] = set()
        self._greenlet: gevent.Greenlet[Any, None] | None = None

    def start(self) -> None:
        self._start_s = self._clock_s()
        self._live_before = set(self._live_workers())
        self._send(sorted(self._live_before), from_s=0.0)
        self._greenlet = gevent.spawn(self._watch)
        self._greenlet.link_exception(locust_exception_handler(self._runner.environment))

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)

    def _send(self, workers: list[str], from_s: float) -> None:
        self._numbered = workers
        for index, worker_id in enumerate(self._numbered):
            share = Share(plan=self._plan, start_s=self._start_s, index=index,
                          count=len(self._numbered), from_s=from_s)  # fmt: skip
            self._runner.send_message(SHARE_MESSAGE, share.to_wire(), worker_id)

    def _watch(self) -> None:
        while True:
            gevent.sleep(CHECK_EVERY_S)
            live = set(self._live_workers())
            settled = sorted(live & self._live_before)
            self._live_before = live
            if settled and settled != self._numbered:
                self._send(settled, from_s=self._clock_s() - self._start_s + SWITCH_AHEAD_S)
