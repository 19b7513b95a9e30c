"""The generator's own stalls: per second, the longest time the gevent hub went without polling.

Every request in flight is timed by a greenlet that only runs when the hub
polls for I/O and finds its socket ready. While the hub is busy (our code,
the script's, Locust's, or a blocking call that should not be there), no
response can be read, so any request that finishes during that stretch has
the stretch added to its latency. The longest such stretch per second is
therefore what the generator may have added to that second's maximum.

How it is measured: two libev watchers around the poll. A `check` watcher of
the highest priority runs first after each poll returns (the hub turns busy);
a `prepare` watcher of the lowest priority runs last before the next poll
(after gevent's own callbacks, which also run in a prepare watcher): the time
between them is one busy stretch. Measured cost: two Python callbacks and two
perf_counter() reads per loop iteration, about 1 µs in all; bench/overhead.py
shows no difference in CPU per request within its noise.

Why not gevent's own monitor thread (`gevent.config.monitor_thread`,
`max_blocking_time`): it wakes every `max_blocking_time` and only says that a
block longer than that happened; at a 1 ms period it would cost a thread
wake-up a millisecond and still not give the length. It also installs a
greenlet trace function called on every switch, which is the hot path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

# libev's priorities run from EV_MINPRI (-2) to EV_MAXPRI (2); pending watchers
# of a higher priority are invoked first.
_FIRST = 2
_LAST = -2
MS_PER_S = 1000.0


class HubStallMeter:
    """Measures the hub's busy stretches; `take_longest_ms` once a second reads and resets."""

    def __init__(self, loop: Any, clock_s: Callable[[], float] = time.perf_counter) -> None:
        self._clock_s = clock_s
        # ref=False: these watchers alone must not keep the loop running.
        self._after_poll = loop.check(ref=False, priority=_FIRST)
        self._before_poll = loop.prepare(ref=False, priority=_LAST)
        self._busy_since_s = clock_s()
        self._longest_s = 0.0

    def start(self) -> None:
        self._busy_since_s = self._clock_s()
        self._longest_s = 0.0
        self._after_poll.start(self._on_after_poll)
        self._before_poll.start(self._on_before_poll)

    def stop(self) -> None:
        self._after_poll.stop()
        self._before_poll.stop()

    def _on_after_poll(self) -> None:
        self._busy_since_s = self._clock_s()

    def _on_before_poll(self) -> None:
        busy_s = self._clock_s() - self._busy_since_s
        if busy_s > self._longest_s:  # noqa: PLR1730 -- runs every loop iteration: no call
            self._longest_s = busy_s

    def take_longest_ms(self) -> float:
        """The longest busy stretch since the last call (the current one so far included)."""
        longest_s = max(self._longest_s, self._clock_s() - self._busy_since_s)
        self._longest_s = 0.0
        return longest_s * MS_PER_S


class NoStallMeter:
    """A master's: its hub sends no requests, so its stalls touch no latency (none stored)."""

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def take_longest_ms(self) -> float | None:
        return None


def hub_stall_meter() -> HubStallMeter:
    """A meter on the current thread's hub (imports gevent: engine processes only)."""
    import gevent

    return HubStallMeter(gevent.get_hub().loop)
