"""The server's limits over raw sockets: line and header sizes, header and body timeouts, body cap.

Timeouts here are short (a few tenths of a second) so the tests are quick;
every wait is bounded by the reader's deadline, and nothing asserts on speed.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest

from loadgate.gateway.server import ServerLimits
from tests.gateway.rawhttp import Reader, answer_and_rest, connect, echo, get, serving

LIMITS = ServerLimits(
    max_body_bytes=1000,
    max_url_bytes=1024,
    max_header_bytes=4096,
    max_headers=20,
    header_timeout_s=0.5,
    body_timeout_s=0.5,
    keep_alive_s=75.0,
)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with serving(echo, LIMITS) as port:
        yield port


def test_requests_within_every_limit_are_served(port: int) -> None:
    headers = [f"X-Fill-{i}: {'v' * 150}" for i in range(18)]
    response, _ = answer_and_rest(port, get("/" + "p" * 1000, *headers, "Connection: close"))
    assert response.status == 200


def test_a_request_target_over_the_limit_is_414_then_closed(port: int) -> None:
    response, rest = answer_and_rest(port, get("/" + "p" * 1100))
    assert (response.status, response.header("connection"), rest) == (414, "close", b"")


def test_too_many_header_fields_are_431_then_closed(port: int) -> None:
    response, rest = answer_and_rest(port, get("/", *(f"X-H{i}: 1" for i in range(21))))
    assert (response.status, response.header("connection"), rest) == (431, "close", b"")


def test_too_many_header_bytes_are_431_then_closed(port: int) -> None:
    response, rest = answer_and_rest(port, get("/", *(f"X-H{i}: {'v' * 1000}" for i in range(5))))
    assert (response.status, response.header("connection"), rest) == (431, "close", b"")


def test_a_header_line_that_never_ends_is_refused_while_it_is_read(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nX-Endless: ")
        reader = Reader(sock)
        for _ in range(20):  # up to 20 KiB, five times the limit, never ending the line
            try:
                sock.sendall(b"v" * 1024)
            except OSError:
                break
            time.sleep(0.01)
        response = reader.response()
        assert reader.rest() == b""
    assert response.status == 431


def test_a_client_dribbling_its_head_is_sent_408_and_closed(port: int) -> None:
    """Slowloris: every byte arrives in time, the whole head never does."""
    with connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n")
        sock.settimeout(0.1)
        received = b""
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break  # closed after the answer: that is what we want
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
    assert received.startswith(b"HTTP/1.1 408 "), received
    assert b"\r\nConnection: close\r\n" in received


def test_a_silent_connection_is_closed_after_the_header_timeout(port: int) -> None:
    with connect(port) as sock:
        reader = Reader(sock)
        assert reader.rest() == b""


def test_an_idle_keep_alive_connection_is_not_cut_by_the_header_timeout(port: int) -> None:
    with connect(port) as sock:
        reader = Reader(sock)
        sock.sendall(get("/1"))
        assert reader.response().status == 200
        time.sleep(LIMITS.header_timeout_s * 2)
        sock.sendall(get("/2"))
        assert reader.response().body.startswith(b"GET /2")


def test_a_head_finished_while_an_answer_is_due_is_not_timed_out(port: int) -> None:
    with connect(port) as sock:
        # The second head is in two pieces, while the first answer takes twice the timeout.
        sock.sendall(get("/1?ms=1000") + b"GET /2 HTTP/1.1\r\nHo")
        time.sleep(0.1)
        sock.sendall(b"st: test\r\n\r\n")
        reader = Reader(sock)
        first, second = reader.response(), reader.response()
        sock.sendall(get("/3"))
        third = reader.response()
    assert (first.status, second.status, third.status) == (200, 200, 200)
    assert second.body.startswith(b"GET /2")
    assert third.body.startswith(b"GET /3")


def test_waiting_for_a_100_continue_we_owe_is_not_a_body_timeout(port: int) -> None:
    with connect(port) as sock:
        # The 100 for the POST waits for the GET's answer, which takes twice the body timeout.
        sock.sendall(
            get("/1?ms=1000") + get("/", "Content-Length: 2", "Expect: 100-continue", method="POST")
        )
        reader = Reader(sock)
        first, interim = reader.response(), reader.response()
        sock.sendall(b"ok")
        final = reader.response()
    assert [first.status, interim.status, final.status] == [200, 100, 200]


def test_a_body_over_the_cap_is_413_at_once_without_reading_the_rest(port: int) -> None:
    # 10 MB announced, 100 bytes sent: the answer comes before the rest is sent.
    head = get("/", "Content-Length: 10000000", method="POST")
    response, rest = answer_and_rest(port, head + b"x" * 100)
    assert (response.status, response.header("connection"), rest) == (413, "close", b"")


def test_a_chunked_body_over_the_cap_is_413_as_soon_as_it_passes_the_cap(port: int) -> None:
    head = get("/", "Transfer-Encoding: chunked", method="POST")
    chunks = b"".join(b"190\r\n" + b"x" * 400 + b"\r\n" for _ in range(3))  # 1200 bytes, no end
    response, rest = answer_and_rest(port, head + chunks)
    assert (response.status, response.header("connection"), rest) == (413, "close", b"")


def test_a_chunked_body_within_the_cap_is_served(port: int) -> None:
    head = get("/", "Transfer-Encoding: chunked", "Connection: close", method="POST")
    body = b"5\r\nhello\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n"
    response, _ = answer_and_rest(port, head + body)
    assert (response.status, response.body) == (200, b"POST / body=8")
    assert response.header("x-header-names") == "host,transfer-encoding,connection"


def test_a_client_stopping_mid_body_is_sent_408_and_closed(port: int) -> None:
    head = get("/", "Content-Length: 100", method="POST")
    response, rest = answer_and_rest(port, head + b"x" * 10)
    assert (response.status, response.header("connection"), rest) == (408, "close", b"")


def test_a_body_begun_in_the_read_that_ended_the_previous_one_is_timed_out(port: int) -> None:
    # The read that ends the first body starts the second: that body has its timeout too.
    with connect(port) as sock:
        sock.sendall(get("/1", "Content-Length: 4", method="POST") + b"ab")
        time.sleep(0.1)
        sock.sendall(b"cd" + get("/2", "Content-Length: 4", method="POST") + b"x")
        reader = Reader(sock)
        first, stalled = reader.response(), reader.response()
        assert reader.rest() == b""
    assert (first.status, stalled.status) == (200, 408)


def test_a_slow_body_is_served_while_each_piece_comes_within_the_body_timeout() -> None:
    limits = ServerLimits(body_timeout_s=1.0)
    with serving(echo, limits) as port, connect(port) as sock:
        sock.sendall(get("/", "Content-Length: 5", method="POST"))
        for piece in b"abcde":  # 1.25 s in all, more than the body timeout
            time.sleep(limits.body_timeout_s / 4)
            sock.sendall(bytes([piece]))
        response = Reader(sock).response()
    assert (response.status, response.body) == (200, b"POST / body=5")


def test_a_refusal_does_not_reset_the_connection_under_earlier_answers(port: int) -> None:
    """The client keeps sending its refused body while a large answer is still in flight.

    A plain close would stop reading and, with that body unread, reset the
    connection: the kernel would then drop the answers it still holds.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        sock.settimeout(5.0)
        sock.connect(("127.0.0.1", port))
        sock.sendall(get("/big?size=8000000") + get("/", "Content-Length: 9000000", method="POST"))
        with contextlib.suppress(OSError):
            for _ in range(64):
                sock.sendall(b"x" * 4096)
        reader = Reader(sock)
        big = reader.response()
        refusal = reader.response()
    assert (big.status, len(big.body)) == (200, 8_000_000)
    assert refusal.status == 413


def test_every_refusal_and_only_refusals_reach_the_refusal_hook() -> None:
    statuses: list[int] = []  # appended to by the server's thread, read after each answer
    refusals = [
        (get("/" + "p" * 1100), 414),
        (get("/", *(f"X-H{i}: 1" for i in range(21))), 431),
        (get("/", "Content-Length: 5000", method="POST"), 413),
        (b"GET / HTTP/2.0\r\nHost: test\r\n\r\n", 505),
        (get("/", "Expect: teapot"), 417),
        (b"NOT HTTP\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: test\r\n", 408),  # the head never ends
    ]
    with serving(echo, LIMITS, on_refusal=statuses.append) as port:
        for data, status in refusals:
            response, _ = answer_and_rest(port, data)
            assert response.status == status
        # Answers of the handler, errors included, are not the server's refusals.
        served, _ = answer_and_rest(port, get("/?status=404", "Connection: close"))
        assert served.status == 404
    assert statuses == [status for _, status in refusals]
