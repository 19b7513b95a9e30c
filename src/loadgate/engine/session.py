"""A whole `loadgate run`: script, target, Locust, collector, store and live view, start to end.

Importing this module imports Locust (gevent's monkey-patching): do it first,
and only in a process that runs one load test.
"""

from __future__ import annotations

# Locust first: it monkey-patches the process when imported.
from loadgate.engine.runner import LocustRun, raise_open_files_limit  # isort: skip

import contextlib
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import gevent
import locust
from gevent.event import AsyncResult
from rich.console import Console

from loadgate import __version__
from loadgate.duration import format_duration_s
from loadgate.engine.abort import AbortCheck, TrailingSeconds
from loadgate.engine.collector import Collector
from loadgate.engine.config import RunConfig
from loadgate.engine.interrupt import Interrupts
from loadgate.engine.live import LiveView, Progress, make_live_view
from loadgate.engine.locustfile import LoadedScript, load_script
from loadgate.engine.options import parse_locust_options
from loadgate.engine.tags import validate_tags
from loadgate.engine.target import BuiltinGateway
from loadgate.engine.writer import RunSink, SecondsWriter
from loadgate.errors import StoreError
from loadgate.model import NewRun, RunStatus

TICK_OFFSET_S = 0.02  # tick just after each second starts, so the previous one is complete
MAX_STORE_FAILURES = 5  # consecutive failed flushes (about 5 s) before the run is stopped
EXIT_INTERRUPTED = 130


class RunStoreLike(RunSink, Protocol):
    """The part of loadgate.store.RunStore a run needs."""

    def create_run(self, new: NewRun) -> int: ...

    def finish_run(
        self, run_id: int, status: RunStatus, ended_at: datetime, reason: str = ""
    ) -> None: ...


@dataclass(frozen=True, kw_only=True)
class RunPlan:
    """A checked run, ready to start: the script is loaded, the options parsed."""

    config: RunConfig
    script: LoadedScript
    options: Any
    warnings: tuple[str, ...]

    @property
    def needs_builtin_target(self) -> bool:
        return not self.config.host and any(not c.host for c in self.script.user_classes)

    @property
    def enforces_run_time(self) -> bool:
        # Locust leaves the run time to a shape (which may read it with use_common_options).
        return self.config.run_time_s is not None and self.script.shape is None


@dataclass(frozen=True, kw_only=True)
class RunOutcome:
    """How a run ended; its measurements are in the store under `run_id`."""

    run_id: int
    status: RunStatus
    reason: str
    interrupted: bool = False  # stopped by Ctrl-C or SIGTERM (not by an abort check)
    process_exit_code: int | None = None  # set by the script, e.g. in a `quitting` listener
    unhandled_errors: int = 0  # exceptions in tasks or greenlets (failed requests are stored)


def prepare(config: RunConfig, script: LoadedScript | None = None) -> RunPlan:
    """Load the script (unless given) and check what can be checked before the run starts."""
    script = script if script is not None else load_script(config.script_path)
    validate_tags(script.user_classes, config.tags, config.exclude_tags)
    options = parse_locust_options(config)
    warnings: list[str] = []
    shape = script.shape
    given = [flag for flag, value in (("-u", config.users), ("-r", config.spawn_rate_per_s),
             ("-t", config.run_time_s)) if value is not None]  # fmt: skip
    if shape is not None and given and not getattr(shape, "use_common_options", False):
        warnings.append(
            f"the load shape {script.shape_name} decides users and run time: "
            f"{', '.join(given)} ignored (as in Locust, unless the shape sets use_common_options)"
        )
    return RunPlan(config=config, script=script, options=options, warnings=tuple(warnings))


