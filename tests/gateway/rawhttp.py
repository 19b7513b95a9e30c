"""Raw-socket HTTP/1.1 for the server tests: an HttpServer in a thread, and a response reader.

No HTTP client library sits between a test and the server: requests are the
bytes a test writes, responses are parsed here from the bytes read, so a test
sees exactly what a client would (order, framing, interim responses, closes).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import uvloop

from loadgate.gateway.messages import Request, Response
from loadgate.gateway.server import Handler, HttpServer, RefusalHook, ServerLimits, bind_socket

TIMEOUT_S = 5.0


@contextmanager
def serving(
    handler: Handler, limits: ServerLimits | None = None, on_refusal: RefusalHook | None = None
) -> Iterator[int]:
    """Serve `handler` on a free port of 127.0.0.1 (uvloop, as the gateway does); yield the port.

    The loop lives on its thread from start to end: the main thread may already
    have a running loop of its own (Playwright's sync API keeps one for the
    session), and asyncio allows one running loop per thread.
    """
    loop = uvloop.new_event_loop()
    server = HttpServer(handler, limits or ServerLimits(), "test", on_refusal=on_refusal)
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(sock), loop).result(TIMEOUT_S)
    try:
        yield port
    finally:
        asyncio.run_coroutine_threadsafe(server.close(grace_s=0.1), loop).result(TIMEOUT_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(TIMEOUT_S)
        loop.close()


def connect(port: int, timeout_s: float = TIMEOUT_S) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
    sock.settimeout(timeout_s)
    return sock


@dataclass
class RawResponse:
    """One response as read from the socket."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    head: bytes = field(repr=False)

    def all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[-1] if values else None

    def count(self, name: str) -> int:
        return len(self.all(name))


def parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    """The first line and the header fields of a message head (without the blank line)."""
    first, *lines = head.decode("latin-1").split("\r\n")
    fields = []
    for line in lines:
        name, _, value = line.partition(":")
        fields.append((name.strip(), value.strip()))
    return first, fields


class Reader:
    """Reads responses from one socket, within a deadline for the whole test step."""

    def __init__(self, sock: socket.socket, timeout_s: float = TIMEOUT_S) -> None:
        self.sock = sock
        self.buffer = b""
        self.deadline = time.monotonic() + timeout_s
        self.closed = False  # the server sent FIN (or reset) and we read it

    def _fill(self) -> bool:
        """One more read into the buffer; False at the end of the stream."""
        if self.closed:
            return False
        left_s = self.deadline - time.monotonic()
        if left_s <= 0:
            raise TimeoutError(f"nothing more before the deadline; have {self.buffer[:200]!r}")
        self.sock.settimeout(left_s)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            return False
        self.buffer += data
        return True

    def response(self, *, head_request: bool = False) -> RawResponse:
        """The next response; its body framed by Content-Length, as the server frames it.

        1xx, 204 and 304 responses have no body, whatever they announce (RFC 9110 §6.4.1).
        """
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise EOFError(f"closed before a response head: {self.buffer[:200]!r}")
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        first, headers = parse_head(head)
        version, status, *_ = first.split(" ", 2)
        assert version == "HTTP/1.1", first
        response = RawResponse(int(status), headers, b"", head)
        length = response.header("content-length")
        if head_request or length is None or response.status < 200 or response.status in (204, 304):
            return response
        while len(self.buffer) < int(length):
            if not self._fill():
                raise EOFError(f"the connection closed inside a body, {len(self.buffer)} bytes in")
        response.body, self.buffer = self.buffer[: int(length)], self.buffer[int(length) :]
        return response

    def rest(self) -> bytes:
        """Everything until the server closes the connection (TimeoutError if it does not)."""
        while self._fill():
            pass
        rest, self.buffer = self.buffer, b""
        return rest

    def final_response(self, *, head_request: bool = False) -> RawResponse:
        """The next final response; interim (1xx) ones before it are skipped."""
        while (response := self.response(head_request=head_request)).status < 200:
            pass
        return response


class RawClient:
    """One client connection: requests written as bytes, each final response read back."""

    def __init__(self, port: int, timeout_s: float = TIMEOUT_S) -> None:
        self.sock = connect(port, timeout_s)
        self._timeout_s = timeout_s
        self._reader = Reader(self.sock, timeout_s)

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.sock.close()

    def request(
        self, method: str, target: str, headers: tuple[str, ...] = (), body: bytes = b""
    ) -> RawResponse:
        """Send one request (Host 127.0.0.1 unless `headers` has one) and read its answer."""
        has_host = any(h.lower().startswith("host:") for h in headers)
        lines = [f"{method} {target} HTTP/1.1", *(() if has_host else ("Host: 127.0.0.1",))]
        lines += headers
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.sock.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        self._reader.deadline = time.monotonic() + self._timeout_s
        return self._reader.final_response(head_request=method == "HEAD")


def raw_request(port: int, method: str, target: str, *headers: str) -> RawResponse:
    """One request on a connection of its own."""
    with RawClient(port) as client:
        return client.request(method, target, headers)


def answer_and_rest(port: int, data: bytes) -> tuple[RawResponse, bytes]:
    """Send `data`, read one response and whatever follows it until the server closes."""
    with connect(port) as sock:
        sock.sendall(data)
        reader = Reader(sock)
        return reader.response(), reader.rest()


def get(path: str = "/", *headers: str, method: str = "GET") -> bytes:
    """A request head with Host and the given extra header lines."""
    lines = [f"{method} {path} HTTP/1.1", "Host: test", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def echo(request: Request) -> Response:
    """A handler that describes the request: `?ms=N` answers after N ms, `?status=N` with N,
    `?size=N` pads the body to N bytes."""
    params = dict(parse_qsl(request.query))
    if "ms" in params:
        await asyncio.sleep(int(params["ms"]) / 1000)
    body = b"%s %s body=%d" % (request.method.encode(), request.target, len(request.body))
    if "size" in params:
        body = body.ljust(int(params["size"]), b".")
    headers = [
        (b"Content-Type", b"text/plain"),
        (b"X-Header-Names", b",".join(name.lower() for name, _ in request.headers)),
    ]
    return Response(int(params.get("status", "200")), headers, body)
