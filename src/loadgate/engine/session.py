"""A whole `loadgate run`: script, target, Locust, collector, store and live view, start to end.

Importing this module imports Locust (gevent's monkey-patching): do it first,
and only in a process that runs one load test.
"""

from __future__ import annotations

# Locust first: it monkey-patches the process when imported.
from loadgate.engine.runner import (  # isort: skip
    Local,
    LocustRun,
    Master,
    Role,
    Worker,
    raise_open_files_limit,
)

import platform
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
from loadgate.engine.config import MasterConfig, RunConfig
from loadgate.engine.ending import SPILL_WAIT_S, RunEnding, StoredRun
from loadgate.engine.fastclient import use_client
from loadgate.engine.interrupt import Interrupts
from loadgate.engine.live import LiveView, Progress, make_live_view
from loadgate.engine.local_workers import LocalWorkers, processes_count
from loadgate.engine.locust_bounds import bound_stats
from loadgate.engine.locustfile import LoadedScript, load_script
from loadgate.engine.options import parse_locust_options
from loadgate.engine.scrape_sink import ScrapeSink, ScrapeStore
from loadgate.engine.scraper import Scraper
from loadgate.engine.stage_shape import StagesShape
from loadgate.engine.stall import NoStallMeter, hub_stall_meter
from loadgate.engine.tags import validate_tags
from loadgate.engine.target import LOOPBACK, BuiltinGateway, free_port
from loadgate.engine.worker_merge import WorkerMerge
from loadgate.engine.writer import RunSink, SecondsWriter
from loadgate.engine.writer_thread import WriterThread
from loadgate.errors import ConfigError, StoreError
from loadgate.model import NewRun, RunStatus, WorkerTotal
from loadgate.stages import format_stages
from loadgate.store.spill import RunEnd

TICK_OFFSET_S = 0.02  # tick just after each second starts, so the previous one is complete
EXIT_INTERRUPTED = 130
# Waits on the store at the end of a run. The first is short: recording an
# abort must not hold up stopping the users; the last writes get longer.
FIRST_END_TIMEOUT_S = 3.0
CLOSE_TIMEOUT_S = 15.0
# The writer thread shares the GIL with the hub in slices this long (CPython's
# default, 5 ms, would be a 5 ms stall each time the hub waits for it).
GIL_SWITCH_INTERVAL_S = 0.0005
# How long a master waits for its --processes workers to connect.
LOCAL_WORKERS_TIMEOUT_S = 30.0


class RunStoreLike(RunSink, ScrapeStore, Protocol):
    """The part of loadgate.store.RunStore a run needs."""

    url: str

    def create_run(self, new: NewRun) -> int: ...

    def finish_run(
        self, run_id: int, status: RunStatus, ended_at: datetime, reason: str = ""
    ) -> None: ...

    def store_workers(self, run_id: int, workers: Sequence[WorkerTotal]) -> None: ...


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
    use_client(config.client, script.user_classes, timings=config.timings)
    options = parse_locust_options(config)
    warnings: list[str] = []
    if config.arrival is not None and script.shape is not None:
        raise ConfigError(
            f"the script's load shape {script.shape_name} decides users over time (the closed "
            "model): it cannot be combined with --arrival-rate or --arrival-stages"
        )
    if config.stages and script.shape is not None:
        warnings.append(
            f"the script's load shape {script.shape_name} decides users and run time: "
            "--stages ignored"
        )
    elif config.stages:
        script = replace(script, shape=StagesShape(config.stages))
    shape = script.shape
    given = [flag for flag, value in (("-u", config.users), ("-r", config.spawn_rate_per_s),
             ("-t", config.run_time_s)) if value is not None]  # fmt: skip
    if shape is not None and given and not getattr(shape, "use_common_options", False):
        decides = (
            "--stages decides"
            if isinstance(shape, StagesShape)
            else f"the load shape {script.shape_name} decides"
        )
        warnings.append(
            f"{decides} users and run time: "
            f"{', '.join(given)} ignored (as in Locust, unless the shape sets use_common_options)"
        )
    return RunPlan(config=config, script=script, options=options, warnings=tuple(warnings))


