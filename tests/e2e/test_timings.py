"""`--timings`: the phases travel from the clients to the stored run, its JSON and its table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    REPO,
    SCRIPTS,
    RunLoadgate,
    assert_one_line_error,
    endpoints_by_name,
    read_json,
)
from tests.e2e.test_distributed_remote import (
    RUN_TIMEOUT_S,
    Processes,
    master_args,
    worker_args,
)
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.slow


def test_two_processes_carry_the_phases_to_the_masters_stored_run(
    loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    raw_dir, json_file = tmp_path / "raw", tmp_path / "s.json"
    raw_dir.mkdir()
    result = loadgate(
        "run", SCRIPTS / "raw_per_worker.py", "--processes", "2", "-u", "6", "-r", "6",
        "-t", "4s", "--timings", "--db", db_url, "--json", json_file,
        env={"RAW_TIMES_DIR": str(raw_dir)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Timing phases" in result.stdout
    summary = read_json(json_file)
    assert summary["settings"]["timings"] is True
    assert len({file.stem for file in raw_dir.glob("*.txt")}) == 2, "both workers sent requests"
    endpoints = endpoints_by_name(summary)
    connects = 0
    for name, endpoint in endpoints.items():
        phases = endpoint["phases"]
        # Every answered request of both workers has its first byte and download stored.
        assert phases["ttfb"]["requests"] == endpoint["requests"], name
        assert phases["download"]["requests"] == endpoint["requests"], name
        assert phases["tls"]["requests"] == 0, "the built-in gateway speaks plain HTTP"
        assert phases["ttfb"]["p50_ms"] <= endpoint["p50_ms"], name
        connects += phases["connect"]["requests"]
    # The built-in gateway keeps connections alive: a few per user, not one per request.
    total = summary["total"]["requests"]
    assert 2 <= connects <= total // 10, (connects, total)

    # `show --json` reads the same phases from the store.
    shown = loadgate("show", str(summary["run_id"]), "--json", "--db", db_url)
    assert shown.returncode == 0, shown.stderr
    again = endpoints_by_name(json.loads(shown.stdout))
    assert {n: e["phases"] for n, e in again.items()} == {
        n: e["phases"] for n, e in endpoints.items()
    }
    table = loadgate("show", str(summary["run_id"]), "--db", db_url)
    assert table.returncode == 0 and "Timing phases" in table.stdout, table.stderr


def test_an_httpuser_script_with_the_fast_client_has_phases_without_timings_none(
    loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    summaries = {}
    for flags in (("--timings",), ()):
        json_file = tmp_path / f"s{len(flags)}.json"
        result = loadgate(
            "run", SCRIPTS / "clients" / "seed_quick.py", "-u", "3", "-r", "3", "-t", "3s",
            "--client", "fast", "-q", "--db", db_url, "--json", json_file, *flags,
            env={"SEED_SCRIPT": "browse.py"},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        summaries[bool(flags)] = read_json(json_file)
    timed = summaries[True]["endpoints"]
    assert timed and all(e["phases"]["ttfb"]["requests"] == e["requests"] for e in timed)
    assert all(e["phases"] is None for e in summaries[False]["endpoints"])


def test_timings_with_an_httpuser_on_python_requests_is_one_line_and_exit_2(
    loadgate: RunLoadgate, db_url: str
) -> None:
    result = loadgate(
        "run", REPO / "examples" / "seed" / "browse.py", "-t", "1s", "--timings", "--db", db_url
    )
    line = assert_one_line_error(result, 2)
    assert "--timings" in line and "--client fast" in line, line


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    yield running
    running.kill_all()


def test_remote_workers_time_their_requests_when_given_the_flag(
    started: Processes, db_url: str, tmp_path: Path
) -> None:
    port, json_file = free_port(), tmp_path / "s.json"
    master = started.start("master", *master_args(port, db_url, json_file, "4s"), "--timings")
    timed = started.start("timed", *worker_args(port, "timed", SCRIPTS / "plain.py"), "--timings")
    untimed = started.start("untimed", *worker_args(port, "untimed", SCRIPTS / "plain.py"))
    assert master.wait(RUN_TIMEOUT_S) == 0, started.log("master")
    assert timed.wait(30) == 0, started.log("timed")
    assert untimed.wait(30) == 0, started.log("untimed")

    summary = read_json(json_file)
    workers = {w["region"]: w["requests"] for w in summary["workers"]}
    assert workers["timed"] > 10 and workers["untimed"] > 10
    (endpoint,) = summary["endpoints"]
    # Only the worker with --timings measured phases: every one of its requests has them.
    assert endpoint["phases"]["ttfb"]["requests"] == workers["timed"]
