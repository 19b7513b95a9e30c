"""The generator's own work never stalls the gevent hub: 20 busy endpoints, measured per second.

The harness (stall_harness.py) measures the hub with libev watchers of its
own, independent of the engine under test; before the writer thread, encoding
20 endpoints' histograms on the hub stalled it 14 ms or more every second.

Two users keep the twenty endpoints busy. The stretch between two polls also
holds the users' own work for every response that arrived meanwhile: with
ten users it was 2-9 ms a second on a loaded machine, whatever the engine
did, so a 5 ms limit judged the machine. With two it is 1-3 ms, and a
second of the engine's own work on the hub stands out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loadgate.store import RunStore
from tests.e2e.conftest import HERE, REPO, SCRIPTS, RunLoadgate, Target, read_json

pytestmark = pytest.mark.slow

USERS = 2
RUN_TIME_S = 10
STALL_LIMIT_MS = 5.0
BUSY_TASK_MS = 30.0  # scripts/busy_task.py's busy loop
# Seconds left out of the steady state: loading and spawning, then stopping.
SKIP_FIRST, SKIP_LAST = 3, 2


def _run_harness(target: Target, db_url: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, str(HERE / "stall_harness.py"), str(SCRIPTS / "twenty_endpoints.py"),
         target.url, db_url, str(USERS), str(RUN_TIME_S)],
        capture_output=True, text=True, timeout=RUN_TIME_S + 60, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def test_twenty_busy_endpoints_leave_the_hub_under_5_ms_a_second(
    shared_target: Target, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'runs.db'}"
    measured = _run_harness(shared_target, db_url)
    stalls_ms = measured["stalls_ms"]
    assert isinstance(stalls_ms, list)
    steady = stalls_ms[SKIP_FIRST:-SKIP_LAST]
    assert len(steady) >= RUN_TIME_S - SKIP_FIRST - SKIP_LAST - 1, stalls_ms
    # One second may be lost to the machine (another program, a GC pass of the
    # script's objects); every other one must stay under the limit.
    second_worst_ms = sorted(steady)[-2]
    assert second_worst_ms < STALL_LIMIT_MS, f"hub stalls per second (ms): {stalls_ms}"

    with RunStore.open(db_url) as store:
        run_id = int(str(measured["run_id"]))
        stored = store.generator_seconds(run_id)
        summary = store.summary(run_id)
    assert summary.total.requests > 1000, "the endpoints were busy"
    assert len({s.second for s in stored}) >= RUN_TIME_S - 1, "one stall sample a second"
    stored_steady = sorted(s.stall_ms for s in stored[SKIP_FIRST:-SKIP_LAST])
    assert stored_steady[len(stored_steady) // 2] < STALL_LIMIT_MS, stored


def test_the_json_summary_carries_the_generator_stalls(
    loadgate: RunLoadgate, shared_target: Target, db_url: str, tmp_path: Path
) -> None:
    json_file = tmp_path / "summary.json"
    result = loadgate(
        "run", SCRIPTS / "plain.py", "-H", shared_target.url, "-t", "3s", "-q",
        "--db", db_url, "--json", json_file,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    generator = read_json(json_file)["generator"]
    assert 0 < generator["stall_ms_max"] < 1000
    assert generator["stall_notice_ms"] <= 5.0
    with RunStore.open(db_url) as store:
        stored = store.generator_seconds(store.resolve("last").run_id)
    assert len(stored) >= 3
    assert max(s.stall_ms for s in stored) == pytest.approx(generator["stall_ms_max"], abs=0.001)
    # `show --json` later gives the same document, generator included.
    shown = loadgate("show", "last", "--json", "--db", db_url)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["generator"] == generator


def test_a_script_that_blocks_the_hub_is_shown_a_stall(
    loadgate: RunLoadgate, shared_target: Target, db_url: str
) -> None:
    # The script's task spins 30 ms after each request: the hub cannot poll meanwhile.
    result = loadgate(
        "run", SCRIPTS / "busy_task.py", "-H", shared_target.url, "-t", "2s", "--db", db_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with RunStore.open(db_url) as store:
        stored = store.generator_seconds(store.resolve("last").run_id)
    assert stored, "one stall sample a second"
    assert max(s.stall_ms for s in stored) >= BUSY_TASK_MS, stored
    assert "generator stalls: the load generator itself paused up to" in result.stdout