def settings_of(
    plan: RunPlan, host: str, builtin_target: bool, scrape_urls: Sequence[str] = ()
) -> dict[str, Any]:
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
        "expect_rate_limit": config.expect_rate_limit,
        "scrape": {"urls": list(scrape_urls), "series": config.scrape_series},
        "user_classes": [c.__name__ for c in plan.script.user_classes],
        "client": config.client,
        "timings": config.timings,
        "shape": plan.script.shape_name,
        "stages": format_stages(config.stages) if config.stages else None,
        "arrival": None
        if config.arrival is None
        else {"rate": config.arrival.describe(), "max_users": config.arrival.max_users},
        "processes": config.processes,
        "master": None
        if config.master is None
        else {
            "bind_host": config.master.bind_host,
            "bind_port": config.master.bind_port,
            "expect_workers": config.master.expect_workers,
        },
        "custom_arguments": {k: _storable(v) for k, v in config.custom_arguments.items()},
        "loadgate_version": __version__,
        "locust_version": locust.__version__,
        "python_version": platform.python_version(),
    }


def scrape_urls(config: RunConfig, gateway: BuiltinGateway | None) -> tuple[str, ...]:
    """The URLs the run scrapes: those given, and the built-in gateway's unless turned off."""
    urls = list(config.scrape_urls)
    if gateway is not None and config.scrape_builtin and gateway.metrics_url not in urls:
        urls.append(gateway.metrics_url)
    return tuple(urls)


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
    interrupts.before_exit(live.stop_now)
    gateway: BuiltinGateway | None = None
    workers: LocalWorkers | None = None
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
        role: Role = Local()
        if plan.config.processes:
            role, workers = _fork_local_workers(plan, processes_count(plan.config.processes))
            interrupts.before_exit(workers.kill_now)
        elif plan.config.master is not None:
            role = _master_role(plan.config.master)
        if isinstance(role, Master) and gateway is not None and not plan.config.host:
            # Workers load the script themselves: the target reaches them in the
            # master's spawn message (Environment.host), not in their User classes.
            plan = replace(plan, config=replace(plan.config, host=gateway.url))
        scraped = scrape_urls(plan.config, gateway)
        new = NewRun(
            name=plan.config.name,
            script_path=str(plan.script.path),
            script_text=plan.script.text,
            host=host,
            started_at=datetime.now(UTC),
            settings=settings_of(plan, host, gateway is not None, scraped),
        )
        run_id = store.create_run(new)
        interrupts.run_id = run_id
        drive = _Drive(
            plan,
            store=store,
            run=StoredRun(run_id=run_id, new=new, store_url=store.url),
            live=live,
            interrupts=interrupts,
            abort_check=abort_check,
            role=role,
            scraper=Scraper(scraped),
        )
        return drive.run()
    finally:
        if workers is not None:
            workers.reap()
        if gateway is not None:
            gateway.stop()


def _master_role(master: MasterConfig) -> Master:
    return Master(
        bind_host=master.bind_host,
        bind_port=master.bind_port,
        merge=WorkerMerge(),
        expect_workers=master.expect_workers,
        expect_timeout_s=master.max_wait_s,
        hint=(
            f" (start them with `loadgate worker --master-host HOST "
            f"--master-port {master.bind_port}`, or change --expect-workers)"
        ),
    )


def _fork_local_workers(plan: RunPlan, count: int) -> tuple[Master, LocalWorkers]:
    """`--processes`: workers forked now, and the master role that will wait for them."""
    port = free_port()

    def run_worker() -> None:
        worker = LocustRun(
            plan.script,
            plan.options,
            plan.config.host,
            Collector(key_header=plan.config.rate_limit_key_header, timings=plan.config.timings),
            Worker(LOOPBACK, port, socket.gethostname()),
        )
        worker.run_until_quit()

    workers = LocalWorkers.fork(count, run_worker)
    master = Master(
        bind_host=LOOPBACK,
        bind_port=port,
        merge=WorkerMerge(),
        expect_workers=count,
        expect_timeout_s=LOCAL_WORKERS_TIMEOUT_S,
    )
    return master, workers


