"""The `loadgate gateway` process contract: URLs, health, clean stop, one-line errors."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import pytest

from tests.fixtures.gateway import RunningGateway, loadgate_command

# The longest a test waits for one step of a start it controls.
STEP_DEADLINE_S = 30.0


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_stops_every_process(gateway_factory: Callable[..., RunningGateway]) -> None:
    running = gateway_factory("", "--processes", "2")
    pids = running.health()["pids"]
    children = [*pids["gateway"], pids["upstreams"]]
    assert all(pid_exists(pid) for pid in children)
    elapsed_s = running.stop()
    assert running.process.returncode == 0
    assert elapsed_s < 5.0
    assert not any(pid_exists(pid) for pid in children)


def held_child(supervisor_pid: int) -> psutil.Process | None:
    """The gateway's first spawned child, stopped before it listened; None if it was too late.

    Each child says "ready" only after it listens (the upstream process on its
    instances, a gateway process on the API port), and the supervisor is ready
    only after every child said so: a child stopped before it listened holds
    /health at "starting" for as long as the test likes, whatever the timing.
    """
    supervisor = psutil.Process(supervisor_pid)
    deadline = time.monotonic() + STEP_DEADLINE_S
    while time.monotonic() < deadline:
        for child in supervisor.children():
            try:
                # Not the resource tracker, nor a fork that has not exec'd yet.
                if "spawn_main" not in " ".join(child.cmdline()):
                    continue
                child.suspend()
                stopped(child)
                connections = child.net_connections("tcp")
            except psutil.NoSuchProcess:
                continue
            if any(c.status == psutil.CONN_LISTEN for c in connections):
                child.resume()
                return None
            return child
        time.sleep(0.001)
    raise TimeoutError(f"no child of the gateway appeared in {STEP_DEADLINE_S} s")


def stopped(process: psutil.Process) -> None:
    """Wait until SIGSTOP has taken effect: kill() returns before the target stops running."""
    deadline = time.monotonic() + STEP_DEADLINE_S
    while process.status() != psutil.STATUS_STOPPED:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{process} did not stop in {STEP_DEADLINE_S} s")
        time.sleep(0.001)


def health_when_answered(running: RunningGateway) -> httpx.Response:
    """The first /health answer, once the admin port accepts connections."""
    deadline = time.monotonic() + STEP_DEADLINE_S
    while time.monotonic() < deadline:
        try:
            return running.admin("GET", "/health")
        except httpx.TransportError:
            time.sleep(0.01)
    raise TimeoutError(f"the admin API did not answer in {STEP_DEADLINE_S} s")


def test_health_is_503_until_ready(gateway_factory: Callable[..., RunningGateway]) -> None:
    for _ in range(3):  # a child that listened before we could stop it: start again
        running = gateway_factory(wait=False)
        child = held_child(running.process.pid)
        if child is not None:
            break
        running.stop()
    else:
        pytest.fail("every try, the gateway's child listened before it could be stopped")
    try:
        # Whenever it comes: with a child held before it listened, it cannot be ready.
        held = health_when_answered(running)
        assert (held.status_code, held.json()["status"]) == (503, "starting")
    finally:
        child.resume()
    deadline = time.monotonic() + STEP_DEADLINE_S
    while (ready := running.admin("GET", "/health")).status_code != 200:
        assert time.monotonic() < deadline, ready.text
        time.sleep(0.05)
    pids = ready.json()["pids"]
    assert ready.json()["status"] == "ok"
    assert child.pid in [pids["upstreams"], *pids["gateway"]]  # the child we held was one of its


def test_port_zero_prints_the_urls(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            loadgate_command("gateway", "--port", "0", "--admin-port", "0"),
            stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while "Ctrl-C" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        text = log.read_text()
        api = re.search(r"^  api    (http://127\.0\.0\.1:\d+)$", text, re.MULTILINE)
        admin = re.search(r"^  admin  (http://127\.0\.0\.1:\d+) ", text, re.MULTILINE)
        assert api and admin, text
        assert httpx.get(admin.group(1) + "/health").status_code == 200
        assert httpx.get(api.group(1) + "/v1/products/1").status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_a_port_in_use_fails_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            loadgate_command("gateway", "--port", str(port), "--admin-port", "0"),
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"loadgate: error: --port {port}: cannot listen")


def test_a_dead_child_stops_the_gateway(gateway_factory: Callable[..., RunningGateway]) -> None:
    running = gateway_factory()
    os.kill(running.health()["pids"]["upstreams"], signal.SIGKILL)
    assert running.process.wait(timeout=10) == 3
    assert "loadgate: error: stopping: upstream process (exit code -9) died" in running.output()


BAD_CONFIGS = {
    "type": (
        "[gateway]\nport = 'eighty'",
        "config: gateway.port: expected an integer from 0 to 65535, got 'eighty'",
    ),
    "unknown-key": (
        "[routes.products]\ncache_tll_s = 5",
        "config: routes.products.cache_tll_s: unknown key",
    ),
    "reference": (
        "[routes.products]\nupstream = 'nowhere'",
        "config: routes.products.upstream: expected one of the upstreams",
    ),
    "range": (
        "[upstreams.catalog.fault]\nerror_rate = 1.5",
        "config: upstreams.catalog.fault.error_rate: expected a number from 0 to 1, got 1.5",
    ),
    "url": (
        "[rate_limit]\nredis_url = 'http://x'",
        "config: rate_limit.redis_url: expected a URL like",
    ),
    "syntax": ("[gateway\nport = 1", "is not valid TOML"),
}


@pytest.mark.parametrize(("config", "expected"), BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_bad_config_exits_2_with_one_line(tmp_path: Path, config: str, expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(config)
    result = subprocess.run(
        loadgate_command("gateway", "--config", str(path)), capture_output=True, text=True,
        timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("loadgate: error: ")
    assert expected in result.stderr


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        loadgate_command("gateway", "--config", str(tmp_path / "nope.toml")),
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("loadgate: error: --config: cannot read")
