"""`run --master` and separate `loadgate worker` processes: regions, the script sent, a loss."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadgate.errors import ExitCode
from loadgate.store import RunStore
from tests.e2e.conftest import HERE, REPO, SCRIPTS, loadgate_command, read_json
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.slow

RUN_TIMEOUT_S = 90


class Processes:
    """loadgate subprocesses of one test, killed at its end whatever happened."""

    def __init__(self, tmp_path: Path) -> None:
        self._tmp_path = tmp_path
        self.started: list[subprocess.Popen[str]] = []

    def start(self, name: str, *args: str | Path) -> subprocess.Popen[str]:
        log = (self._tmp_path / f"{name}.log").open("w")
        process = subprocess.Popen(
            [str(loadgate_command()), *map(str, args)],
            stdout=log, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        )  # fmt: skip
        self.started.append(process)
        return process

    def log(self, name: str) -> str:
        return (self._tmp_path / f"{name}.log").read_text()

    def kill_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    yield started
    started.kill_all()


def master_args(port: int, db_url: str, json_file: Path, run_time: str) -> list[str | Path]:
    return [
        "run", SCRIPTS / "plain.py", "--master", "--expect-workers", "2",
        "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
        "--expect-workers-max-wait", "60", "-u", "4", "-r", "4", "-t", run_time,
        "--db", db_url, "--json", json_file, "-q",
        "--exit-code-on-error", "0",  # plain.py's /zero is a 404 on the gateway
    ]  # fmt: skip


def worker_args(port: int, region: str, *script: Path) -> list[str | Path]:
    return ["worker", "--master-host", "127.0.0.1", "--master-port", str(port),
            "--region", region, *script]  # fmt: skip


def test_two_workers_in_two_regions_one_with_the_masters_script(
    processes: Processes, db_url: str, tmp_path: Path
) -> None:
    port, json_file = free_port(), tmp_path / "s.json"
    master = processes.start("master", *master_args(port, db_url, json_file, "5s"))
    # One worker has the script, the other gets it from the master.
    eu = processes.start("eu", *worker_args(port, "eu-west", SCRIPTS / "plain.py"))
    us = processes.start("us", *worker_args(port, "us-east"))
    assert master.wait(RUN_TIMEOUT_S) == 0, processes.log("master")
    assert eu.wait(30) == 0, processes.log("eu")
    assert us.wait(30) == 0, processes.log("us")

    summary = read_json(json_file)
    assert summary["status"] == "completed"
    workers = {w["region"]: w for w in summary["workers"]}
    assert set(workers) == {"eu-west", "us-east"}
    assert all(w["requests"] > 20 for w in workers.values())
    assert summary["total"]["requests"] == sum(w["requests"] for w in workers.values())
    with RunStore.open(db_url) as store:
        seconds = list(store.iter_endpoint_seconds(summary["run_id"], by_region=True))
    # Each second's data keeps the region it was measured in.
    assert {s.region for s in seconds} == {"eu-west", "us-east"}
    for region, worker in workers.items():
        assert sum(s.requests for s in seconds if s.region == region) == worker["requests"]
    assert summary["events"] == []
    # Same machine, same clock: the estimate is within the reports' transit time.
    assert all(abs(w["clock_offset_ms"]) < 250 for w in workers.values())
    # Per region: the summary and the JSON show every endpoint in each.
    regions = summary["regions"]
    assert set(regions) == {"eu-west", "us-east"}
    for region, worker in workers.items():
        assert regions[region]["total"]["requests"] == worker["requests"]
        assert [e["name"] for e in regions[region]["endpoints"]] == ["ping"]
    master_log = processes.log("master")
    assert "in region eu-west" in master_log and "in region us-east" in master_log


def wait_for_users(db_url: str, users: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with RunStore.open(db_url) as store:
            runs = store.list_runs(limit=1)
            if runs and any(s.users >= users for s in store.user_samples(runs[0].run.run_id)):
                return
        time.sleep(0.2)
    raise TimeoutError(f"the run never had {users} users")


def test_a_worker_killed_mid_run_is_an_event_and_the_run_completes(
    processes: Processes, db_url: str, tmp_path: Path
) -> None:
    port, json_file = free_port(), tmp_path / "s.json"
    report_file = tmp_path / "r.html"
    master = processes.start(
        "master", *master_args(port, db_url, json_file, "14s"), "--report", report_file
    )
    processes.start("stays", *worker_args(port, "stays", SCRIPTS / "plain.py"))
    doomed = processes.start("doomed", *worker_args(port, "doomed", SCRIPTS / "plain.py"))
    wait_for_users(db_url, 4)
    killed_at_s = time.time()
    os.kill(doomed.pid, signal.SIGKILL)
    assert master.wait(RUN_TIMEOUT_S) == 0, processes.log("master")

    summary = read_json(json_file)
    assert summary["status"] == "completed"
    (event,) = summary["events"]
    assert event["kind"] == "worker_lost"
    assert event["region"] == "doomed"
    assert event["users"] == 2
    # Locust calls a worker missing after about 3 heartbeats (1 s each) without one.
    assert killed_at_s - 1 <= event["second"] <= killed_at_s + 10
    lost_id = event["subject"]
    by_id = {w["worker_id"]: w for w in summary["workers"]}
    assert by_id[lost_id]["region"] == "doomed"
    assert "worker lost" in processes.log("master")
    html = report_file.read_text()
    assert "Workers and events" in html and f"worker lost: {lost_id}" in html
    # The other worker went on to the end.
    stays = next(w for w in summary["workers"] if w["region"] == "stays")
    assert stays["requests"] > by_id[lost_id]["requests"]


def test_a_master_whose_workers_do_not_come_says_so_in_one_line_and_exits_6(
    processes: Processes, db_url: str, tmp_path: Path
) -> None:
    args = master_args(free_port(), db_url, tmp_path / "s.json", "5s")
    args[args.index("60")] = "1"
    master = processes.start("master", *args)
    assert master.wait(RUN_TIMEOUT_S) == 6
    lines = [line for line in processes.log("master").splitlines() if line.strip()]
    assert lines[-1].startswith("loadgate: "), lines
    assert "only 0 of 2 workers connected" in lines[-1]
    assert "Traceback" not in processes.log("master")
    with RunStore.open(db_url) as store:
        (listing,) = store.list_runs()
    assert listing.run.status.value == "failed"


def first_stored_second(db_url: str, region: str) -> int:
    """The first second the newest run stored for `region` (fails if it has none)."""
    with RunStore.open(db_url) as store:
        (listing,) = store.list_runs(limit=1)
        seconds = store.iter_endpoint_seconds(listing.run.run_id, by_region=True)
        return min(s.second for s in seconds if s.region == region and s.requests > 0)


def test_a_worker_that_joins_late_gets_users(
    processes: Processes, db_url: str, tmp_path: Path
) -> None:
    port, json_file = free_port(), tmp_path / "s.json"
    args = master_args(port, db_url, json_file, "18s")
    args[args.index("--expect-workers") + 1] = "1"
    master = processes.start("master", *args)
    processes.start("early", *worker_args(port, "early", SCRIPTS / "plain.py"))
    # The run has started on the one worker it waited for, with all its users.
    wait_for_users(db_url, 4)
    joined_after_s = time.time()
    late = processes.start("late", *worker_args(port, "late", SCRIPTS / "plain.py"))
    assert master.wait(RUN_TIMEOUT_S) == 0, processes.log("master")
    assert late.wait(30) == 0, processes.log("late")

    summary = read_json(json_file)
    assert summary["status"] == "completed"
    workers = {w["region"]: w for w in summary["workers"]}
    assert set(workers) == {"early", "late"}
    # The master moved users to the newcomer: each ends up with half of the 4.
    assert workers["late"]["users_max"] == 2, workers
    assert workers["late"]["requests"] > 0
    late_from_s = first_stored_second(db_url, "late")
    assert late_from_s >= int(joined_after_s)
    assert first_stored_second(db_url, "early") < late_from_s
    assert summary["total"]["requests"] == sum(w["requests"] for w in workers.values())
    assert summary["events"] == []


def test_a_worker_that_joins_late_runs_its_masters_client_too(
    processes: Processes, db_url: str, tmp_path: Path
) -> None:
    """The client comes with the spawn message a running master sends a newcomer, at once."""
    port, json_file = free_port(), tmp_path / "s.json"
    which = SCRIPTS / "clients" / "which_client.py"
    args = master_args(port, db_url, json_file, "18s")
    args[args.index(SCRIPTS / "plain.py")] = which
    args[args.index("--expect-workers") + 1] = "1"
    master = processes.start("master", *args, "--client", "requests")
    processes.start("early", *worker_args(port, "early", which))
    wait_for_users(db_url, 4)
    late = processes.start("late", *worker_args(port, "late", which))
    assert master.wait(RUN_TIMEOUT_S) == 0, processes.log("master")
    assert late.wait(30) == 0, processes.log("late")

    summary = read_json(json_file)
    assert {w["region"]: w["requests"] > 0 for w in summary["workers"]} == {
        "early": True,
        "late": True,
    }
    assert {e["name"] for e in summary["endpoints"]} == {"client HttpSession"}


def test_a_worker_stopped_by_sigterm_leaves_cleanly_and_the_others_take_its_users(
    processes: Processes, db_url: str, tmp_path: Path
) -> None:
    """What `docker stop` or a pod scaled away does: the run loses no data and no users."""
    port, json_file = free_port(), tmp_path / "s.json"
    master = processes.start("master", *master_args(port, db_url, json_file, "16s"))
    processes.start("stays", *worker_args(port, "stays", SCRIPTS / "plain.py"))
    leaving = processes.start("leaves", *worker_args(port, "leaves", SCRIPTS / "plain.py"))
    wait_for_users(db_url, 4)
    leaving.send_signal(signal.SIGTERM)
    assert leaving.wait(30) == ExitCode.INTERRUPTED, processes.log("leaves")
    assert "its last report was sent to the master" in processes.log("leaves")
    assert master.wait(RUN_TIMEOUT_S) == 0, processes.log("master")

    summary = read_json(json_file)
    assert summary["status"] == "completed"
    (event,) = summary["events"]  # it said it left: not lost
    workers = {w["region"]: w for w in summary["workers"]}
    assert event["kind"] == "worker_left"
    assert event["subject"] == workers["leaves"]["worker_id"]
    assert (event["region"], event["users"]) == ("leaves", 2)
    assert "worker left" in processes.log("master")
    assert workers["leaves"]["requests"] > 0
    # The master gave the leaver's 2 users to the worker that stayed.
    assert workers["stays"]["users_max"] == 4, workers
    assert summary["total"]["requests"] == sum(w["requests"] for w in workers.values())


def test_ctrl_c_stops_a_worker_still_waiting_for_its_master(
    processes: Processes, tmp_path: Path
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent_master:
        silent_master.settimeout(60)
        port = silent_master.getsockname()[1]
        waiting = processes.start("w", *worker_args(port, "r", SCRIPTS / "plain.py"))
        # Connected, and so waiting for an answer that never comes.
        connection, _ = silent_master.accept()
        with connection:
            waiting.send_signal(signal.SIGINT)
            assert waiting.wait(30) == ExitCode.INTERRUPTED, processes.log("w")
    assert processes.log("w").strip() == "loadgate: worker interrupted"


def test_a_worker_whose_master_never_answers_says_so_in_one_line(tmp_path: Path) -> None:
    port = free_port()
    args = worker_args(port, "r", SCRIPTS / "plain.py")[1:]  # without "worker"
    result = subprocess.run(
        [sys.executable, str(HERE / "impatient_worker.py"), *map(str, args)],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == ExitCode.RUN_FAILED, result.stderr
    assert result.stderr.strip() == (
        f"loadgate: error: no master answered at 127.0.0.1:{port} within 3s; "
        "start `loadgate run ... --master` there first"
    )
