"""Rejections on real runs: a per-key limit judged per key, and 429s with and without a
retry hint, against the reference gateway and a bare server that sends no Retry-After.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO, RunLoadgate, read_json
from tests.e2e.test_distributed_remote import RUN_TIMEOUT_S, Processes, worker_args
from tests.fixtures.gateway import RunningGateway
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.slow

SCRIPT = REPO / "tests" / "e2e" / "scripts" / "rate_limited_keys.py"
KEYS = ("lf_test_key_alpha_7c1e40_gateway", "lf_test_key_bravo_52d9b8_gateway")
PER_KEY_PER_S = 3
CONFIG = "".join(
    f'[consumers.{name}]\napi_key = "{key}"\nrate_per_s = {PER_KEY_PER_S}\n'
    f"burst = {PER_KEY_PER_S}\n\n"
    for name, key in zip(("alpha", "bravo"), KEYS, strict=True)
)


def run_with_plan(
    loadgate: RunLoadgate,
    tmp_path: Path,
    db_url: str,
    host: str,
    limit: str,
    *more: str,
    via_flag: bool = False,
    **env: str,
) -> dict[str, dict[str, Any]]:
    """A 6 s run whose plan (or `--expect-rate-limit`) expects `limit` (`more`: further flags);
    its findings by kind."""
    plan = tmp_path / "loadgate.toml"
    plan.write_text(f'[findings]\nexpect_rate_limit = "{limit}"\n', encoding="utf-8")
    expecting = ["--expect-rate-limit", limit] if via_flag else ["--plan", str(plan)]
    out = tmp_path / "run.json"
    result = loadgate(
        "run", SCRIPT, "-u", "4", "-r", "4", "-t", "6s", "-H", host, "--db", db_url,
        "--json", out, *expecting, "--name", "keys", *more, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return {f["kind"]: f for f in read_json(out)["findings"]}


# (further flags, the limit given by --expect-rate-limit rather than the plan)
SETUPS = {"one": ((), False), "two-workers": (("--processes", "2"), False), "flag": ((), True)}


@pytest.mark.parametrize("setup", SETUPS.values(), ids=SETUPS.keys())
def test_a_per_key_limit_holds_per_key_and_the_gateway_hints_every_429(
    setup: tuple[tuple[str, ...], bool],
    gateway_factory: Callable[..., RunningGateway],
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
) -> None:
    """With two workers, both send both keys: the master unites their keys (2, not 4)."""
    host = gateway_factory(CONFIG).api_url
    limit = f"{PER_KEY_PER_S}/s per X-API-Key"
    processes, via_flag = setup
    found = run_with_plan(loadgate, tmp_path, db_url, host, limit, *processes, via_flag=via_flag)
    finding = found["rate_limit"]
    assert "unhinted_429" not in found["errors.throttling"]["numbers"]
    numbers = finding["numbers"]
    assert finding["severity"] == "info", finding
    assert "holds per key" in finding["sentence"]
    assert numbers["active_keys"] == 2, finding
    # Two keys: about twice the per-key limit passed, and that is what it should be.
    assert 1.6 * PER_KEY_PER_S <= numbers["accepted_per_s"] <= 2.4 * PER_KEY_PER_S, finding
    assert numbers["rejected_429"] > 0 and numbers["unhinted_429"] == 0, finding
    # Judged as a limit of all requests, the same run overshoots: the keys made the difference.
    shown = loadgate(
        "show", "keys", "--json", "--db", db_url, "--expect-rate-limit", f"{PER_KEY_PER_S}/s"
    )
    assert shown.returncode == 0, shown.stderr
    (whole,) = [f for f in json.loads(shown.stdout)["findings"] if f["kind"] == "rate_limit"]
    assert whole["severity"] == "critical" and "overshoots" in whole["sentence"], whole


def test_remote_workers_count_the_keys_their_master_asks_for(
    gateway_factory: Callable[..., RunningGateway], db_url: str, tmp_path: Path
) -> None:
    """Two `loadgate worker`s with no flag of their own: the header comes in the master's plan."""
    host = gateway_factory(CONFIG).api_url
    port, json_file = free_port(), tmp_path / "run.json"
    started = Processes(tmp_path)
    try:
        master = started.start(
            "master", "run", SCRIPT, "--master", "--expect-workers", "2",
            "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
            "--expect-workers-max-wait", "60", "-u", "4", "-r", "4", "-t", "6s", "-H", host,
            "--db", db_url, "--json", json_file, "-q",
            "--expect-rate-limit", f"{PER_KEY_PER_S}/s per X-API-Key",
        )  # fmt: skip
        # One region: a region's seconds are stored apart, and keys are united within one.
        workers = [started.start(name, *worker_args(port, "lab")) for name in ("a", "b")]
        assert master.wait(RUN_TIMEOUT_S) == 0, started.log("master")
        for name, worker in zip(("a", "b"), workers, strict=True):
            assert worker.wait(30) == 0, started.log(name)
    finally:
        started.kill_all()
    finding = {f["kind"]: f for f in read_json(json_file)["findings"]}["rate_limit"]
    assert "holds per key" in finding["sentence"], finding
    assert finding["numbers"]["active_keys"] == 2, finding


class _BareLimitServer(ThreadingHTTPServer):
    """Counts each key's requests per wall-clock second, for _BareLimiter."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _BareLimiter)
        self.windows: dict[tuple[str, int], int] = {}
        self.lock = threading.Lock()


class _BareLimiter(BaseHTTPRequestHandler):
    """PER_KEY_PER_S requests per key in each wall-clock second; the rest get a bare 429."""

    server: _BareLimitServer

    def do_GET(self) -> None:
        window = (self.headers.get("X-API-Key", ""), int(time.time()))
        with self.server.lock:
            seen = self.server.windows[window] = self.server.windows.get(window, 0) + 1
        allowed = seen <= PER_KEY_PER_S
        body = b'{"ok": true}' if allowed else b'{"error": "slow down"}'
        self.send_response(200 if allowed else 429)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test's output is the finding."""


@pytest.fixture
def bare_limiter() -> Iterator[str]:
    """A server on a free port of 127.0.0.1 that rate-limits without any retry hint."""
    server = _BareLimitServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_429s_without_retry_after_are_a_warning_also_with_fasthttpuser(
    bare_limiter: str, loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    limit = f"{PER_KEY_PER_S}/s per X-API-Key"
    found = run_with_plan(loadgate, tmp_path, db_url, bare_limiter, limit,
                            LOADGATE_TEST_CLIENT="fast")  # fmt: skip
    finding = found["rate_limit"]
    numbers = finding["numbers"]
    assert finding["severity"] == "warning", finding
    assert "carried no Retry-After or RateLimit-* header" in finding["sentence"]
    assert numbers["unhinted_429"] == numbers["rejected_429"] > 0, finding
    throttling = found["errors.throttling"]
    assert throttling["numbers"]["unhinted_429"] == numbers["rejected_429"], throttling
    # The keys were read from geventhttpclient's requests too; the limit itself held.
    assert "holds per key" in finding["sentence"] and numbers["active_keys"] == 2, finding
