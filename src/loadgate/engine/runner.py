"""One Locust load test as a library: the Environment, the local runner, and Locust's own events."""

from __future__ import annotations

import contextlib
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import gevent
import locust
from locust.env import Environment
from locust.runners import STATE_MISSING, STATE_STOPPED

from loadgate.arrival_rate import ArrivalPlan
from loadgate.engine.arrival import (
    SHARE_MESSAGE,
    Arrivals,
    Share,
    gate_tasks,
    open_in_options,
)
from loadgate.engine.arrival_split import ArrivalSplit
from loadgate.engine.collector import Collector
from loadgate.engine.locust_stats import LocustStatsFeed, drop_locust_request_listener
from loadgate.engine.locustfile import LoadedScript
from loadgate.engine.shipping import LEAVING_MESSAGE, PieceShipper
from loadgate.engine.worker_merge import WorkerMerge
from loadgate.errors import ConfigError, ScriptError, WorkersMissingError
from loadgate.model import WorkerTotal

# What Locust's main() asks of the OS: each user holds sockets.
MIN_OPEN_FILES = 10_000
# A worker leaving waits at most this long for its last report to leave the socket.
FLUSH_LINGER_MS = 5_000
# A master waits this long for its workers' last reports once their users stopped.
FINAL_REPORTS_TIMEOUT_S = 10.0
WORKERS_POLL_S = 0.1


@dataclass(frozen=True)
class Local:
    """One process: Locust's LocalRunner."""


@dataclass(frozen=True)
class Master:
    """Locust's MasterRunner: no users here, the workers' pieces go to `merge`."""

    bind_host: str
    bind_port: int
    merge: WorkerMerge
    expect_workers: int
    expect_timeout_s: float
    hint: str = ""  # how to start the missing workers, for the error


@dataclass(frozen=True)
class Worker:
    """Locust's WorkerRunner: users here, finished seconds shipped to the master."""

    master_host: str
    master_port: int
    region: str = ""


Role = Local | Master | Worker


