"""HEAD, 100-continue, bodiless statuses and the heads the server refuses, over raw sockets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loadgate.gateway.messages import Request, Response
from loadgate.gateway.server import ServerLimits
from tests.gateway.rawhttp import Reader, answer_and_rest, connect, echo, get, serving


async def lengthy(request: Request) -> Response:
    """Answers a HEAD with the length a GET would have, without building that body."""
    return Response(200, [(b"Content-Length", b"123456")])


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with serving(echo, ServerLimits(max_body_bytes=1000)) as port:
        yield port


def test_head_has_the_get_length_and_no_body(port: int) -> None:
    with connect(port) as sock:
        # The GET behind the HEAD shows that no body bytes were written in between.
        sock.sendall(get("/thing", method="HEAD") + get("/thing"))
        reader = Reader(sock)
        head = reader.response(head_request=True)
        after = reader.response()
    assert after.body == b"GET /thing body=0"
    assert head.status == 200
    assert head.header("content-length") == str(len(b"HEAD /thing body=0"))
    assert head.header("content-type") == "text/plain"


def test_head_keeps_a_content_length_the_handler_set() -> None:
    with serving(lengthy) as port, connect(port) as sock:
        sock.sendall(
            get("/", method="HEAD")
            + get(
                "/",
                method="HEAD",
            )
        )
        reader = Reader(sock)
        first, second = reader.response(head_request=True), reader.response(head_request=True)
    assert first.count("content-length") == 1
    assert first.header("content-length") == second.header("content-length") == "123456"


@pytest.mark.parametrize("status", [204, 304])
def test_204_and_304_have_no_body_and_no_content_length(port: int, status: int) -> None:
    with connect(port) as sock:
        sock.sendall(get(f"/?status={status}") + get("/next"))
        reader = Reader(sock)
        bodiless = reader.response()
        after = reader.response()
    assert bodiless.status == status
    assert bodiless.header("content-length") is None
    assert bodiless.body == b""
    assert after.body == b"GET /next body=0"


async def not_modified(request: Request) -> Response:
    """A 304 carrying the length fields of the body it stands for (as a proxy's may)."""
    return Response(
        304, [(b"ETag", b'"v1"'), (b"Content-Length", b"123"), (b"Transfer-Encoding", b"chunked")]
    )


def test_a_304_leaves_out_the_length_fields_its_handler_set() -> None:
    with serving(not_modified) as port:
        response, rest = answer_and_rest(port, get("/", "Connection: close"))
    assert (response.status, response.header("etag"), rest) == (304, '"v1"', b"")
    assert response.header("content-length") is None
    assert response.header("transfer-encoding") is None


def test_an_interim_status_from_a_handler_is_a_500(port: int) -> None:
    response, _ = answer_and_rest(port, get("/?status=103", "Connection: close"))
    assert response.status == 500


def test_expect_100_continue_is_answered_before_the_body_is_sent(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(get("/up", "Content-Length: 5", "Expect: 100-continue", method="POST"))
        reader = Reader(sock, timeout_s=3.0)
        interim = reader.response()
        sock.sendall(b"hello")
        final = reader.response()
    assert interim.status == 100
    assert interim.headers == []
    assert final.status == 200
    assert final.body == b"POST /up body=5"
    assert final.header("x-header-names") == "host,content-length"  # no Expect for the handler


def test_expect_100_continue_waits_behind_an_earlier_response(port: int) -> None:
    with connect(port) as sock:
        reader = Reader(sock)
        sock.sendall(
            get("/first?ms=150")
            + get("/up", "Content-Length: 2", "Expect: 100-continue", method="POST")
        )
        first = reader.response()
        interim = reader.response()
        sock.sendall(b"hi")
        final = reader.response()
    assert [first.status, interim.status, final.status] == [200, 100, 200]
    assert final.body == b"POST /up body=2"


def test_expect_100_continue_with_a_body_over_the_cap_is_413_without_100(port: int) -> None:
    head = get("/", "Content-Length: 5000", "Expect: 100-continue", method="POST")
    response, rest = answer_and_rest(port, head)
    assert (response.status, response.header("connection"), rest) == (413, "close", b"")


def test_expect_100_continue_in_http10_is_ignored(port: int) -> None:
    head = b"POST /old HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
    with connect(port) as sock:
        sock.sendall(head)
        reader = Reader(sock, timeout_s=0.5)
        with pytest.raises(TimeoutError):
            reader.response()  # no 100: the server waits for the body
        reader.deadline += 5.0
        sock.sendall(b"hi")
        response = reader.response()
    assert (response.status, response.body) == (200, b"POST /old body=2")


def test_an_unknown_expectation_is_417(port: int) -> None:
    response, rest = answer_and_rest(port, get("/", "Expect: teapot", "Content-Length: 0"))
    assert (response.status, rest) == (417, b"")


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        # Request smuggling: two framings for one body (RFC 9112 §6.1).
        (get("/", "Content-Length: 5", "Transfer-Encoding: chunked", method="POST")
         + b"0\r\n\r\n", 400),
        (get("/", "Transfer-Encoding: gzip", method="POST"), 400),
        (get("/", "Transfer-Encoding: gzip, chunked", method="POST"), 501),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (get("/", "Host: other"), 400),
        (b"GET / HTTP/2.0\r\nHost: test\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nHost: test\r\nX: a\r\n folded\r\n\r\n", 400),
    ],
    ids=["te-and-length", "te-not-chunked", "te-unknown", "te-in-http10", "no-host",
         "two-hosts", "http2-line", "obs-fold"],
)  # fmt: skip
def test_refused_heads_are_answered_then_closed(
    port: int, request_bytes: bytes, status: int
) -> None:
    response, rest = answer_and_rest(port, request_bytes)
    assert (response.status, response.header("connection"), rest) == (status, "close", b"")


def test_http10_without_host_is_served(port: int) -> None:
    response, _ = answer_and_rest(port, b"GET /old HTTP/1.0\r\n\r\n")
    assert (response.status, response.body) == (200, b"GET /old body=0")
