"""What the gateway sends upstream and makes of odd upstream answers, over raw sockets.

A scripted raw-socket upstream (`FakeUpstream`) stands behind the gateway as an
external upstream; the client side is a raw socket too, so no HTTP library
hides what is on the wire.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from tests.fixtures.gateway import RunningGateway, launch_gateway
from tests.gateway.rawhttp import RawClient, parse_head, raw_request

IO_TIMEOUT_S = 10.0
BODY_CAP = 65_536
Answer = Callable[[str], tuple[bytes, bool]]  # method -> (raw response, close afterwards)


# The fake upstream's answers, by the second segment of the path.


def _ok(body: bytes, *headers: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n%s" % (
        b"".join(h + b"\r\n" for h in headers),
        len(body),
        body,
    )


def _chunked(chunks: list[bytes], final: bool = True) -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body + (b"0\r\n\r\n" * final)


SCRIPTS: dict[str, Answer] = {
    "echo": lambda _: (_ok(b"ok"), False),
    "hop": lambda _: (
        _ok(
            b"ok",
            b"Connection: X-Hop, Keep-Alive",
            b"X-Hop: secret",
            b"Keep-Alive: timeout=5",
            b"Proxy-Connection: keep-alive",
            b"Trailer: X-Sum",
            b"X-Kept: yes",
        ),
        False,
    ),
    # A HEAD response announces the length of a body it does not send (over the cap here).
    "head": lambda method: (
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Head: yes\r\n\r\n" % (BODY_CAP * 10)
        if method == "HEAD"
        else _ok(b"after-head"),
        False,
    ),
    "interim": lambda _: (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + _ok(b"final"),
        False,
    ),
    "no-content": lambda _: (b"HTTP/1.1 204 No Content\r\nX-Done: yes\r\n\r\n", False),
    "not-modified": lambda _: (
        b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: %d\r\n\r\n' % (BODY_CAP * 10),
        False,
    ),
    "chunked": lambda _: (_chunked([b"hello ", b"world"]), False),
    "cut-chunked": lambda _: (_chunked([b"hello ", b"wor"], final=False), True),
    "cut-length": lambda _: (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", True),
    "big-length": lambda _: (_ok(b"x" * (BODY_CAP + 1000)), False),
    "big-chunked": lambda _: (_chunked([b"y" * 16_384] * 5), False),
    # A head that never ends: one header line growing past any sane size.
    "big-head": lambda _: (b"HTTP/1.1 200 OK\r\nX-Pad: " + b"z" * (1 << 20), False),
}


@dataclass
class FakeUpstream:
    """A raw-socket upstream on 127.0.0.1 that answers from SCRIPTS and records every request."""

    listener: socket.socket
    requests: list[tuple[int, bytes]] = field(default_factory=list)  # (connection no., head)
    closed_by_peer: set[int] = field(default_factory=set)
    _connections: list[socket.socket] = field(default_factory=list)

    @property
    def port(self) -> int:
        port: int = self.listener.getsockname()[1]
        return port

    def start(self) -> None:
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        number = 0
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed at the end of the module
            number += 1
            self._connections.append(conn)
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65_536)
                    if not data:
                        self.closed_by_peer.add(number)
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                self.requests.append((number, head))
                method, target = head.split(b" ")[:2]
                answer, close = SCRIPTS[target.decode().split("/")[2]](method.decode())
                conn.sendall(answer)
                if close:
                    conn.close()
                    return
        except OSError:
            self.closed_by_peer.add(number)

    def received(self, marker: str) -> tuple[int, str, list[tuple[str, str]]]:
        """Connection number, request line and headers of the request with marker in its target."""
        for number, head in self.requests:
            first, fields = parse_head(head)
            if marker in first:
                return number, first, fields
        raise AssertionError(f"the upstream never received {marker}: {self.requests}")

    def close(self) -> None:
        self.listener.close()
        for conn in self._connections:
            conn.close()


@dataclass(frozen=True)
class Fronted:
    """A gateway whose route /fake leads to the fake upstream."""

    gateway: RunningGateway
    upstream: FakeUpstream

    @property
    def port(self) -> int:
        return self.gateway.api_port

    def errors(self, kind: str) -> float:
        return self.gateway.metric(
            "loadgate_gateway_upstream_errors_total", upstream="fake", kind=kind
        )


@pytest.fixture(scope="module")
def fronted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fronted]:
    listener = socket.create_server(("127.0.0.1", 0))
    upstream = FakeUpstream(listener)
    upstream.start()
    config = f"""
    [gateway]
    max_upstream_body_bytes = {BODY_CAP}
    [upstreams.fake]
    external = true
    ports = [{upstream.port}]
    max_connections = 4
    [upstreams.fake.breaker]
    enabled = false
    [routes.fake]
    prefix = "/fake"
    upstream = "fake"
    auth = "public"
    retries = 0
    """
    running = launch_gateway(tmp_path_factory.mktemp("fronted"), config)
    try:
        yield Fronted(running, upstream)
    finally:
        running.stop()
        upstream.close()


def marker() -> str:
    return uuid.uuid4().hex


def test_faults_are_refused_for_an_external_upstream(fronted: Fronted) -> None:
    refused = fronted.gateway.admin("PUT", "/faults/fake", json={"down": True})
    assert refused.status_code == 400
    assert "external" in refused.json()["message"]
    assert raw_request(fronted.port, "GET", f"/fake/echo/{marker()}").status == 200


def test_hop_by_hop_request_headers_stay_at_the_gateway(fronted: Fronted) -> None:
    tag = marker()
    response = raw_request(
        fronted.port, "GET", f"/fake/echo/{tag}",
        "Connection: keep-alive, X-Drop-Me", "X-Drop-Me: 1", "Keep-Alive: timeout=300",
        "TE: trailers", "Proxy-Authorization: Basic Zm9vOmJhcg==", "Expect: 100-continue",
        "X-Forwarded-For: 203.0.113.7", "X-Forwarded-For: 198.51.100.1, 192.0.2.9",
        "X-Forwarded-Proto: https", "X-End-To-End: kept",
    )  # fmt: skip
    assert response.status == 200
    _, _, fields = fronted.upstream.received(tag)
    names = {name.lower() for name, _ in fields}
    for hop in ("connection", "x-drop-me", "keep-alive", "te", "proxy-authorization", "expect"):
        assert hop not in names, (hop, fields)
    forwarded_for = [value for name, value in fields if name.lower() == "x-forwarded-for"]
    assert forwarded_for == ["203.0.113.7, 198.51.100.1, 192.0.2.9, 127.0.0.1"]
    # The gateway is the edge: it says which scheme the client used, not the client.
    assert [value for name, value in fields if name.lower() == "x-forwarded-proto"] == ["http"]
    assert ("X-End-To-End", "kept") in fields


def test_hop_by_hop_response_headers_stay_at_the_gateway(fronted: Fronted) -> None:
    response = raw_request(fronted.port, "GET", f"/fake/hop/{marker()}")
    assert response.status == 200
    assert response.body == b"ok"
    assert response.header("x-kept") == "yes"
    for hop in ("x-hop", "keep-alive", "proxy-connection", "trailer"):
        assert response.header(hop) is None, (hop, response.headers)
    assert response.all("connection") == []


def test_head_is_forwarded_and_its_response_read_without_a_body(fronted: Fronted) -> None:
    head_tag, get_tag = marker(), marker()
    with RawClient(fronted.port) as client:
        head = client.request("HEAD", f"/fake/head/{head_tag}")
        assert head.status == 200
        assert head.header("x-head") == "yes"
        # The same client connection and the same upstream connection carry on in step.
        after = client.request("GET", f"/fake/head/{get_tag}")
    assert (after.status, after.body) == (200, b"after-head")
    head_connection, head_line, _ = fronted.upstream.received(head_tag)
    get_connection, _, _ = fronted.upstream.received(get_tag)
    assert head_line.startswith("HEAD ")
    assert head_connection == get_connection


def test_interim_and_bodiless_upstream_answers(fronted: Fronted) -> None:
    with RawClient(fronted.port) as client:
        final = client.request("GET", f"/fake/interim/{marker()}")
        assert (final.status, final.body) == (200, b"final")
        no_content = client.request("GET", f"/fake/no-content/{marker()}")
        assert (no_content.status, no_content.header("x-done")) == (204, "yes")
        not_modified = client.request("GET", f"/fake/not-modified/{marker()}")
        assert (not_modified.status, not_modified.header("etag")) == (304, '"v1"')
        # Nothing of those answers is left over to be taken for the next one.
        chunked = client.request("GET", f"/fake/chunked/{marker()}")
    assert (chunked.status, chunked.body) == (200, b"hello world")


@pytest.mark.parametrize("script", ["cut-chunked", "cut-length"])
def test_a_body_cut_short_is_a_502(fronted: Fronted, script: str) -> None:
    before = fronted.errors("truncated")
    response = raw_request(fronted.port, "GET", f"/fake/{script}/{marker()}")
    assert response.status == 502
    assert b'"bad_gateway"' in response.body
    assert b"hello" not in response.body
    assert fronted.errors("truncated") == before + 1


def test_an_endless_upstream_head_is_a_502(fronted: Fronted) -> None:
    tag = marker()
    before = fronted.errors("protocol")
    response = raw_request(fronted.port, "GET", f"/fake/big-head/{tag}")
    assert response.status == 502
    assert fronted.errors("protocol") == before + 1
    connection, _, _ = fronted.upstream.received(tag)
    wait_until_closed(fronted.upstream, connection)


@pytest.mark.parametrize("script", ["big-length", "big-chunked"])
def test_an_upstream_body_over_the_cap_is_a_502(fronted: Fronted, script: str) -> None:
    tag = marker()
    before = fronted.errors("body_too_large")
    response = raw_request(fronted.port, "GET", f"/fake/{script}/{tag}")
    assert response.status == 502
    assert b'"upstream_body_too_large"' in response.body
    assert fronted.errors("body_too_large") == before + 1
    # The gateway drops that upstream connection rather than reading the rest.
    connection, _, _ = fronted.upstream.received(tag)
    wait_until_closed(fronted.upstream, connection)


def wait_until_closed(upstream: FakeUpstream, connection: int) -> None:
    deadline = time.monotonic() + IO_TIMEOUT_S
    while connection not in upstream.closed_by_peer and time.monotonic() < deadline:
        time.sleep(0.02)
    assert connection in upstream.closed_by_peer
