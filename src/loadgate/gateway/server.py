"""A lean HTTP/1.1 server: an asyncio Protocol over httptools, keep-alive, one handler.

Why not an ASGI server: the gateway's budget is a few hundred microseconds per
proxied request on one core, and the ASGI layer (scope dicts, receive/send
coroutines) costs a large share of it. The gateway, the mock upstreams and the
admin API all use this server, each with its own handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

import httptools

from loadgate.gateway.messages import Request, Response, error_response, status_line

Handler = Callable[[Request], Awaitable[Response]]
log = logging.getLogger("loadgate.gateway")

# Requests a client may pipeline before we stop reading from it.
MAX_PIPELINED = 16
PACE_INTERVAL_S = 0.05


@dataclass(frozen=True, kw_only=True)
class ServerLimits:
    """What one server accepts from a client connection."""

    max_body_bytes: int = 1 << 20
    keep_alive_s: float = 75.0


def bind_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket; with reuse_port several processes share one port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(2048)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class DateHeader:
    """The Date header value, formatted once per second rather than per response."""

    def __init__(self) -> None:
        self._second = 0
        self._value = b""

    def value(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._value = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now)).encode()
        return self._value


class HttpServer:
    """Serves one handler on one or more listening sockets."""

    def __init__(self, handler: Handler, limits: ServerLimits, name: str = "") -> None:
        self.handler = handler
        self.limits = limits
        self.name = name
        self.date = DateHeader()
        self.connections: set[HttpProtocol] = set()
        self._servers: list[asyncio.Server] = []

    async def start(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: HttpProtocol(self), sock=sock)
        self._servers.append(server)

    def stop_listening(self) -> None:
        for server in self._servers:
            server.close()
        self._servers.clear()

    def abort_connections(self) -> None:
        for connection in list(self.connections):
            connection.abort()

    async def close(self, grace_s: float = 1.0) -> None:
        """Stop accepting, let requests in progress finish for up to grace_s, then cut."""
        self.stop_listening()
        for connection in list(self.connections):
            connection.close_when_idle()
        deadline = time.monotonic() + grace_s
        while self.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        self.abort_connections()


class HttpProtocol(asyncio.Protocol):
    """One client connection: parses requests and answers them in order."""

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._handler = server.handler
        self._max_body_bytes = server.limits.max_body_bytes
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._client_ip = ""
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._body_size = 0
        self._pending: deque[Request] = deque()
        self._busy = False
        self._closing = False
        self._idle_timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, hence the cast.
        transport = cast(asyncio.Transport, transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self._client_ip = peer[0] if peer else ""
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._server.connections.add(self)
        self._arm_idle_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
        self._closing = True
        self._cancel_idle_timer()
        self._pending.clear()

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._reject(400, "upgrade_not_supported", "protocol upgrades are not supported")
        except httptools.HttpParserError:
            self._reject(400, "bad_request", "the request is not valid HTTP/1.1")

    # httptools callbacks

    def on_message_begin(self) -> None:
        self._cancel_idle_timer()
        self._url = b""
        self._headers = []
        self._body = []
        self._body_size = 0

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        # Beyond the limit the body is read and dropped, so the 413 can still be sent
        # on a connection the client is not in the middle of writing to.
        if self._body_size <= self._max_body_bytes:
            self._body.append(body)

    def on_message_complete(self) -> None:
        parser = self._parser
        request = Request(
            method=parser.get_method().decode("latin-1"),
            target=self._url,
            headers=self._headers,
            body=b"".join(self._body) if len(self._body) != 1 else self._body[0],
            client_ip=self._client_ip,
            keep_alive=parser.should_keep_alive(),
            body_too_large=self._body_size > self._max_body_bytes,
        )
        if self._busy:
            self._pending.append(request)
            if len(self._pending) >= MAX_PIPELINED and self._transport is not None:
                self._transport.pause_reading()
            return
        self._busy = True
        # Held so the task is not garbage-collected while it runs.
        self._task = asyncio.get_running_loop().create_task(self._serve(request))

    # answering

    async def _serve(self, request: Request) -> None:
        while True:
            try:
                response = await self._handler(request)
            except Exception:
                log.exception("%s: unhandled error for %s %s", self._server.name, request.method,
                              request.path)  # fmt: skip
                response = error_response(500, "internal_error", "the server failed")
            keep_alive = request.keep_alive and not self._closing
            if response.pace_bytes_per_s > 0:
                await self._write_paced(response, keep_alive)
            else:
                self._write(response, keep_alive)
            if not keep_alive:
                self._close()
                return
            if not self._pending:
                break
            request = self._pending.popleft()
            if self._transport is not None and len(self._pending) < MAX_PIPELINED // 2:
                self._transport.resume_reading()
        self._busy = False
        if self._closing:
            self._close()
        else:
            self._arm_idle_timer()

    def _head(self, response: Response, keep_alive: bool) -> bytes:
        parts = [status_line(response.status)]
        for name, value in response.headers:
            parts += (name, b": ", value, b"\r\n")
        parts += (
            b"Content-Length: %d\r\nDate: " % len(response.body),
            self._server.date.value(),
            b"\r\n\r\n" if keep_alive else b"\r\nConnection: close\r\n\r\n",
        )
        return b"".join(parts)

    def _write(self, response: Response, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(self._head(response, keep_alive) + response.body)

    async def _write_paced(self, response: Response, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(self._head(response, keep_alive))
        chunk_size = max(1, int(response.pace_bytes_per_s * PACE_INTERVAL_S))
        body = response.body
        for start in range(0, len(body), chunk_size):
            if transport.is_closing():
                return
            if start:
                await asyncio.sleep(PACE_INTERVAL_S)
            transport.write(body[start : start + chunk_size])

    def _reject(self, status: int, error: str, message: str) -> None:
        self._write(error_response(status, error, message), keep_alive=False)
        self._close()

    # lifetime

    def _arm_idle_timer(self) -> None:
        loop = asyncio.get_running_loop()
        self._idle_timer = loop.call_later(self._server.limits.keep_alive_s, self._close)

    def _cancel_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def close_when_idle(self) -> None:
        self._closing = True
        if not self._busy:
            self._close()

    def _close(self) -> None:
        self._cancel_idle_timer()
        if self._transport is not None and not self._transport.is_closing():
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()
