"""A live run's Server-Sent Events, from a real dashboard process watching a real `loadgate run`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from loadgate.model import RunStatus
from loadgate.store import RunStore
from loadgate.web.launcher import RUN_ID_FILE_ENV
from loadgate.web.live_feed import live_update
from tests.e2e.conftest import REPO, loadgate_command
from tests.web.conftest import SCRIPT, serve_dashboard

RUN_ID_WAIT_S = 60
READ_TIMEOUT_S = 30
CHANGES = 3


def _events(response: httpx.Response) -> Iterator[tuple[str, dict[str, object]]]:
    """(event name, its data) for each event of the stream."""
    name = ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield name, json.loads(line.removeprefix("data: "))


def _run_id(path: Path, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + RUN_ID_WAIT_S
    while not path.exists():
        assert process.poll() is None, "loadgate run ended before storing its run"
        assert time.monotonic() < deadline, "loadgate run stored no run in time"
        time.sleep(0.1)
    return int(path.read_text())


def test_the_live_view_follows_a_running_run_to_its_end(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'runs.db'}"
    run_id_path = tmp_path / "run-id"
    run = subprocess.Popen(
        [str(loadgate_command()), "run", SCRIPT, "-u", "2", "-r", "2", "-t", "60s", "-q",
         "--name", "live", "--db", db_url],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, RUN_ID_FILE_ENV: str(run_id_path)},
    )  # fmt: skip
    try:
        run_id = _run_id(run_id_path, run)
        for served in serve_dashboard(db_url):
            url = f"{served.url}/runs/{run_id}/events"
            with httpx.stream("GET", url, timeout=READ_TIMEOUT_S) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                counts: list[object] = []
                for name, update in _events(response):
                    if name == "ended":
                        break
                    assert name == "update" and update["status"] == "running"
                    assert "latency" in str(update["figures"])
                    assert 'id="endpoint-table"' in str(update["endpoints_html"])
                    counts.append(update["requests"])
                    if len(set(counts)) == CHANGES + 1 and run.poll() is None:
                        run.send_signal(signal.SIGINT)  # stopped as Ctrl-C stops it
                else:
                    raise AssertionError("the stream ended without an 'ended' event")
            assert counts == sorted(counts), counts
            assert len(set(counts)) > CHANGES
            assert run.wait(timeout=READ_TIMEOUT_S) is not None
            with RunStore.open(db_url) as store:
                assert store.get_run(run_id).status is RunStatus.ABORTED
                # The last event is the stored run as a whole read shows it.
                assert update == json.loads(json.dumps(live_update(store, run_id)))
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
