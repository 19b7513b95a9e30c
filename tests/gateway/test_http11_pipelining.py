"""Pipelining, connection persistence and closes of the server, over raw sockets (RFC 9112 §9)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.gateway.rawhttp import Reader, connect, echo, get, serving


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with serving(echo) as port:
        yield port


def test_pipelined_requests_are_all_answered_in_order(port: int) -> None:
    # The first is the slowest, so an answer written as soon as it is ready would overtake it.
    requests = [get("/0?ms=150"), get("/1?ms=50"), get("/2"), get("/3?ms=20"), get("/4")]
    with connect(port) as sock:
        sock.sendall(b"".join(requests))
        reader = Reader(sock)
        bodies = [reader.response().body for _ in requests]
    assert [body.split()[1] for body in bodies] == [
        b"/0?ms=150", b"/1?ms=50", b"/2", b"/3?ms=20", b"/4",
    ]  # fmt: skip


def test_a_bad_request_after_a_good_one_is_refused_after_the_good_ones_response(
    port: int,
) -> None:
    with connect(port) as sock:
        sock.sendall(get("/good?ms=150") + b"GARBAGE\r\n\r\n")
        reader = Reader(sock)
        good = reader.response()
        bad = reader.response()
        assert reader.rest() == b""
    assert (good.status, good.body) == (200, b"GET /good?ms=150 body=0")
    assert good.header("connection") is None
    assert bad.status == 400
    assert bad.header("connection") == "close"


def test_connection_close_in_a_pipeline_is_the_last_request_answered(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(get("/1?ms=50") + get("/2", "Connection: close") + get("/3"))
        reader = Reader(sock)
        first, second = reader.response(), reader.response()
        assert reader.rest() == b""  # /3 is never answered, and nothing else is written
    assert first.body.startswith(b"GET /1")
    assert first.header("connection") is None
    assert second.body.startswith(b"GET /2")
    assert second.header("connection") == "close"


def test_http10_keep_alive_is_confirmed_and_kept(port: int) -> None:
    with connect(port) as sock:
        reader = Reader(sock)
        sock.sendall(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        kept = reader.response()
        sock.sendall(b"GET /b HTTP/1.0\r\n\r\n")
        last = reader.response()
        assert reader.rest() == b""
    assert kept.header("connection") == "keep-alive"
    assert last.body.startswith(b"GET /b")
    assert last.header("connection") == "close"


def test_a_request_followed_by_a_half_close_is_still_answered(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(get("/half?ms=50"))
        sock.shutdown(socket.SHUT_WR)
        reader = Reader(sock)
        response = reader.response()
        assert reader.rest() == b""
    assert response.body.startswith(b"GET /half")
    assert response.header("connection") == "close"


def test_an_upgrade_is_ignored_the_request_answered_and_the_connection_closed(port: int) -> None:
    upgrade = get("/ws", "Connection: Upgrade", "Upgrade: websocket")
    with connect(port) as sock:
        sock.sendall(get("/before?ms=50") + upgrade + get("/after"))
        reader = Reader(sock)
        before, upgraded = reader.response(), reader.response()
        assert reader.rest() == b""
    assert before.status == 200
    assert (upgraded.status, upgraded.header("connection")) == (200, "close")
    assert upgraded.body.startswith(b"GET /ws")


def test_a_long_pipeline_is_answered_whole_across_the_read_pauses(port: int) -> None:
    # Three times MAX_PIPELINED: the server stops reading and resumes on the way.
    count = 48
    with connect(port) as sock:
        sock.sendall(
            b"".join(get(f"/{i}?ms=1") for i in range(count)) + get("/end", "Connection: close")
        )
        reader = Reader(sock)
        bodies = [reader.response().body for _ in range(count + 1)]
        assert reader.rest() == b""
    assert [body.split()[1] for body in bodies] == [
        *(f"/{i}?ms=1".encode() for i in range(count)),
        b"/end",
    ]


def test_an_upgrade_with_a_body_is_refused_not_answered_without_it(port: int) -> None:
    upgrade = get("/h2c", "Connection: Upgrade", "Upgrade: h2c", "Content-Length: 5", method="POST")
    with connect(port) as sock:
        sock.sendall(upgrade + b"hello")
        reader = Reader(sock)
        response = reader.response()
        assert reader.rest() == b""
    assert (response.status, response.header("connection")) == (501, "close")
