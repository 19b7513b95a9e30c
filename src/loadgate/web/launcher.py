"""Runs the dashboard starts: `loadgate run` subprocesses writing to the same store.

The dashboard never imports the engine; it starts `python -m loadgate run`
with a saved test's settings, learns the id of the run it created from the
run itself (it names a file in LOADGATE_RUN_ID_FILE; the run writes its id
there as soon as its row exists: runs of one name started in the same
second, by two dashboards on one store, are never mixed up), and stops it
the way Ctrl-C does (SIGINT: the run is stored as aborted). One launch per
test name at a time. Runs it did not start can be watched, not stopped.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from loadgate.errors import ConfigError, RunError
from loadgate.model import SavedTest

FIRST_RUN_TIMEOUT_S = 30.0
POLL_INTERVAL_S = 0.2
STOP_TIMEOUT_S = 15.0
LOG_LINES_SHOWN = 3
# Read by `loadgate run` (loadgate.cli.run_id_file, which the dashboard may not import).
RUN_ID_FILE_ENV = "LOADGATE_RUN_ID_FILE"


@dataclass(kw_only=True)
class Launch:
    """One `loadgate run` the dashboard started."""

    test: SavedTest
    process: subprocess.Popen[bytes]
    log_path: Path
    run_id_path: Path
    run_id: int | None = None
    stopping: bool = field(default=False)

    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self) -> str:
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        return " · ".join(lines[-LOG_LINES_SHOWN:])


def run_command(test: SavedTest, script: Path, db_url: str) -> list[str]:
    """`loadgate run`'s command line for a saved test."""
    command = [sys.executable, "-m", "loadgate", "run", str(script), "--name", test.name]
    command += ["--db", db_url, "--quiet"]
    if test.stages:
        command += ["--stages", test.stages]
    else:
        command += ["-u", str(test.users), "-r", f"{test.spawn_rate:g}", "-t", test.run_time]
    if test.host:
        command += ["-H", test.host]
    for threshold in test.thresholds:
        command += ["--threshold", threshold]
    if test.baseline:
        command += ["--baseline", test.baseline]
    return command


class Launcher:
    """The runs this dashboard started, by test name; thread-safe."""

    def __init__(self, db_url: str) -> None:
        self._db_url = db_url
        self._folder = Path(tempfile.mkdtemp(prefix="loadgate-dashboard-"))
        self._lock = threading.Lock()
        self._launches: dict[str, Launch] = {}
        self._numbers = itertools.count(1)

    def start(self, test: SavedTest) -> Launch:
        """Start `test` (its host already checked) and wait until its run is stored."""
        with self._lock:
            current = self._launches.get(test.name)
            if current is not None and current.running():
                raise ConfigError(f"test {test.name!r} is running already (run {current.run_id})")
            script = Path(test.script_path)
            if test.script_text:
                script = self._folder / f"test-{test.test_id}.py"
                script.write_text(test.script_text, encoding="utf-8")
            number = next(self._numbers)
            log_path = self._folder / f"launch-{number}.log"
            run_id_path = self._folder / f"launch-{number}.run-id"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    run_command(test, script, self._db_url),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, RUN_ID_FILE_ENV: str(run_id_path)},
                )
            launch = Launch(test=test, process=process, log_path=log_path, run_id_path=run_id_path)
            self._launches[test.name] = launch
        launch.run_id = self._run_of(launch)
        return launch

    def _run_of(self, launch: Launch) -> int:
        """The id the launched run wrote to its file (whole: it is renamed into place)."""
        deadline = time.monotonic() + FIRST_RUN_TIMEOUT_S
        while time.monotonic() < deadline:
            if launch.run_id_path.exists():
                return int(launch.run_id_path.read_text(encoding="ascii"))
            if not launch.running():
                raise RunError(
                    f"test {launch.test.name!r} did not start a run: {launch.log_tail()}"
                )
            time.sleep(POLL_INTERVAL_S)
        self._interrupt(launch)
        raise RunError(
            f"test {launch.test.name!r} stored no run within {FIRST_RUN_TIMEOUT_S:g} s; stopped"
        )

    def launch_of_run(self, run_id: int) -> Launch | None:
        """The running launch that made `run_id`, if this dashboard started it."""
        with self._lock:
            for launch in self._launches.values():
                if launch.run_id == run_id and launch.running():
                    return launch
        return None

    def launch_of_test(self, name: str) -> Launch | None:
        with self._lock:
            return self._launches.get(name)

    def stop(self, run_id: int) -> bool:
        """Stop the run as Ctrl-C does (SIGINT); False if this dashboard is not running it."""
        launch = self.launch_of_run(run_id)
        if launch is None:
            return False
        self._interrupt(launch)
        return True

    def _interrupt(self, launch: Launch) -> None:
        launch.stopping = True
        if launch.running():
            launch.process.send_signal(signal.SIGINT)

    def close(self) -> None:
        """Stop every run still going (the dashboard is exiting) and wait for them to store it."""
        with self._lock:
            launches = list(self._launches.values())
        for launch in launches:
            self._interrupt(launch)
        for launch in launches:
            try:
                launch.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                launch.process.kill()
                launch.process.wait()
