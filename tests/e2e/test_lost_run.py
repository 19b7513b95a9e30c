"""A run whose process is killed outright (SIGKILL) is shown as lost, not running forever."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from loadgate.model import RunStatus
from loadgate.store import RunStore
from loadgate.store.liveness import LOST_AFTER_ENV_VAR
from tests.e2e.conftest import REPO, SCRIPTS, RunLoadgate, Target, loadgate_command

pytestmark = pytest.mark.slow

# Short, so the test waits seconds, not the default half minute.
LOST_AFTER_S = 2.0
# Far longer than a `loadgate runs` takes to start, even on a busy machine: the
# run must read as running within it, whatever the scheduler does.
GENEROUS_WINDOW_S = 120.0
# How long a lost run may take to be listed as lost: the window plus a slow CLI.
LOST_DEADLINE_S = 30.0


def _stored(db_url: str) -> tuple[int, RunStatus | None]:
    """Requests stored so far and the newest run's status as stored (0, None before it exists)."""
    try:
        with RunStore.open(db_url, lost_after_s=3600) as store:
            listings = store.list_runs(limit=1)
    except Exception:  # the run's process may still be creating the store
        return 0, None
    if not listings:
        return 0, None
    return listings[0].requests, listings[0].run.status


def _listed_status(loadgate: RunLoadgate, db_url: str, env: dict[str, str]) -> str:
    """The Status cell of the one run in `loadgate runs`."""
    listed = loadgate("runs", "--db", db_url, env=env)
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if "plain.py" in line]
    assert len(rows) == 1, listed.stdout
    return rows[0].strip("│ ").rsplit("│", 1)[-1].strip()


def test_a_killed_run_is_listed_as_lost_after_the_heartbeat_window(
    loadgate: RunLoadgate, shared_target: Target, db_url: str
) -> None:
    process = subprocess.Popen(
        [str(loadgate_command()), "run", str(SCRIPTS / "plain.py"), "-H", shared_target.url,
         "-u", "2", "-r", "2", "--db", db_url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while _stored(db_url)[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        requests, status = _stored(db_url)
        assert requests > 0, "the run stored measurements before it was killed"
        assert status is RunStatus.RUNNING
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # Within the window it is still running: the heartbeat is recent. Checked
    # with a window no scheduler delay can outlast, in-process and through the CLI.
    with RunStore.open(db_url, lost_after_s=GENEROUS_WINDOW_S) as store:
        assert store.resolve("last").status is RunStatus.RUNNING
    generous = {LOST_AFTER_ENV_VAR: str(GENEROUS_WINDOW_S)}
    assert _listed_status(loadgate, db_url, generous) == "running"

    env = {LOST_AFTER_ENV_VAR: str(LOST_AFTER_S)}
    deadline = time.monotonic() + LOST_DEADLINE_S
    while _listed_status(loadgate, db_url, env) != "lost":
        assert time.monotonic() < deadline, f"not listed as lost within {LOST_DEADLINE_S} s"
        time.sleep(0.5)
    listed = loadgate("runs", "--db", db_url, env=env)
    assert "not heard from" in listed.stdout, "runs says what lost means"

    shown = loadgate("show", "last", "--json", "--db", db_url, env=env)
    assert shown.returncode == 0, shown.stderr
    summary = json.loads(shown.stdout)
    assert summary["status"] == "lost"
    assert summary["total"]["requests"] > 0, "what it measured before dying is kept"
    with RunStore.open(db_url, lost_after_s=LOST_AFTER_S) as store:
        run = store.resolve("last")
        assert store.stored_fold(run.run_id) is None, "show stores no totals for a lost run"
    assert run.status is RunStatus.LOST
    assert run.ended_at is None
