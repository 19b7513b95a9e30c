"""The open model's scheduler: iterations start at their scheduled times, from a pool that grows.

In Locust's closed model each user runs a task, waits, runs the next: when
the target stalls, the users stall with it and stop sending, so the stall
hides itself (coordinated omission). Here the schedule decides when work
starts (loadgate.arrival_rate): a scheduler greenlet hands out one ticket per
due iteration, each carrying the time it was due, and a user runs a task
only when it holds a ticket. So requests keep arriving at the asked rate
while the target is slow, and their latency is what users of an open system
would see.

What an iteration is: one execution of an innermost task function. Every
task function of the script's users and of their TaskSets (nested ones, a
SequentialTaskSet's in order) is wrapped to wait for a ticket first
(`gate_tasks`); a TaskSet entry itself is not an iteration, its tasks are.
The first task of each user waits too: Locust's TaskSet runs the first task
right after on_start, before any wait, and a pool spawned at once would
otherwise send a burst outside the schedule. The users' own wait_time does
not pace the load (it is 0 between iterations; the schedule paces it).

The pool: `--users` users start up front (all at once); when an iteration is
due and no user is free, one more user starts and takes it, up to the
pool's maximum. When the pool is full and every user busy, the iteration is
dropped: counted (`dropped_iterations`), never run late. Each started
iteration's start lag (when it started minus when it was due) goes into an
HDR histogram per second; both are counted in the collector's ArrivalTally.

Distributed runs: the master gives each live worker a Share (its index among
`count` workers); worker `index` runs the iterations k with k % count ==
index of the one schedule, so the shares add up to the asked rate, and a
new Share is sent whenever the set of workers changes
(loadgate.engine.arrival_split).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakSet

import gevent
from gevent.pool import Group
from gevent.queue import Queue
from locust import TaskSet, User
from locust.runners import locust_exception_handler

from loadgate.arrival_rate import ArrivalPlan, first_owned, owned_before
from loadgate.engine.arrival_tally import ArrivalTally

SHARE_MESSAGE = "loadgate_arrival_share"  # a Locust custom message, master to worker
_GATED = "_loadgate_gated"


@dataclass(frozen=True, kw_only=True)
class Share:
    """What one process schedules: iterations k % count == index, from `from_s` on.

    `start_s` is the wall-clock time iteration 0 was due; `from_s` (seconds
    after it) is when this share takes over from the one before it.
    """

    plan: ArrivalPlan
    start_s: float
    index: int = 0
    count: int = 1
    from_s: float = 0.0

    @property
    def max_users(self) -> int:
        """This process's part of the pool's maximum."""
        return max(1, math.ceil(self.plan.max_users / self.count))

    def to_wire(self) -> dict[str, object]:
        return {"plan": self.plan.to_wire(), "start_s": self.start_s, "index": self.index,
                "count": self.count, "from_s": self.from_s}  # fmt: skip

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Share:
        return cls(
            plan=ArrivalPlan.from_wire(data["plan"]),
            start_s=float(data["start_s"]),
            index=int(data["index"]),
            count=int(data["count"]),
            from_s=float(data["from_s"]),
        )


class Arrivals:
    """Tickets for the gated tasks of one process's users, at the times its Share says.

    `is_open` is asked once, at the first gated task: a local open-model run
    knows it from the start; a worker learns it from the options its master
    sent with the first spawn message (a closed-model worker lets every task
    through, unwaited). It is made before the environment's runner (so that
    the tasks are gated before a worker's first spawn message can arrive) and
    reads the runner only once the scheduler runs.
    """

    def __init__(
        self,
        environment: Any,
        tally: ArrivalTally,
        *,
        is_open: Callable[[], bool],
        clock_s: Callable[[], float] = time.time,
    ) -> None:
        self._environment = environment
        self._tally = tally
        self._is_open = is_open
        self._open: bool | None = None
        self._clock_s = clock_s
        self._tickets: Queue[float] = Queue()
        self._idle = 0  # users waiting for a ticket
        self._seen: WeakSet[Any] = WeakSet()  # users that came for a ticket at least once
        self._weights = {c.__name__: max(1, int(getattr(c, "weight", 1) or 1))
                         for c in environment.user_classes}  # fmt: skip
        self._schedulers = Group()
        # The newest share, and its next iteration not yet handed out or dropped.
        self._newest: Share | None = None
        self._next: tuple[Share, int] | None = None

    @property
    def is_open(self) -> bool:
        if self._open is None:
            self._open = self._is_open()
        return self._open

    # -- the users' side ----------------------------------------------------------

    def take_ticket(self, user: Any) -> None:
        """Wait until an iteration is this user's to run (at once in a closed-model run)."""
        if not self.is_open:
            return
        self._seen.add(user)
        self._idle += 1
        try:
            due_s = self._tickets.get()
        finally:
            self._idle -= 1
        self._tally.started(self._clock_s() - due_s)

    # -- the scheduler --------------------------------------------------------------

    def start(self, share: Share) -> None:
        """Schedule `share`; the share before it, if any, runs on until this one takes over."""
        self._open = True
        self._newest = share
        before = list(self._schedulers)
        scheduler = self._schedulers.spawn(self._schedule, share)
        # A bug here must not quietly stop the load: logged, and the run exits 2 (as Locust's).
        scheduler.link_exception(locust_exception_handler(self._environment))
        takes_over_in_s = max(0.0, share.start_s + share.from_s - self._clock_s())
        for greenlet in before:
            gevent.spawn_later(takes_over_in_s, greenlet.kill, block=False)

    def stop(self) -> None:
        """No more tickets (before the users stop: a scheduler would start new ones).

        Iterations that were due but not handed out yet (the hub was busy), or
        handed out but not taken, are counted as dropped: they never started.
        """
        self._schedulers.kill(block=False)
        self._tally.dropped(self._tickets.qsize())
        self._tickets = Queue()
        if self._next is not None:
            share, iteration = self._next
            due_now = share.plan.schedule().due_through(self._clock_s() - share.start_s)
            self._tally.dropped(owned_before(iteration, due_now, share.index, share.count))
            self._next = None

    def _free_users(self) -> int:
        """Users waiting for a ticket, or not yet at their first one, less the tickets queued."""
        starting = max(0, int(self._environment.runner.user_count) - len(self._seen))
        queued: int = self._tickets.qsize()
        return self._idle + starting - queued

    def _grow(self, max_users: int) -> bool:
        """Start one more user (of the class furthest below its weight), if the pool may grow."""
        runner = self._environment.runner
        if runner.user_count >= max_users:
            return False
        counts = runner.user_classes_count
        name = min(self._weights, key=lambda n: counts.get(n, 0) / self._weights[n])
        runner.spawn_users({name: 1})
        return True

    def _schedule(self, share: Share) -> None:
        schedule = share.plan.schedule()
        loop = gevent.get_hub().loop
        index, count = share.index, share.count
        first = schedule.due_through(share.from_s) if share.from_s > 0 else 0
        iteration = first_owned(first, index, count)
        while True:
            if share is self._newest:
                self._next = (share, iteration)
            due = schedule.time_of(iteration)
            if due is None:
                if share is self._newest:
                    self._next = None
                return  # the stages are over; the run's time ends it
            due_s = share.start_s + due
            wait_s = due_s - self._clock_s()
            if wait_s <= 0:
                gevent.sleep(0)  # behind: the users must still run to take their tickets
            while wait_s > 0:
                # libev times a timer from its clock of the loop iteration's start,
                # stale by now: refreshed, the timer does not fire early.
                loop.update_now()
                gevent.sleep(wait_s)
                wait_s = due_s - self._clock_s()
            if self._free_users() > 0 or self._grow(share.max_users):
                self._tickets.put(due_s)
                iteration += count
                continue
            # Every user busy, the pool full: whatever is due now cannot start on time.
            due_now = schedule.due_through(self._clock_s() - share.start_s)
            self._tally.dropped(owned_before(iteration, due_now, index, count))
            iteration = first_owned(max(due_now, iteration + 1), index, count)
            gevent.sleep(0)  # let the busy users finish