def raise_open_files_limit() -> None:
    """Raise the soft limit on open files towards MIN_OPEN_FILES, as Locust does (best effort)."""
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < MIN_OPEN_FILES:
            target = MIN_OPEN_FILES if hard == resource.RLIM_INFINITY else min(MIN_OPEN_FILES, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class LocustRun:
    """A local runner with the script's users and shape, our collector listening.

    The Environment gets `locust.events`, so listeners the script declared at
    import fire, and Locust's parsed options, so code that reads them works.
    Locust's own `request` listener is replaced: environment.stats is filled
    from the collector once a second (loadgate.engine.locust_stats).
    """

    def __init__(
        self,
        script: LoadedScript,
        options: Any,
        host: str | None,
        collector: Collector,
        role: Role = Local(),
        *,
        arrival: ArrivalPlan | None = None,
    ) -> None:
        try:
            self.environment = Environment(
                user_classes=list(script.user_classes),
                shape_class=script.shape,
                events=locust.events,
                host=host,
                parsed_options=options,
                locustfile=script.path.name,
                parsed_locustfiles=[str(script.path)],
                stop_timeout=float(getattr(options, "stop_timeout", 0.0) or 0.0),
                reset_stats=bool(getattr(options, "reset_stats", False)),
                # Locust annotates these as instances; they are the classes.
                available_user_classes=cast(Any, {c.__name__: c for c in script.user_classes}),
                available_user_tasks={c.__name__: c.tasks for c in script.user_classes},
            )
        except ValueError as exc:  # no user with a weight, duplicate class names
            raise ScriptError(f"{script.path}: {exc}") from exc
        self._apply_user_configs(getattr(options, "config_users", None) or [])
        self._options = options
        self._role = role
        # Locust's event hooks are untyped: one Any, rather than an ignore per call.
        self._events: Any = cast(Any, self.environment.events)
        self._arrival = arrival
        self._arrivals: Arrivals | None = None
        if isinstance(role, Worker) or (isinstance(role, Local) and arrival is not None):
            # Before the runner: a worker's runner may take a spawn message as it connects.
            self._arrivals = self._gate(collector, worker=isinstance(role, Worker))
        if isinstance(role, Worker):
            # Before the runner's own report listener, which sends environment.stats.
            self._events.report_to_master.add_listener(
                lambda **_: self._finish_for_report(collector)
            )
        self.runner: Any = self._create_runner(role)
        if isinstance(role, Master):
            self._events.worker_report.add_listener(role.merge.on_worker_report)
            self.runner.register_message(LEAVING_MESSAGE, role.merge.on_worker_leaving)
            role.merge.live_workers = self.live_workers
        else:
            self._events.request.add_listener(collector.on_request)
            self._feed_locust_stats(collector)
        if getattr(options, "equal_weights", False):
            # As Locust's main(): after the script's own init listeners.
            self._events.init.add_listener(
                lambda environment, **_: environment.assign_equal_weights()
            )
        if isinstance(role, Worker):
            shipper = PieceShipper(
                collector,
                is_stopped=lambda: bool(self.runner.state == STATE_STOPPED),
                region=role.region,
            )
            self._events.report_to_master.add_listener(shipper.on_report_to_master)
        self._split: ArrivalSplit | None = None
        if isinstance(role, Master) and arrival is not None:
            self._split = ArrivalSplit(self.runner, arrival, self.live_workers)
        if isinstance(role, Worker) and self._arrivals is not None:
            self._take_shares(self._arrivals)
        self._events.init.fire(environment=self.environment, runner=self.runner, web_ui=None)

    def _feed_locust_stats(self, collector: Collector) -> None:
        """environment.stats from the collector's seconds, not per request (engine.locust_stats)."""
        if not drop_locust_request_listener(self._events.request):
            return  # a Locust whose listener we do not know: it keeps counting
        collector.on_finished = LocustStatsFeed(self.environment).add
        # Listeners of test_stop (after the users stopped) see every request
        # counted up to when the run began to stop, not only whole seconds.
        self._events.test_stopping.add_listener(lambda **_: collector.finish_all())

    def _finish_for_report(self, collector: Collector) -> None:
        """A worker's report: the finished seconds join environment.stats first (the last: all)."""
        runner = getattr(self, "runner", None)
        if runner is not None and runner.state == STATE_STOPPED:
            collector.finish_all()
        else:
            collector.finish_before(int(time.time()))

    def _gate(self, collector: Collector, *, worker: bool) -> Arrivals:
        """Gate the users' tasks on the scheduler's tickets (loadgate.engine.arrival).

        A worker gates them whatever the run: whether it is an open model comes
        with its master's options, and its share of the schedule in a message.
        """
        environment = self.environment
        arrivals = Arrivals(
            environment,
            collector.arrivals,
            is_open=lambda: not worker or open_in_options(environment.parsed_options),
        )
        gate_tasks(environment.user_classes, arrivals)
        return arrivals

    def _take_shares(self, arrivals: Arrivals) -> None:
        """A worker: its share of the schedule comes from the master, in a custom message."""
        self.runner.register_message(
            SHARE_MESSAGE, lambda environment, msg, **_: arrivals.start(Share.from_wire(msg.data))
        )
        # A worker's users stop on its master's word: its scheduler stops first.
        self._events.test_stopping.add_listener(lambda **_: arrivals.stop())

    def _create_runner(self, role: Role) -> Any:
        environment = self.environment
        if isinstance(role, Master):
            return environment.create_master_runner(role.bind_host, role.bind_port)
        if isinstance(role, Worker):
            return environment.create_worker_runner(role.master_host, role.master_port)
        return environment.create_local_runner()

    def live_workers(self) -> dict[str, int]:
        """A master's connected workers that are not missing, with the users each runs."""
        return {
            c.id: sum(c.user_classes_count.values())
            for c in self.runner.clients.all
            if c.state != STATE_MISSING
        }

    def run_until_quit(self) -> None:
        """A worker: run until the master says quit, then make sure the last report left.

        ZeroMQ sends from a thread of its own: a process that exits right after
        the last report (os._exit in a forked worker) would lose it unless the
        socket is closed with a linger and its context terminated first.
        """
        self.runner.greenlet.join()
        client = self.runner.client
        client.close(linger=FLUSH_LINGER_MS)
        client.socket.context.term()

    def leave_master(self) -> None:
        """A worker asked to stop (a signal): its users stop, its last report goes, it says so.

        What Locust's worker does on the master's "quit" (stop, a final report,
        end its greenlets, so run_until_quit returns), plus our LEAVING_MESSAGE
        (the master stores a worker_left event) and Locust's own "quit" message,
        on which the master gives this worker's users to the others.
        """
        users = int(self.runner.user_count)
        self.runner.stop()
        self.runner._send_stats()  # final: the shipper sees the users stopped
        self.runner.send_message(LEAVING_MESSAGE, {"users": users})
        self.runner.send_message("quit")
        self.runner.greenlet.kill(block=True)

    def worker_totals(self) -> list[WorkerTotal]:
        """What each worker sent (a master's run), else nothing."""
        return self._role.merge.totals() if isinstance(self._role, Master) else []

    def wait_for_workers(self) -> None:
        """A master: block (cooperatively) until the expected workers are connected."""
        role = self._role
        if not isinstance(role, Master):
            return
        deadline = time.monotonic() + role.expect_timeout_s
        while len(self.live_workers()) < role.expect_workers:
            if time.monotonic() > deadline:
                raise WorkersMissingError(
                    f"only {len(self.live_workers())} of {role.expect_workers} workers connected "
                    f"to the master on {role.bind_host}:{role.bind_port} within "
                    f"{role.expect_timeout_s:g}s{role.hint}"
                )
            gevent.sleep(WORKERS_POLL_S)

    def _apply_user_configs(self, config_lists: list[list[dict[str, Any]]]) -> None:
        """Locust's --config-users: class attributes set from JSON, as Locust's main() does."""
        environment: Any = self.environment
        for user_config in (config for configs in config_lists for config in configs):
            try:
                environment.update_user_class(user_config)
            except KeyError as exc:
                known = ", ".join(sorted(environment.available_user_classes))
                raise ConfigError(
                    f"--config-users names the User class {exc}, which is not running "
                    f"(these are: {known})"
                ) from exc

    @property
    def has_shape(self) -> bool:
        return self.environment.shape_class is not None

    @property
    def user_count(self) -> int:
        return int(self.runner.user_count)

    def start(self) -> None:
        """Start spawning (or the shape, or the open model's schedule); returns at once."""
        if self._arrival is not None:
            # The pre-allocated pool, all at once: the schedule paces the load, not spawning.
            users = int(self._options.num_users)
            # A master's start returns once it dispatched the users (half a second
            # or so): its workers get their shares after their users, so that the
            # pool does not grow while Locust's own dispatch is on its way.
            self.runner.start(users, max(1, users))
            if self._split is not None:
                self._split.start()
            elif self._arrivals is not None:
                self._arrivals.start(Share(plan=self._arrival, start_s=time.time()))
        elif self.has_shape:
            self.runner.start_shape()
        else:
            self.runner.start(self._options.num_users, self._options.spawn_rate)

    def when_stopped_by_itself(self, callback: Callable[[], None]) -> None:
        """Call `callback` if the runner quits on its own (a shape's end, StopTest)."""

        def wait() -> None:
            # The runner's group holds its long-lived greenlets: it empties on quit().
            self.runner.greenlet.join()
            callback()

        gevent.spawn(wait)

    def stop(self) -> None:
        """Stop every user (at once, unless the script set a stop timeout) and the runner.

        A master tells its workers to quit and waits (bounded) for their last
        reports, which carry everything they measured: Locust's own quit
        waits a fixed 0.5 s, too short for a busy or remote worker.
        """
        role = self._role
        # The schedulers first: with users stopping, they would start new ones.
        if self._split is not None:
            self._split.stop()
        if self._arrivals is not None:
            self._arrivals.stop()
        if not isinstance(role, Master):
            self.runner.quit()
            return
        self.runner.stop(send_stop_to_client=False)
        live = set(self.live_workers())
        for worker_id in live:
            self.runner.send_message("quit", None, worker_id)
        deadline = time.monotonic() + FINAL_REPORTS_TIMEOUT_S
        while role.merge.waiting_for(live & set(self.live_workers())):
            if time.monotonic() > deadline:
                break
            gevent.sleep(WORKERS_POLL_S)
        self.runner.greenlet.kill(block=True)

    def fire_quitting(self) -> None:
        """Locust's last events before exit, for scripts that listen to them."""
        self._events.quitting.fire(environment=self.environment, reverse=True)

    @property
    def process_exit_code(self) -> int | None:
        """What the script asked the process to exit with (environment.process_exit_code)."""
        code = self.environment.process_exit_code
        return None if code is None else int(code)

    @property
    def unhandled_errors(self) -> int:
        """Exceptions raised by tasks (not failed requests), and greenlets that died of one."""
        from locust import log

        return len(self.runner.exceptions) + int(bool(log.unhandled_greenlet_exception))

    def fire_quit(self, exit_code: int) -> None:
        self._events.quit.fire(exit_code=exit_code)
