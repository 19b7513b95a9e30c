"""`loadgate gateway --upstreams-only`: the mock upstreams alone, for a gateway of your own."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.gateway import loadgate_command
from tests.fixtures.real_gateways import MockUpstreams

# The built-in config's upstreams and their instances.
INSTANCES = {"catalog": 2, "search": 1, "identity": 1, "commerce": 2}
STEP_DEADLINE_S = 30.0


def test_the_json_line_names_every_upstream_and_each_instance_answers(
    mock_upstreams: MockUpstreams,
) -> None:
    document = mock_upstreams.document
    assert document["api"] is None and document["processes"] == 0
    assert {name: len(urls) for name, urls in document["upstreams"].items()} == INSTANCES
    for name, urls in document["upstreams"].items():
        for i, url in enumerate(urls):
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
            response = httpx.get(f"{url}/v1/products/7", timeout=5.0)
            assert response.status_code == 200
            assert response.headers["X-Served-By"] == f"{name}-{i}"
    health = httpx.get(f"{document['admin']}/health", timeout=5.0)
    assert health.status_code == 200
    assert health.json()["api"] is None and health.json()["upstreams"] == document["upstreams"]


@pytest.fixture
def text_mode(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """`--upstreams-only` printing its text lines to a file; killed if the test left it."""
    out = tmp_path / "stdout.txt"
    with out.open("w") as stdout:
        process = subprocess.Popen(
            loadgate_command("gateway", "--upstreams-only", "--admin-port", "0"),
            stdout=stdout, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    yield process, out
    if process.poll() is None:
        process.kill()
        process.wait()


def _ready_text(process: subprocess.Popen[str], out: Path) -> str:
    deadline = time.monotonic() + STEP_DEADLINE_S
    while "Ctrl-C to stop." not in out.read_text():
        assert process.poll() is None, out.read_text()
        assert time.monotonic() < deadline, out.read_text()
        time.sleep(0.05)
    return out.read_text()


def _refuses_connections(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1.0).close()
    except ConnectionRefusedError:
        return True
    return False


def test_text_lines_faults_and_a_clean_stop(
    text_mode: tuple[subprocess.Popen[str], Path],
) -> None:
    process, out = text_mode
    text = _ready_text(process, out)
    assert "upstreams only, no gateway process" in text and "  api " not in text
    admin = re.search(r"^  admin  (http://127\.0\.0\.1:\d+)", text, re.MULTILINE)
    catalog = re.search(r"^  upstream catalog +(\S+) (\S+)  <- /v1/products$", text, re.MULTILINE)
    search = re.search(r"^  upstream search +(\S+)  <- /v1/search$", text, re.MULTILINE)
    assert admin and catalog and search, text

    # A fault set through the admin API acts on the upstream it names, and only there.
    put = httpx.put(
        f"{admin[1]}/faults/catalog", json={"error_rate": 1.0, "error_status": 503}, timeout=5.0
    )
    assert put.status_code == 200, put.text
    assert httpx.get(f"{catalog[1]}/v1/products/7", timeout=5.0).status_code == 503
    assert httpx.get(f"{search[1]}/v1/search?q=x", timeout=5.0).status_code == 200

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10.0) == 0
    assert all(_refuses_connections(url) for url in (catalog[1], catalog[2], search[1]))


@pytest.mark.parametrize(
    ("flag", "value"), [("--port", "8080"), ("--processes", "2"), ("--redis-url", "redis://x")]
)
def test_gateway_flags_are_refused_in_one_line(flag: str, value: str) -> None:
    result = subprocess.run(
        loadgate_command("gateway", "--upstreams-only", flag, value),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"loadgate: error: {flag}: not used with --upstreams-only (no gateway process runs; "
        "the upstreams and the admin API take --admin-port and --config)"
    ]
