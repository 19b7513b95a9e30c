"""How runs end and where they go: Ctrl-C, a dead target, PostgreSQL."""

from __future__ import annotations

import signal
import subprocess
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
    read_json,
    wait_for_stored_requests,
)
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.slow


def test_ctrl_c_stores_an_aborted_run_that_can_be_shown(
    loadgate: RunLoadgate, shared_target: Target, db_url: str
) -> None:
    process = subprocess.Popen(
        [str(loadgate_command()), "run", str(SCRIPTS / "plain.py"), "-H", shared_target.url,
         "-u", "3", "-r", "3", "--db", db_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        wait_for_stored_requests(db_url, process)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == ExitCode.INTERRUPTED, stderr
    assert "Traceback" not in stderr
    assert "aborted" in stdout, "the summary is printed"

    with RunStore.open(db_url) as store:
        run = store.resolve("last")
        summary = store.summary(run.run_id)
    assert run.status is RunStatus.ABORTED
    assert run.status_reason == "interrupted by SIGINT"
    assert run.ended_at is not None
    assert summary.total.requests > 0

    shown = loadgate("show", str(run.run_id), "--db", db_url)
    assert shown.returncode == 0, shown.stderr
    assert "aborted" in shown.stdout


def test_a_target_that_refuses_connections_is_a_completed_run_with_errors(
    loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    json_file = tmp_path / "summary.json"
    host = f"http://127.0.0.1:{free_port()}"
    result = loadgate(
        "run", SCRIPTS / "plain.py", "-H", host, "-u", "2", "-r", "2", "-t", "2s",
        "--db", db_url, "--json", json_file,
    )  # fmt: skip
    # Every request failed: as under Locust, the exit code is --exit-code-on-error's (1).
    assert result.returncode == ExitCode.REQUESTS_FAILED, result.stderr
    summary = read_json(json_file)
    total = summary["total"]
    assert summary["status"] == "completed"
    assert total["requests"] > 0
    assert total["failures"] == total["requests"]
    assert total["status_counts"] == {"0": total["requests"]}
    assert total["unexpected_status_counts"] == {"0": total["requests"]}
    assert any("Connection refused" in error["message"] for error in summary["errors"])


def test_a_run_stored_in_postgresql(
    loadgate: RunLoadgate, shared_target: Target, postgres_fresh_url: str
) -> None:
    result = loadgate(
        "run", SCRIPTS / "plain.py", "-H", shared_target.url, "-t", "2s", "--name", "pg",
        "--db", postgres_fresh_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with RunStore.open(postgres_fresh_url) as store:
        run = store.resolve("pg")
        summary = store.summary(run.run_id)
    assert run.status is RunStatus.COMPLETED
    assert run.settings["run_time"] == "2s"
    assert "class Pinger(FastHttpUser)" in run.script_text
    assert summary.total.requests > 0
    assert summary.total.failures == 0