class _Drive:
    """The running phase: start users, tick the writer and the view, stop, store the end.

    Store calls go through the writer thread (loadgate.engine.writer_thread):
    the hub only takes the collector's tallies and hands them over, so neither
    encoding nor a slow store stalls the requests in flight.
    """

    def __init__(
        self,
        plan: RunPlan,
        *,
        store: RunStoreLike,
        run: StoredRun,
        live: LiveView,
        interrupts: Interrupts,
        abort_check: AbortCheck | None,
        role: Role,
        scraper: Scraper,
    ) -> None:
        self._plan = plan
        self._role = role
        self._store = store
        self._run = run
        self._live = live
        self._interrupts = interrupts
        self._abort_check = abort_check
        self._trailing = TrailingSeconds(abort_check.window_s if abort_check else 0)
        self._collector = Collector(
            key_header=plan.config.rate_limit_key_header, timings=plan.config.timings
        )
        self._started_s = time.time()
        self._writer = SecondsWriter(
            store,
            run.run_id,
            self._collector,
            self._trailing.add if abort_check else None,
            pieces=role.merge if isinstance(role, Master) else None,
        )
        self._thread = WriterThread(
            self._writer,
            self._started_s,
            abort_reason=self._abort_reason if abort_check else None,
            store_url=run.store_url,
        )
        self._meter = NoStallMeter() if isinstance(role, Master) else hub_stall_meter()
        self._end: AsyncResult = AsyncResult()
        self._scraper = scraper
        self._scrapes = ScrapeSink(scraper, store, run.run_id, self._thread)
        self._ending = RunEnding(store, run, self._thread, self._scrapes.unstored)

    def _finish(self, status: RunStatus, reason: str, interrupted: bool = False) -> None:
        if not self._end.ready():
            self._end.set((status, reason, interrupted))

    def run(self) -> RunOutcome:
        plan = self._plan
        locust_run = LocustRun(
            plan.script,
            plan.options,
            plan.config.host,
            self._collector,
            self._role,
            arrival=plan.config.arrival,
        )
        self._interrupts.stop_run_with(
            lambda name: self._finish(RunStatus.ABORTED, f"interrupted by {name}", True)
        )
        self._interrupts.before_exit(self._note_at_exit)
        locust_run.when_stopped_by_itself(
            lambda: self._finish(RunStatus.COMPLETED, self._self_stop_reason(locust_run))
        )
        # libev's clock is cached per loop iteration and went stale while the
        # script loaded and the store opened: refresh it, or timers fire early.
        gevent.get_hub().loop.update_now()
        greenlets = [gevent.spawn(self._tick_forever, locust_run)]
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        self._scraper.start()
        self._meter.start()
        self._live.start()
        try:
            # A master's run time counts from when its workers are there.
            locust_run.wait_for_workers()
            if plan.enforces_run_time and plan.config.run_time_s is not None:
                greenlets.append(
                    gevent.spawn_later(
                        plan.config.run_time_s, self._finish, RunStatus.COMPLETED, ""
                    )
                )
            locust_run.start()
            status, reason, interrupted = self._end.get()
            # The ticker must not hand over batches while _stop closes the writer.
            gevent.killall(greenlets)
            return self._stop(locust_run, status, reason, interrupted)
        except BaseException as exc:
            self._record_failure(exc)
            raise
        finally:
            # From here on, Ctrl-C ends the process at once.
            self._interrupts.stop_run_with(None)
            gevent.killall(greenlets)
            self._scraper.stop(timeout_s=0)
            self._meter.stop()
            self._live.stop()
            self._thread.shutdown()

    def _self_stop_reason(self, locust_run: LocustRun) -> str:
        return "the load shape ended" if locust_run.has_shape else "the script stopped the test"

    def _stop(
        self, locust_run: LocustRun, status: RunStatus, reason: str, interrupted: bool
    ) -> RunOutcome:
        ended_at = datetime.now(UTC)
        ending = self._ending
        if status is RunStatus.ABORTED and ending.store_error is None:
            # Recorded first: a second Ctrl-C from here on leaves the run marked aborted.
            ending.record(status, ended_at, reason, FIRST_END_TIMEOUT_S)
        users = locust_run.user_count
        # Read before the users stop: stopping them keeps the hub busy for tens of ms.
        stall_ms = self._meter.take_longest_ms()
        locust_run.stop()
        # Stored before the script's `quitting` listeners run, which may take their time.
        last = self._writer.take_all(time.time(), users, stall_ms)
        # Ended by the store: `failed`, unless Ctrl-C had already aborted the run.
        end = RunEnd(status=status, reason=reason, ended_at=ended_at)
        if ending.store_error is not None:
            raise ending.spilled(ending.store_error, last, end)
        try:
            self._thread.close(last, CLOSE_TIMEOUT_S)
        except StoreError as exc:
            if status is not RunStatus.ABORTED:
                end = RunEnd(status=RunStatus.FAILED, reason=str(exc), ended_at=ended_at)
            raise ending.spilled(exc, None, end) from exc
        # The scrapes of the run's last second, then everything not stored yet.
        self._scraper.stop()
        self._scrapes.close(CLOSE_TIMEOUT_S)
        workers = locust_run.worker_totals()
        if workers:
            self._thread.call(
                self._store.store_workers, self._run.run_id, workers, timeout_s=CLOSE_TIMEOUT_S
            )
        if not ending.record(status, ended_at, reason, CLOSE_TIMEOUT_S):
            raise StoreError(f"recording the end of run {self._run.run_id} did not finish in time")
        locust_run.fire_quitting()
        wanted = locust_run.process_exit_code
        default_code = EXIT_INTERRUPTED if interrupted else 0
        locust_run.fire_quit(wanted if wanted is not None else default_code)
        return RunOutcome(
            run_id=self._run.run_id,
            status=status,
            reason=reason,
            interrupted=interrupted,
            process_exit_code=wanted,
            unhandled_errors=locust_run.unhandled_errors,
        )

    def _record_failure(self, exc: BaseException) -> None:
        """Best effort: mark the run failed, so it does not stay 'running' forever."""
        reason = f"{type(exc).__name__}: {exc}"
        if not self._ending.stored and self._ending.store_error is None:
            self._ending.record(RunStatus.FAILED, datetime.now(UTC), reason, SPILL_WAIT_S)

    def _note_at_exit(self) -> None:
        """A second Ctrl-C (on the interrupt thread): keep what the store has not got yet."""
        self._interrupts.exit_note = self._ending.at_exit(self._interrupted_reason)

    def _interrupted_reason(self) -> str:
        end = self._end
        if end.ready() and end.successful() and end.value[0] is RunStatus.ABORTED:
            return str(end.value[1])
        return f"interrupted by {self._interrupts.received or 'a signal'}"

    def _abort_reason(self, current_second: int) -> str | None:
        # On the writer thread: the check decodes the window's histograms, about
        # 10 ms a second for 20 endpoints and one p95 threshold over 10 s.
        assert self._abort_check is not None
        return self._abort_check(self._trailing.last(current_second), current_second - 1)

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
        stall_ms = self._meter.take_longest_ms()
        batch = self._writer.take(now_s, locust_run.user_count, stall_ms)
        self._thread.hand_off(replace(batch, want_window=self._live.shows_soon()))
        bound_stats(locust_run.environment.stats)
        self._scrapes.flush(CLOSE_TIMEOUT_S)
        error = self._thread.store_error()
        if error is not None and self._ending.store_error is None:
            self._ending.store_error = error
            self._finish(RunStatus.FAILED, str(error))
        reason = self._thread.state.abort_reason
        if reason:
            self._finish(RunStatus.ABORTED, reason)
        self._live.update(lambda: self._progress(locust_run, now_s))

    def _progress(self, locust_run: LocustRun, now_s: float) -> Progress:
        plan = self._plan
        state = self._thread.state
        return Progress(
            label=f"run {self._run.run_id} · {plan.config.name}",
            elapsed_s=now_s - self._started_s,
            run_time_s=plan.config.run_time_s if plan.enforces_run_time else None,
            users=locust_run.user_count,
            requests_total=state.requests_total,
            failures_total=state.failures_total,
            recent=state.recent,
        )