def open_in_options(options: Any) -> bool:
    """Whether a run's options (a worker's, as its master sent them) ask for an open model."""
    return bool(getattr(options, "arrival_rate", None) or getattr(options, "arrival_stages", None))


def gate_tasks(user_classes: Sequence[type[User]], arrivals: Arrivals) -> None:
    """Make every innermost task of these users wait for a ticket, and their wait_time 0.

    The classes are changed in place (this process runs one load test);
    gating twice is harmless.
    """
    wrapped: dict[Any, Any] = {}
    holders: set[type] = set()
    for user_class in user_classes:
        _unpace(user_class, arrivals)
        _gate_holder(user_class, arrivals, wrapped, holders)


def _gate_holder(
    holder: type, arrivals: Arrivals, wrapped: dict[Any, Any], holders: set[type]
) -> None:
    if holder in holders:
        return
    holders.add(holder)
    tasks: list[Any] = []
    for task in getattr(holder, "tasks", ()):
        if isinstance(task, type) and issubclass(task, TaskSet):
            if task.wait_time is not TaskSet.wait_time:  # its own pacing: off too
                _unpace(task, arrivals)
            _gate_holder(task, arrivals, wrapped, holders)
            tasks.append(task)
        elif getattr(task, _GATED, False):
            tasks.append(task)
        else:
            if task not in wrapped:
                wrapped[task] = _gated(task, arrivals)
            tasks.append(wrapped[task])
    holder.tasks = tasks  # type: ignore[attr-defined]


def _gated(task: Callable[..., Any], arrivals: Arrivals) -> Callable[..., Any]:
    @functools.wraps(task)  # keeps Locust's weight and tag attributes
    def gated(parent: Any, *args: Any, **kwargs: Any) -> Any:
        arrivals.take_ticket(parent if isinstance(parent, User) else parent.user)
        return task(parent, *args, **kwargs)

    setattr(gated, _GATED, True)
    return gated


def _unpace(holder: type, arrivals: Arrivals) -> None:
    original = getattr(holder, "wait_time", None)
    if original is None or getattr(original, _GATED, False):
        return

    def wait_time(instance: Any) -> float:
        return 0.0 if arrivals.is_open else float(original(instance))

    setattr(wait_time, _GATED, True)
    holder.wait_time = wait_time  # type: ignore[attr-defined]
