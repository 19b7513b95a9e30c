"""`--client fast` (the default) against `--client requests`: the same scripts, the same results.

Each script runs once with each client (the built-in gateway, or the echo
server for cookies, redirects and uploads); the stored summaries must name
the same endpoints (method and name), with the same statuses and the same
failure messages. Counts differ from run to run, so they are not compared;
every script's endpoints are reached within the run (short waits).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO, SCRIPTS, RunLoadgate, loadgate_command, read_json
from tests.e2e.dropping_server import dropping_server
from tests.engine.fastclient.conftest import serve_echo
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.slow

CLIENTS = SCRIPTS / "clients"
RUN_S = "4s"


def outcome(summary: dict[str, Any]) -> dict[str, Any]:
    """What must not depend on the client: endpoints, their statuses, failure messages."""
    return {
        "endpoints": {
            (e["method"], e["name"]): sorted(e["status_counts"]) for e in summary["endpoints"]
        },
        "failing": sorted((e["method"], e["name"]) for e in summary["endpoints"] if e["failures"]),
        "errors": sorted({(e["method"], e["name"], e["message"]) for e in summary["errors"]}),
    }


def run_with(
    loadgate: RunLoadgate, tmp_path: Path, script: Path, client: str, *args: str | Path,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    json_file = tmp_path / f"{client}.json"
    result = loadgate(
        "run", script, "-u", "5", "-r", "5", "-t", RUN_S, "--client", client, "-q",
        "--db", f"sqlite:///{tmp_path / 'runs.db'}", "--json", json_file, *args, env=env,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr  # 1: some requests failed, on purpose
    assert "Traceback" not in result.stderr, result.stderr
    summary = read_json(json_file)
    assert summary["settings"]["client"] == client
    return summary


def assert_same(loadgate: RunLoadgate, tmp_path: Path, script: Path, *args: str, **kw: Any) -> Any:
    with_requests = outcome(run_with(loadgate, tmp_path, script, "requests", *args, **kw))
    with_fast = outcome(run_with(loadgate, tmp_path, script, "fast", *args, **kw))
    assert with_fast == with_requests, f"requests: {with_requests}\nfast: {with_fast}"
    return with_fast


@pytest.fixture(scope="module")
def echo_host() -> Iterator[str]:
    for address in serve_echo():
        yield f"http://{address}"


@pytest.mark.parametrize("seed", ["browse.py", "authenticated.py", "checkout.py", "rate_limit.py"])
def test_the_seed_scripts_give_the_same_results(
    loadgate: RunLoadgate, tmp_path: Path, seed: str
) -> None:
    result = assert_same(loadgate, tmp_path, CLIENTS / "seed_quick.py", env={"SEED_SCRIPT": seed})
    seed_text = (REPO / "examples" / "seed" / seed).read_text()
    # Every named endpoint of the seed script was reached, so nothing was compared by default.
    named = {name for _, name in result["endpoints"]}
    assert all(f'name="{name}"' in seed_text for name in named)
    assert len(named) == seed_text.count('name="')


def test_nested_tasksets_give_the_same_results(loadgate: RunLoadgate, tmp_path: Path) -> None:
    result = assert_same(loadgate, tmp_path, CLIENTS / "nested_tasksets.py")
    assert set(result["endpoints"]) == {
        ("GET", "/v1/products/[id]"), ("GET", "/v1/pricing/[id]"),
        ("GET", "/v1/products (section start)"), ("GET", "/v1/search?q=lamp&limit=3"),
        ("GET", "/v1/inventory/[id]"), ("POST", "/v1/cart/items"), ("GET", "/v1/nothing-here"),
    }  # fmt: skip
    assert result["failing"] == [("GET", "/v1/nothing-here")]


def test_response_checks_give_the_same_results(loadgate: RunLoadgate, tmp_path: Path) -> None:
    result = assert_same(loadgate, tmp_path, CLIENTS / "response_checks.py")
    messages = {message for _, _, message in result["errors"]}
    assert any(message.startswith("RuntimeError('status ") for message in messages), messages
    assert ("GET", "after HTTPError") in result["endpoints"]
    assert ("GET", "/v1/missing") not in result["failing"]


def test_cookies_redirects_and_uploads_give_the_same_results(
    loadgate: RunLoadgate, tmp_path: Path, echo_host: str
) -> None:
    result = assert_same(loadgate, tmp_path, CLIENTS / "web_flow.py", "-H", echo_host)
    assert result["failing"] == [("GET", "broken"), ("GET", "timeout")]
    assert result["endpoints"][("GET", "no-follow")] == ["302"]


@pytest.mark.parametrize("processes", [None, "1"])
def test_the_fast_client_is_the_one_that_runs(
    loadgate: RunLoadgate, tmp_path: Path, processes: str | None
) -> None:
    more = ("--processes", processes) if processes else ()
    for client, expected in (("fast", "client FastSession"), ("requests", "client HttpSession")):
        summary = run_with(loadgate, tmp_path, CLIENTS / "which_client.py", client, *more)
        assert {e["name"] for e in summary["endpoints"]} == {expected}


def test_a_pool_manager_is_refused_before_the_run_with_the_way_back(
    loadgate: RunLoadgate, tmp_path: Path
) -> None:
    result = loadgate(
        "run", CLIENTS / "pool_manager.py", "-t", "2s", "--client", "fast",
        "--db", f"sqlite:///{tmp_path / 'runs.db'}",
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "loadgate: error: Pooled.pool_manager is set: a urllib3 PoolManager is not supported by "
        "--client fast; run with --client requests to use python-requests"
    ]


def test_a_refused_use_fails_the_run_and_names_the_way_back(
    loadgate: RunLoadgate, tmp_path: Path
) -> None:
    result = loadgate(
        "run", CLIENTS / "streamed.py", "-t", "2s", "-q", "--client", "fast",
        "--db", f"sqlite:///{tmp_path / 'runs.db'}",
    )  # fmt: skip
    assert result.returncode == 1
    assert "stream=True is not supported by --client fast: run with --client requests" in " ".join(
        result.stderr.split()
    )


@pytest.mark.parametrize(
    ("how", "client", "session"),
    [("default", "fast", "FastSession"), ("env", "requests", "HttpSession"),
     ("plan", "requests", "HttpSession")],
)  # fmt: skip
def test_fast_is_the_default_and_requests_the_way_back(
    loadgate: RunLoadgate, tmp_path: Path, how: str, client: str, session: str
) -> None:
    plan = tmp_path / "loadgate.toml"
    plan.write_text('[run]\nclient = "requests"\n')
    json_file = tmp_path / "s.json"
    result = loadgate(
        "run", CLIENTS / "which_client.py", "-u", "1", "-t", "2s", "-q",
        "--db", f"sqlite:///{tmp_path / 'runs.db'}", "--json", json_file,
        *(("--plan", plan) if how == "plan" else ()),
        env={"LOADGATE_CLIENT": "requests"} if how == "env" else None,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = read_json(json_file)
    assert summary["settings"]["client"] == client
    assert {e["name"] for e in summary["endpoints"]} == {f"client {session}"}


def test_a_dropped_request_is_a_failure_not_sent_again(
    loadgate: RunLoadgate, tmp_path: Path
) -> None:
    """geventhttpclient would send a GET again on a new connection: the drop would not count."""
    for client in ("requests", "fast"):
        with dropping_server() as server:
            summary = run_with(
                loadgate, tmp_path, CLIENTS / "ten_gets.py", client,
                "-u", "1", "-H", f"http://127.0.0.1:{server.port}",
            )  # fmt: skip
            received = server.requests
        (endpoint,) = summary["endpoints"]
        assert (client, endpoint["requests"], endpoint["failures"], received) == (
            client, 10, 5, 10,
        )  # fmt: skip
        assert [e["message"] for e in summary["errors"]] == [
            "RemoteDisconnected('Remote end closed connection without response')"
        ]


def start_master(tmp_path: Path, port: int, json_file: Path, client: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(loadgate_command()), "run", str(CLIENTS / "which_client.py"), "--master",
         "--expect-workers", "1", "--master-bind-host", "127.0.0.1",
         "--master-bind-port", str(port), "--expect-workers-max-wait", "60",
         "-u", "2", "-r", "2", "-t", "3s", "-q", "--json", str(json_file),
         "--client", client, "--db", f"sqlite:///{tmp_path / 'runs.db'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("master_client", "worker_flags", "session"),
    [
        ("fast", (), "FastSession"),
        ("requests", (), "HttpSession"),
        ("requests", ("--client", "fast"), "HttpSession"),
    ],
)
def test_a_remote_worker_runs_its_masters_client(
    loadgate: RunLoadgate,
    tmp_path: Path,
    master_client: str,
    worker_flags: tuple[str, ...],
    session: str,
) -> None:
    port, json_file = free_port(), tmp_path / "s.json"
    master = start_master(tmp_path, port, json_file, master_client)
    try:
        worker = loadgate(
            "worker", "--master-host", "127.0.0.1", "--master-port", str(port), *worker_flags
        )
        assert master.wait(60) == 0, master.communicate()[1]
    finally:
        if master.poll() is None:
            master.kill()
            master.wait()
    assert worker.returncode == 0, worker.stderr
    summary = read_json(json_file)
    assert summary["settings"]["client"] == master_client
    assert {e["name"] for e in summary["endpoints"]} == {f"client {session}"}
    notice = (
        "loadgate: the master runs --client requests: this worker runs it too "
        "(its own --client fast is not used)"
    )
    assert (notice in worker.stderr.splitlines()) == bool(worker_flags), worker.stderr


def test_a_worker_that_cannot_run_its_masters_client_leaves_with_one_line(
    loadgate: RunLoadgate, tmp_path: Path
) -> None:
    port, json_file = free_port(), tmp_path / "s.json"
    master = start_master(tmp_path, port, json_file, "fast")
    try:
        worker = loadgate(
            "worker", "--master-host", "127.0.0.1", "--master-port", str(port),
            CLIENTS / "which_client_pooled.py",
        )  # fmt: skip
        master.wait(60)
    finally:
        if master.poll() is None:
            master.kill()
            master.wait()
    assert worker.returncode == 2, worker.stderr
    assert worker.stderr.strip().splitlines()[-1] == (
        "loadgate: error: Which.pool_manager is set: a urllib3 PoolManager is not supported by "
        "--client fast; run with --client requests to use python-requests"
    )
    assert "Traceback" not in worker.stderr
    summary = read_json(json_file)
    assert not summary["endpoints"]
    assert [event["kind"] for event in summary["events"]] == ["worker_left"]
