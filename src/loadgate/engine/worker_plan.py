"""What a master's `loadgate worker`s must do as it does, and how they get it.

The HTTP client (`--client`), the timing phases (`--timings`) and the
header whose values a per-key rate limit counts (`--expect-rate-limit
"N/s per HEADER"`): each changes what a worker's users or collector do.

The plan travels in the master's parsed options, which Locust's master puts
into every spawn message; a worker merges them into its own before it fires
`test_start` and starts that message's users. So the plan reaches a worker
before its first user, whenever it joins. A custom message would not: a
worker registers its handlers only once its runner is built, and the runner
takes messages while it connects (Locust's ack, then at once a running
master's spawn), so an early message would be dropped as unknown.

The worker follows its master: its own `--client`, when given and different,
is not used, and a notice says so. The run's stored `client` setting (the
master's) is then what every worker ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from loadgate.engine.collector import Collector
from loadgate.engine.fastclient import use_client
from loadgate.errors import ConfigError
from loadgate.http_client import DEFAULT_CLIENT

# The parsed option that holds the plan (Locust passes options it does not know on to workers).
PLAN_OPTION = "loadgate_worker_plan"


@dataclass(frozen=True, kw_only=True)
class WorkerPlan:
    """The master's settings each worker applies before its users start."""

    client: str
    timings: bool = False
    key_header: str | None = None

    def to_wire(self) -> dict[str, object]:
        return {"client": self.client, "timings": self.timings, "key_header": self.key_header}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> WorkerPlan:
        key_header = data.get("key_header")
        return cls(
            client=str(data["client"]),
            timings=bool(data.get("timings", False)),
            key_header=str(key_header) if key_header else None,
        )


@dataclass(frozen=True, kw_only=True)
class WorkerOwn:
    """What the worker was given itself: its --client (None: not given), its --timings,
    and the collector that counts its users' requests."""

    client: str | None
    timings: bool
    collector: Collector


def carry(options: Any, plan: WorkerPlan) -> None:
    """A master: put the plan into its parsed options, which its spawn messages carry."""
    setattr(options, PLAN_OPTION, plan.to_wire())


class PlanTaker:
    """A worker's `test_start` listener: applies the master's plan, once, before any user starts.

    Register it on `locust.events` before the worker's runner exists (see the
    module's docstring). A master that sent no plan (an older loadgate) leaves
    the worker's own client. What the plan asks and the worker cannot do (a
    script of its own whose User sets a pool_manager, with the fast client)
    is kept in `refused` and given to `on_refused`, which makes the worker leave.
    """

    def __init__(
        self,
        user_classes: Iterable[type[Any]],
        own: WorkerOwn,
        notice: Callable[[str], None],
        on_refused: Callable[[ConfigError], object],
    ) -> None:
        self._user_classes = tuple(user_classes)
        self._own_client = own.client
        self._own_timings = own.timings
        self._collector = own.collector
        self._notice = notice
        self._on_refused = on_refused
        self.client: str | None = None  # the client the users run, once applied
        self.refused: ConfigError | None = None

    def on_test_start(self, environment: Any, **_: Any) -> None:
        if self.client is not None:
            return
        sent = getattr(environment.parsed_options, PLAN_OPTION, None)
        own = self._own_client or DEFAULT_CLIENT
        plan = WorkerPlan.from_wire(sent) if sent else WorkerPlan(client=own)
        client = plan.client
        timings = plan.timings or self._own_timings
        if self._own_client is not None and client != self._own_client:
            self._notice(
                f"the master runs --client {client}: this worker runs it too "
                f"(its own --client {self._own_client} is not used)"
            )
        try:
            use_client(client, self._user_classes, timings=timings)
        except ConfigError as exc:
            self.refused = exc
            self._on_refused(exc)
            return
        self._collector.follow_plan(timings=timings, key_header=plan.key_header)
        self.client = client
