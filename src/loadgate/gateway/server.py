"""A lean HTTP/1.1 server: an asyncio Protocol over httptools, keep-alive, one handler.

Why not an ASGI server: the gateway's budget is a few hundred microseconds per
proxied request on one core, and the ASGI layer (scope dicts, receive/send
coroutines) costs a large share of it. The gateway, the mock upstreams and the
admin API all use this server, each with its own handler. What
HTTP/1.1 asks of each connection (ordering, limits, timeouts, closes) is in
connection.py.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from loadgate.gateway.connection import HttpProtocol
from loadgate.gateway.messages import Request, Response

Handler = Callable[[Request], Awaitable[Response]]
# Told the status of each answer the server makes on its own (400, 408, 413, ...):
# those requests never reach the handler, so its own counts cannot include them.
RefusalHook = Callable[[int], None]


@dataclass(frozen=True, kw_only=True)
class ServerLimits:
    """What one server accepts from a client connection (README: "HTTP/1.1 and limits").

    Defaults follow nginx (8 KiB request line, 32 KiB of headers in 4 × 8 KiB
    buffers) and Envoy (100 headers); the timeouts are shorter than nginx's
    60 s because a load test's clients are either fast or broken.
    """

    max_body_bytes: int = 1 << 20
    keep_alive_s: float = 75.0
    max_url_bytes: int = 8192
    max_header_bytes: int = 32768
    max_headers: int = 100
    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    linger_s: float = 2.0


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
    """Serves one handler on one or more listening sockets.

    `on_refusal`, if given, is called with the status of every refusal (it runs on
    the event loop, so it must be quick and must not raise).
    """

    def __init__(
        self,
        handler: Handler,
        limits: ServerLimits,
        name: str = "",
        *,
        on_refusal: RefusalHook | None = None,
    ) -> None:
        self.handler = handler
        self.limits = limits
        self.name = name
        self.on_refusal = on_refusal
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
