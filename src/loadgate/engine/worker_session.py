"""`loadgate worker`: one Locust worker process that runs a master's users and ships their seconds.

The worker never opens the run store: what it measures goes to the master in
Locust's worker reports (loadgate.engine.shipping). Without a script of its
own it asks the master for the master's (Locust's "locustfile" message), so
one copy of the script drives every machine.

Ctrl-C and SIGTERM (`docker stop`, a pod deleted or scaled away) stop a
worker: before it runs users, at once; once it does, it leaves the master
cleanly (LocustRun.leave_master): its last report is sent and the master
gives its users to the other workers. The handlers are gevent's, because
Python's KeyboardInterrupt never reached the waiting worker (Ctrl-C did
nothing), and because a container's first process gets no default action
for SIGTERM (Kubernetes waited its grace period, then killed it).

Importing this module imports Locust (gevent's monkey-patching): do it first.
"""

from __future__ import annotations

# Locust first: it monkey-patches the process when imported.
from loadgate.engine.runner import LocustRun, Worker, raise_open_files_limit  # isort: skip

import contextlib
import io
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gevent
from locust import runners as locust_runners
from locust.argument_parser import download_locustfile_from_master

from loadgate.engine.collector import Collector
from loadgate.engine.config import RunConfig
from loadgate.engine.fastclient import use_client
from loadgate.engine.locustfile import load_script
from loadgate.engine.options import parse_locust_options
from loadgate.errors import RunError
from loadgate.http_client import DEFAULT_CLIENT


@dataclass(frozen=True, kw_only=True)
class WorkerConfig:
    """What `loadgate worker` was asked to do."""

    master_host: str
    master_port: int
    region: str
    script_path: Path | None = None  # None: the master's script
    client: str = DEFAULT_CLIENT
    timings: bool = False  # --timings, as the master's


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class WorkerInterruptedError(Exception):
    """A stop signal came before the worker ran users: it leaves without a word to the master."""


class StopSignals:
    """The first Ctrl-C or SIGTERM stops the worker; later ones are ignored while it leaves."""

    def __init__(self) -> None:
        self.run: LocustRun | None = None  # set once the worker is connected
        self.received = False
        self._main = gevent.getcurrent()
        self._handlers = [gevent.signal_handler(s, self._on_signal) for s in STOP_SIGNALS]

    def _on_signal(self) -> None:
        if self.received:
            return
        self.received = True
        if self.run is None:
            gevent.kill(self._main, WorkerInterruptedError)
        else:
            self.run.leave_master()

    def close(self) -> None:
        for handler in self._handlers:
            handler.cancel()


def run_worker(config: WorkerConfig) -> bool:
    """Connect, run users as the master says; return whether a signal stopped the worker.

    Returns when the master tells the worker to quit, or once a signal made
    it leave; raises WorkerInterruptedError for a signal before it was connected.
    """
    raise_open_files_limit()
    signals = StopSignals()
    try:
        with tempfile.TemporaryDirectory(prefix="loadgate-worker-") as folder:
            path = config.script_path or fetch_script(config, Path(folder))
            signals.run = connect(config, path)
            signals.run.run_until_quit()
    finally:
        signals.close()
    return signals.received


def connect(config: WorkerConfig, path: Path) -> LocustRun:
    """A worker runner with the script loaded, once the master has answered.

    Locust's worker asks CONNECT_RETRY_COUNT + 1 times, CONNECT_TIMEOUT
    seconds each (about 5 minutes), then gives up with a bare ConnectionError.
    """
    script = load_script(path)
    use_client(config.client, script.user_classes, timings=config.timings)
    options = parse_locust_options(RunConfig(script_path=path, name=path.stem))
    try:
        return LocustRun(
            script,
            options,
            None,
            Collector(timings=config.timings),
            Worker(config.master_host, config.master_port, config.region),
        )
    except ConnectionError as exc:
        tries = locust_runners.CONNECT_RETRY_COUNT + 1
        waited_s = locust_runners.CONNECT_TIMEOUT * tries
        raise RunError(
            f"no master answered at {config.master_host}:{config.master_port} within "
            f"{waited_s:g}s; start `loadgate run ... --master` there first"
        ) from exc


def fetch_script(config: WorkerConfig, folder: Path) -> Path:
    """The master's script, written into `folder`."""
    where = f"{config.master_host}:{config.master_port}"
    errors = io.StringIO()
    try:
        # Locust's own download: it writes its complaints to stderr and exits.
        with contextlib.redirect_stderr(errors):
            # Annotated as str by Locust; it is the list of the master's files.
            sources: Any = download_locustfile_from_master(config.master_host, config.master_port)
    except SystemExit as exc:
        detail = errors.getvalue().strip().splitlines()
        raise RunError(
            f"no script from the master at {where}: {detail[-1] if detail else exc.code}"
        ) from exc
    files = [source for source in sources if isinstance(source, dict) and "contents" in source]
    if len(files) != 1:
        raise RunError(f"the master at {where} sent {len(files)} scripts, expected one")
    path = folder / Path(str(files[0]["filename"])).name
    path.write_text(str(files[0]["contents"]), encoding="utf-8")
    return path
