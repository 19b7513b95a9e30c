"""The engine's abort hook (what --abort-on-fail plugs into) stops a run, stored as aborted."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from loadgate.model import RunStatus
from loadgate.store import RunStore
from tests.e2e.conftest import HERE, REPO, SCRIPTS, Target

pytestmark = pytest.mark.slow


def test_an_abort_check_stops_the_run_with_its_reason(shared_target: Target, db_url: str) -> None:
    result = subprocess.run(
        [sys.executable, str(HERE / "abort_harness.py"), str(SCRIPTS / "plain.py"),
         shared_target.url, db_url],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["status"] == "aborted"
    assert outcome["reason"] == "20 requests in 2 s"
    assert outcome["interrupted"] is False
    assert outcome["calls"][-1][1] >= 20
    with RunStore.open(db_url) as store:
        run = store.resolve("abort")
    assert run.status is RunStatus.ABORTED
    assert run.status_reason == "20 requests in 2 s"
    assert run.duration_s < 10, "stopped long before its 30 s"
