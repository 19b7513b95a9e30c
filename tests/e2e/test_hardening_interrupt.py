"""A second Ctrl-C ends `loadgate run` at once, even while the store is blocked; nothing is lost.

The store is a SQLite file that another process holds with BEGIN EXCLUSIVE,
so every write of the run waits in SQLite's busy timeout (10 s), in C.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loadgate.errors import ExitCode
from loadgate.model import RunStatus
from loadgate.store import RunStore
from tests.e2e.conftest import (
    REPO,
    SCRIPTS,
    RunLoadgate,
    Target,
    loadgate_command,
    wait_for_stored_requests,
)

pytestmark = pytest.mark.slow

EXIT_WITHIN_S = 2.0
HUB_STALL_LIMIT_MS = 100.0  # on the hub, a write waiting for the lock would stall it for seconds
LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # held until the test closes our stdin
"""


def _lock(db_path: Path) -> subprocess.Popen[str]:
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(db_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert locker.stdout is not None
    assert locker.stdout.readline().strip() == "locked"
    return locker


def test_a_second_ctrl_c_exits_at_once_while_the_store_is_locked(
    loadgate: RunLoadgate, shared_target: Target, tmp_path: Path
) -> None:
    db_path = tmp_path / "runs.db"
    db_url = f"sqlite:///{db_path}"
    run = subprocess.Popen(
        [str(loadgate_command()), "run", str(SCRIPTS / "plain.py"), "-H", shared_target.url,
         "-u", "3", "-r", "3", "--db", db_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={"XDG_DATA_HOME": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    locker: subprocess.Popen[str] | None = None
    try:
        wait_for_stored_requests(db_url, run)
        locker = _lock(db_path)
        locked_at_s = time.time()
        time.sleep(2.5)  # the next write is now waiting for the lock
        run.send_signal(signal.SIGINT)
        time.sleep(0.5)
        run.send_signal(signal.SIGINT)
        second_sent_s = time.monotonic()
        _stdout, stderr = run.communicate(timeout=30)
        exit_took_s = time.monotonic() - second_sent_s
    finally:
        if run.poll() is None:
            run.kill()
        if locker is not None:
            locker.kill()
            locker.wait()
    assert run.returncode == ExitCode.INTERRUPTED, stderr
    assert exit_took_s < EXIT_WITHIN_S, f"exited {exit_took_s:.1f} s after the second Ctrl-C"
    assert "Traceback" not in stderr
    found = re.search(r"kept in (\S+\.jsonl)", stderr)
    assert found is not None, stderr
    spill = Path(found.group(1))
    assert spill.is_relative_to(tmp_path / "data" / "loadgate" / "spill")

    with RunStore.open(db_url) as store:
        before = store.list_runs()[0]
    imported = loadgate("import", spill, "--db", db_url)
    assert imported.returncode == 0, imported.stderr
    with RunStore.open(db_url) as store:
        after = store.list_runs()[0]
        generator = store.generator_seconds(after.run.run_id)
        totals = store.stored_fold(after.run.run_id)
    assert after.run.run_id == before.run.run_id, "the seconds went to the same run"
    assert after.run.status is RunStatus.ABORTED
    assert after.run.status_reason.startswith("interrupted by SIGINT")
    assert after.requests > before.requests, "the spilled seconds were added"
    assert totals is not None, "the imported run's totals are stored"
    assert sum(t.requests for t in totals.totals()) == after.requests
    # The writes waited in SQLite's busy timeout on the writer thread, not on the hub.
    while_locked = [g.stall_ms for g in generator if g.second > locked_at_s]
    assert while_locked, generator
    assert max(while_locked) < HUB_STALL_LIMIT_MS, while_locked

    again = loadgate("import", spill, "--db", db_url)
    assert again.returncode == ExitCode.BAD_INPUT
    assert "already imported" in again.stderr


def test_a_second_ctrl_c_exits_at_once_while_the_main_thread_is_busy(
    shared_target: Target, db_url: str
) -> None:
    # After the first Ctrl-C the run is stored and the script's `quitting`
    # listener spins in Python, as a long report rendering would: the hub
    # never runs, so only a handler off the main thread can exit.
    run = subprocess.Popen(
        [str(loadgate_command()), "run", str(SCRIPTS / "busy_quitting.py"), "-H",
         shared_target.url, "-u", "2", "-r", "2", "--db", db_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        wait_for_stored_requests(db_url, run)
        run.send_signal(signal.SIGINT)
        _wait_for_status(db_url, RunStatus.ABORTED)
        time.sleep(1.0)  # the listener is spinning by now
        run.send_signal(signal.SIGINT)
        second_sent_s = time.monotonic()
        _stdout, stderr = run.communicate(timeout=30)
        exit_took_s = time.monotonic() - second_sent_s
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == ExitCode.INTERRUPTED, stderr
    assert exit_took_s < EXIT_WITHIN_S, f"exited {exit_took_s:.1f} s after the second Ctrl-C"
    assert "stopped at once; run 1 is in the store" in stderr
    with RunStore.open(db_url) as store:
        listing = store.list_runs()[0]
    assert listing.run.status is RunStatus.ABORTED
    assert listing.requests > 0


def _wait_for_status(db_url: str, status: RunStatus, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        with RunStore.open(db_url) as store:
            if store.list_runs()[0].run.status is status:
                return
        assert time.monotonic() < deadline, f"the run never became {status.value}"
        time.sleep(0.1)