def settings_of(plan: RunPlan, host: str, builtin_target: bool) -> dict[str, Any]:
    """What is stored with the run, beside the script's text."""
    config = plan.config
    return {
        "users": config.users_or_default,
        "spawn_rate": config.spawn_rate_or_default,
        "run_time": None if config.run_time_s is None else format_duration_s(config.run_time_s),
        "run_time_s": config.run_time_s,
        "host": host,
        "builtin_target": builtin_target,
        "tags": list(config.tags),
        "exclude_tags": list(config.exclude_tags),
        "thresholds": list(config.thresholds),
        "user_classes": [c.__name__ for c in plan.script.user_classes],
        "shape": plan.script.shape_name,
        "custom_arguments": {k: _storable(v) for k, v in config.custom_arguments.items()},
        "loadgate_version": __version__,
        "locust_version": locust.__version__,
        "python_version": platform.python_version(),
    }


def _storable(value: object) -> object:
    """A script argument's value as JSON can hold it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return str(value)


def _script_hosts(plan: RunPlan) -> str:
    return ", ".join(sorted({str(c.host) for c in plan.script.user_classes if c.host}))


def execute(
    plan: RunPlan,
    store: RunStoreLike,
    live_console: Console | None,
    interrupts: Interrupts,
    abort_check: AbortCheck | None = None,
) -> RunOutcome:
    """Run the plan to its end and store it; returns how it ended.

    `interrupts` (entered by the caller) decides what Ctrl-C does: while users
    run, the first one stops the run, marked aborted; any other ends the
    process after the built-in target is stopped and the live view closed.
    `abort_check`, if given, is called once a second with the run's last
    `window_s` seconds; a reason it returns stops the run, marked aborted.
    """
    raise_open_files_limit()
    live = make_live_view(live_console)
    interrupts.before_exit(live.stop)
    gateway: BuiltinGateway | None = None
    try:
        if plan.needs_builtin_target:
            gateway = BuiltinGateway.launch()
            interrupts.before_exit(gateway.terminate_now)
            gateway.wait_until_ready()
        host = plan.config.host or _script_hosts(plan)
        if gateway is not None:
            for user_class in plan.script.user_classes:
                user_class.host = user_class.host or gateway.url
            host = gateway.url if not host else f"{host}, {gateway.url}"
        run_id = store.create_run(
            NewRun(
                name=plan.config.name,
                script_path=str(plan.script.path),
                script_text=plan.script.text,
                host=host,
                started_at=datetime.now(UTC),
                settings=settings_of(plan, host, gateway is not None),
            )
        )
        interrupts.run_id = run_id
        drive = _Drive(
            plan,
            store=store,
            run_id=run_id,
            live=live,
            interrupts=interrupts,
            abort_check=abort_check,
        )
        return drive.run()
    finally:
        if gateway is not None:
            gateway.stop()


class _Drive:
    """The running phase: start users, tick the writer and the view, stop, store the end."""

    def __init__(
        self,
        plan: RunPlan,
        *,
        store: RunStoreLike,
        run_id: int,
        live: LiveView,
        interrupts: Interrupts,
        abort_check: AbortCheck | None,
    ) -> None:
        self._plan = plan
        self._store = store
        self._run_id = run_id
        self._live = live
        self._interrupts = interrupts
        self._abort_check = abort_check
        self._trailing = TrailingSeconds(abort_check.window_s if abort_check else 0)
        self._collector = Collector()
        self._writer = SecondsWriter(
            store, run_id, self._collector, self._trailing.add if abort_check else None
        )
        self._end: AsyncResult = AsyncResult()
        self._store_error: StoreError | None = None
        self._started_s = time.time()

    def _finish(self, status: RunStatus, reason: str, interrupted: bool = False) -> None:
        if not self._end.ready():
            self._end.set((status, reason, interrupted))

    def run(self) -> RunOutcome:
        plan = self._plan
        locust_run = LocustRun(plan.script, plan.options, plan.config.host, self._collector)
        self._interrupts.stop_run_with(
            lambda name: self._finish(RunStatus.ABORTED, f"interrupted by {name}", True)
        )
        locust_run.when_stopped_by_itself(
            lambda: self._finish(RunStatus.COMPLETED, self._self_stop_reason(locust_run))
        )
        # libev's clock is cached per loop iteration and went stale while the
        # script loaded and the store opened: refresh it, or timers fire early.
        gevent.get_hub().loop.update_now()
        greenlets = [gevent.spawn(self._tick_forever, locust_run)]
        if plan.enforces_run_time and plan.config.run_time_s is not None:
            greenlets.append(
                gevent.spawn_later(plan.config.run_time_s, self._finish, RunStatus.COMPLETED, "")
            )
        self._live.start()
        try:
            locust_run.start()
            status, reason, interrupted = self._end.get()
            # The ticker must not flush while _stop closes the writer.
            gevent.killall(greenlets)
            return self._stop(locust_run, status, reason, interrupted)
        except BaseException as exc:
            self._record_failure(exc)
            raise
        finally:
            # From here on, Ctrl-C ends the process at once.
            self._interrupts.stop_run_with(None)
            gevent.killall(greenlets)
            self._live.stop()

    def _self_stop_reason(self, locust_run: LocustRun) -> str:
        return "the load shape ended" if locust_run.has_shape else "the script stopped the test"

    def _stop(
        self, locust_run: LocustRun, status: RunStatus, reason: str, interrupted: bool
    ) -> RunOutcome:
        ended_at = datetime.now(UTC)
        if status is RunStatus.ABORTED:
            # Recorded first: a second Ctrl-C from here on leaves the run marked aborted.
            self._store.finish_run(self._run_id, status, ended_at, reason)
        users = locust_run.user_count
        locust_run.stop()
        # Stored before the script's `quitting` listeners run, which may take their time.
        self._writer.close(time.time(), users)
        if self._store_error is not None:
            raise self._store_error
        self._store.finish_run(self._run_id, status, ended_at, reason)
        locust_run.fire_quitting()
        wanted = locust_run.process_exit_code
        default_code = EXIT_INTERRUPTED if interrupted else 0
        locust_run.fire_quit(wanted if wanted is not None else default_code)
        return RunOutcome(
            run_id=self._run_id,
            status=status,
            reason=reason,
            interrupted=interrupted,
            process_exit_code=wanted,
            unhandled_errors=locust_run.unhandled_errors,
        )

    def _record_failure(self, exc: BaseException) -> None:
        """Best effort: mark the run failed, so it does not stay 'running' forever."""
        reason = f"{type(exc).__name__}: {exc}"
        with contextlib.suppress(StoreError):
            self._store.finish_run(self._run_id, RunStatus.FAILED, datetime.now(UTC), reason)

    def _tick_forever(self, locust_run: LocustRun) -> None:
        try:
            while True:
                now_s = time.time()
                gevent.sleep(int(now_s) + 1 + TICK_OFFSET_S - now_s)
                self._tick(locust_run)
        except Exception as exc:  # a bug: end the run with it rather than run blind
            if not self._end.ready():
                self._end.set_exception(exc)

    def _tick(self, locust_run: LocustRun) -> None:
        now_s = time.time()
        try:
            self._writer.tick(now_s, locust_run.user_count)
        except StoreError as exc:
            if self._writer.consecutive_failures >= MAX_STORE_FAILURES:
                self._store_error = exc
                self._finish(RunStatus.FAILED, f"the run store failed: {exc}")
        if self._abort_check is not None:
            reason = self._abort_check(self._trailing.last(int(now_s)), int(now_s) - 1)
            if reason:
                self._finish(RunStatus.ABORTED, reason)
        self._live.update(lambda: self._progress(locust_run, now_s))

    def _progress(self, locust_run: LocustRun, now_s: float) -> Progress:
        plan = self._plan
        return Progress(
            label=f"run {self._run_id} · {plan.config.name}",
            elapsed_s=now_s - self._started_s,
            run_time_s=plan.config.run_time_s if plan.enforces_run_time else None,
            users=locust_run.user_count,
            requests_total=self._writer.requests_total,
            failures_total=self._writer.failures_total,
            recent=self._writer.recent_window(now_s, self._started_s),
        )
