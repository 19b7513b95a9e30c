"""The echo server (plain and TLS, with a self-signed certificate made here) and both clients."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.ports import free_port, wait_for_port

SERVER = Path(__file__).parent / "echo_server.py"


def serve_echo(*args: str) -> Iterator[str]:
    """echo_server.py on a free port (TLS when given a certificate and key): its address."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SERVER), str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    for address in serve_echo():
        yield f"http://{address}"


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return Certificate(cert=cert, key=key)


@pytest.fixture(scope="module")
def tls_url(certificate: Certificate) -> Iterator[str]:
    for address in serve_echo(str(certificate.cert), str(certificate.key)):
        yield f"https://{address}"


@pytest.fixture(scope="module")
def mutual_tls_url(certificate: Certificate) -> Iterator[str]:
    """TLS that wants a client certificate: the server's own (self-signed) one will do."""
    cert, key = str(certificate.cert), str(certificate.key)
    for address in serve_echo(cert, key, cert):
        yield f"https://{address}"


@dataclass
class Client:
    """One session (Locust's HttpSession or our FastSession) and the request events it fired."""

    session: Any
    events: list[dict[str, Any]] = field(default_factory=list)

    def reported(self) -> list[tuple[str, str, int, str]]:
        """What a collector stores of each event: method, name, length, failure message."""
        from loadgate.engine.collector import error_message

        return [
            (
                e["request_type"],
                e["name"],
                e["response_length"],
                "" if e["exception"] is None else error_message(e["exception"]),
            )
            for e in self.events
        ]


def _record(sink: list[dict[str, Any]], **event: Any) -> None:
    sink.append(event)


MakeClients = Callable[[str], tuple[Client, Client]]


@pytest.fixture
def clients() -> MakeClients:
    """Both clients on `base_url`: (requests, fast)."""
    from locust.clients import HttpSession
    from locust.event import EventHook

    from loadgate.engine.fastclient import FastSession

    def make(base_url: str) -> tuple[Client, Client]:
        made = []
        for session_class in (HttpSession, FastSession):
            hook = EventHook()
            client = Client(session=None)
            hook.add_listener(partial(_record, client.events))
            client.session = session_class(base_url=base_url, request_event=hook, user=None)
            client.session.trust_env = False  # as HttpUser sets it
            made.append(client)
        return made[0], made[1]

    return make
