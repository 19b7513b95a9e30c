"""End-to-end helpers: the installed `loadgate` command, a local target, and reading the store."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.ports import free_port, wait_for_port

HERE = Path(__file__).parent
SCRIPTS = HERE / "scripts"
REPO = HERE.parents[1]
RUN_TIMEOUT_S = 90


def loadgate_command() -> Path:
    """The console script installed next to this Python (the venv's `loadgate`)."""
    path = Path(sys.executable).parent / "loadgate"
    assert path.exists(), f"no installed loadgate command at {path}: pip install -e ."
    return path


@dataclass(frozen=True)
class Target:
    """A delay_server.py subprocess."""

    url: str
    process: subprocess.Popen[bytes]
    truth_dir: Path

    def truth_us(self) -> dict[str, list[int]]:
        """Service times the server measured, by path (µs)."""
        truth: dict[str, list[int]] = {}
        for file in self.truth_dir.glob("*.txt"):
            for line in file.read_text().splitlines():
                path, _, service_us = line.partition(" ")
                truth.setdefault(path, []).append(int(service_us))
        return truth


def start_target() -> Target:
    port = free_port()
    truth_dir = Path(tempfile.mkdtemp(prefix="loadgate-target-"))
    process = subprocess.Popen(
        [sys.executable, str(HERE / "delay_server.py"), str(port), str(truth_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return Target(url=f"http://127.0.0.1:{port}", process=process, truth_dir=truth_dir)


def stop_target(target: Target) -> None:
    target.process.send_signal(signal.SIGTERM)
    try:
        target.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        target.process.kill()
        target.process.wait()
    shutil.rmtree(target.truth_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def shared_target() -> Iterator[Target]:
    """One target for the tests that do not read its timings."""
    target = start_target()
    yield target
    stop_target(target)


@pytest.fixture
def own_target() -> Iterator[Target]:
    """A target of this test's own, whose timings are this test's only."""
    target = start_target()
    yield target
    stop_target(target)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'runs.db'}"


def run_loadgate(
    *args: str | Path, env: Mapping[str, str] | None = None, timeout_s: float = RUN_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """`loadgate ARGS...` to its end; stdout and stderr captured (not a terminal)."""
    return subprocess.run(
        [str(loadgate_command()), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, **(env or {})},
        cwd=REPO,
    )


RunLoadgate = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def loadgate() -> RunLoadgate:
    return run_loadgate


def read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def endpoints_by_name(summary: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in summary["endpoints"]}


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The process failed with `code` and said why in exactly one line, no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == code, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("loadgate: error: "), lines
    assert "Traceback" not in result.stderr
    return lines[0]


def locust_counts(path: Path) -> dict[str, dict[str, int]]:
    """What tests/e2e/scripts/locust_counts.py wrote: Locust's own counts per endpoint."""
    data: dict[str, dict[str, int]] = json.loads(path.read_text())
    return data


def our_counts(summary: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    return {
        f"{e['method']} {e['name']}": {"requests": e["requests"], "failures": e["failures"]}
        for e in summary["endpoints"]
    }


def names(summary: Mapping[str, Any]) -> Sequence[str]:
    return sorted(e["name"] for e in summary["endpoints"])


def stored_requests(db_url: str) -> int:
    """Requests stored so far in every run of the store at `db_url` (0 while it is being made)."""
    from loadgate.store import RunStore

    try:
        with RunStore.open(db_url) as store:
            return sum(listing.requests for listing in store.list_runs())
    except Exception:  # the run's process may still be creating the store
        return 0


def wait_for_stored_requests(
    db_url: str, process: subprocess.Popen[str] | None = None, timeout_s: float = 30.0
) -> None:
    """Until a running `loadgate run` has stored requests; fails if it does not in time or dies."""
    deadline = time.monotonic() + timeout_s
    while stored_requests(db_url) == 0:
        assert time.monotonic() < deadline, "the run stored nothing"
        assert process is None or process.poll() is None, "the run ended before storing"
        time.sleep(0.2)
