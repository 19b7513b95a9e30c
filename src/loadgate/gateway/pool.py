"""Keep-alive connection pools to upstream instances: an HTTP/1.1 client over httptools.

One `UpstreamPool` per upstream service, round robin over its instances, each
instance with at most `max_connections` connections. A request that finds
every connection busy waits in a bounded queue (`max_pending`) for at most
`pool_timeout_s`; beyond either it fails with kind "pool" (the gateway's 503).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import cast

import httptools

from loadgate.gateway.config import ServerConfig, UpstreamConfig
from loadgate.gateway.messages import Headers

# Idle connections older than this are dropped rather than reused, so the gateway
# never writes to a connection the upstream (75 s keep-alive) is about to close.
MAX_IDLE_S = 30.0
DEFAULT_MAX_BODY_BYTES = ServerConfig.max_upstream_body_bytes
# httptools buffers a head however long it grows; past this the answer is a 502
# (nginx's default proxy_buffer_size is 4-8 KiB: real heads are far below).
MAX_HEAD_BYTES = 64 * 1024


class UpstreamError(Exception):
    """An attempt that got no usable response.

    kind: connect, reset, timeout, pool, protocol, truncated (the body ended
    early), body_too_large (over the gateway's cap).
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class UpstreamResponse:
    """Status, headers and the whole body of an upstream's answer.

    `connection`: the values of its Connection headers (what they name is hop-by-hop).
    """

    __slots__ = ("body", "connection", "headers", "status")

    def __init__(
        self, status: int, headers: Headers, body: bytes, connection: list[bytes] | None = None
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.connection = connection


class _StopParsingError(Exception):
    """Raised from a parser callback so httptools drops the rest of what it was fed."""


class UpstreamConnection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[UpstreamResponse] | None = None
        self._max_body_bytes = max_body_bytes
        self._status = 0
        self._headers: Headers = []
        self._connection: list[bytes] | None = None
        self._body: list[bytes] = []
        self._body_size = 0
        self._headers_done = False
        self._head_bytes = 0  # read so far of a head not yet complete
        self._length = -1  # Content-Length, -1 when absent
        self._chunked = False
        self._head_only = False
        # Set while an abandoned parser (after a HEAD response) finishes its last feed.
        self._ignoring = False
        self.closed = False
        self.reusable = True
        self.last_used = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if not self._headers_done:
            waiter.set_exception(UpstreamError("reset", "the upstream closed the connection"))
        elif self._length >= 0 or self._chunked:
            # The body announced a length (or chunks) and the close came first.
            waiter.set_exception(
                UpstreamError("truncated", "the upstream closed the connection mid-body")
            )
        else:
            # A body delimited by the end of the connection is complete now.
            self._finish()

    def data_received(self, data: bytes) -> None:
        if not self._headers_done:
            if self._head_bytes > MAX_HEAD_BYTES:
                self._fail(UpstreamError("protocol", "the upstream's response head is too large"))
                return
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(UpstreamError("protocol", "the upstream switched protocols"))
        except httptools.HttpParserError:
            self._fail(UpstreamError("protocol", "the upstream sent invalid HTTP"))
        finally:
            self._ignoring = False

    # httptools callbacks

    def on_message_begin(self) -> None:
        if self._ignoring:
            return
        self._headers = []
        self._connection = None
        self._body = []
        self._body_size = 0
        self._headers_done = False
        self._length = -1  # Content-Length, -1 when absent
        self._chunked = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._ignoring:
            return
        self._headers.append((name, value))
        size = len(name)
        if size == 14 and name.lower() == b"content-length":
            # httptools has already refused a value that is not a number.
            self._length = int(value) if value.isdigit() else 0
        elif size == 17 and name.lower() == b"transfer-encoding":
            self._chunked = b"chunked" in value.lower()
        elif size == 10 and name.lower() == b"connection":
            if self._connection is None:
                self._connection = []
            self._connection.append(value)

    def on_headers_complete(self) -> None:
        if self._ignoring:
            return
        self._status = self._parser.get_status_code()
        self._head_bytes = 0
        if self._status < 200:
            return  # an interim response (100, 102, 103): the real one follows
        self._headers_done = True
        if self._head_only:
            self._finish_head()
        elif self._length > self._max_body_bytes and self._status not in (204, 304):
            # Refused on the announcement, before a byte of the body is buffered.
            self._too_large()

    def on_body(self, body: bytes) -> None:
        if self._ignoring:
            return
        self._body_size += len(body)
        if self._body_size > self._max_body_bytes:
            self._too_large()
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._ignoring or self._status < 200:
            return
        self.reusable = self._parser.should_keep_alive()
        self._finish()

    def _finish(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
            waiter.set_result(UpstreamResponse(self._status, self._headers, body, self._connection))

    def _finish_head(self) -> None:
        """A HEAD response ends with its head, whatever length it announces.

        httptools cannot be told that a response belongs to a HEAD request, so
        it would wait for the announced body; this parser is dropped instead
        and the next response starts on a fresh one.
        """
        self.reusable = self._parser.should_keep_alive()
        self._finish()
        self._parser = httptools.HttpResponseParser(self)
        self._ignoring = True

    def _too_large(self) -> None:
        self._fail(
            UpstreamError(
                "body_too_large",
                f"the upstream's body is larger than {self._max_body_bytes} bytes",
            )
        )
        raise _StopParsingError

    # used by the pool

    def send(self, data: bytes, head_only: bool = False) -> asyncio.Future[UpstreamResponse]:
        assert self._transport is not None
        waiter: asyncio.Future[UpstreamResponse] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self._head_only = head_only
        self._headers_done = False
        self._head_bytes = 0
        self._transport.write(data)
        return waiter

    def time_out(self) -> None:
        self._fail(UpstreamError("timeout", "the upstream did not answer in time"))

    def _fail(self, error: UpstreamError) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        # A late answer would be read as the next request's, so this connection is done.
        self.close()

    def close(self) -> None:
        self.closed = True
        self.reusable = False
        if self._transport is not None:
            self._transport.abort()


class Instance:
    """One upstream instance (host:port) and its connections."""

    def __init__(self, host: str, port: int, max_connections: int) -> None:
        self.host = host
        self.port = port
        self.max_connections = max_connections
        self.host_header = f"{host}:{port}".encode()
        self.idle: list[UpstreamConnection] = []
        self.open_count = 0

    def take_idle(self) -> UpstreamConnection | None:
        now = time.monotonic()
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed and now - connection.last_used < MAX_IDLE_S:
                return connection
            connection.close()
            self.open_count -= 1
        return None


Lease = tuple[Instance, UpstreamConnection | None]


class UpstreamPool:
    """Connections to every instance of one upstream service."""

    def __init__(
        self,
        config: UpstreamConfig,
        addresses: list[tuple[str, int]],
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.name = config.name
        self._config = config
        self._max_body_bytes = max_body_bytes
        self.instances = [Instance(h, p, config.max_connections) for h, p in addresses]
        self._next = 0
        self._waiters: deque[asyncio.Future[Lease]] = deque()

    async def acquire(self, deadline: float) -> tuple[Instance, UpstreamConnection]:
        """A connection to the next instance (round robin), opened if needed."""
        lease = self._try_lease()
        if lease is None:
            lease = await self._wait_for_lease(deadline)
        instance, connection = lease
        if connection is None:
            try:
                connection = await self._connect(instance, deadline)
            except BaseException:
                self._give_back_slot(instance)
                raise
        return instance, connection

    def _try_lease(self) -> Lease | None:
        count = len(self.instances)
        for offset in range(count):
            instance = self.instances[(self._next + offset) % count]
            connection = instance.take_idle()
            if connection is not None or instance.open_count < instance.max_connections:
                self._next = (self._next + offset + 1) % count
                if connection is None:
                    instance.open_count += 1
                return instance, connection
        return None

    async def _wait_for_lease(self, deadline: float) -> Lease:
        if len(self._waiters) >= self._config.max_pending:
            raise UpstreamError("pool", f"all connections to {self.name} are busy")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Lease] = loop.create_future()
        self._waiters.append(waiter)
        wait_s = min(self._config.pool_timeout_s, deadline - loop.time())
        handle = loop.call_later(max(0.0, wait_s), _expire, waiter, self.name)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # Handed a lease just as we were cancelled: pass it on, do not leak it.
                instance, connection = waiter.result()
                if connection is None:
                    self._give_back_slot(instance)
                else:
                    self.release(instance, connection)
            raise
        finally:
            handle.cancel()
            if not waiter.done() or waiter.cancelled():
                self._remove_waiter(waiter)

    def _remove_waiter(self, waiter: asyncio.Future[Lease]) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)

    async def _connect(self, instance: Instance, deadline: float) -> UpstreamConnection:
        loop = asyncio.get_running_loop()
        timeout_s = min(self._config.connect_timeout_s, deadline - loop.time())
        try:
            async with asyncio.timeout(max(0.0, timeout_s)):
                _, connection = await loop.create_connection(
                    lambda: UpstreamConnection(self._max_body_bytes), instance.host, instance.port
                )
        except TimeoutError:
            raise UpstreamError("connect", f"connecting to {self.name} timed out") from None
        except OSError as exc:
            raise UpstreamError("connect", f"cannot connect to {self.name}: {exc}") from None
        return connection

    def release(self, instance: Instance, connection: UpstreamConnection) -> None:
        """Return a connection after an exchange; broken ones free their slot."""
        if connection.closed or not connection.reusable:
            connection.close()
            self._give_back_slot(instance)
            return
        connection.last_used = time.monotonic()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result((instance, connection))
                return
        instance.idle.append(connection)

    def _give_back_slot(self, instance: Instance) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                # The waiter inherits the slot and opens its own connection.
                waiter.set_result((instance, None))
                return
        instance.open_count -= 1

    def close(self) -> None:
        for instance in self.instances:
            for connection in instance.idle:
                connection.close()
            instance.idle.clear()


def _expire(waiter: asyncio.Future[Lease], name: str) -> None:
    if not waiter.done():
        waiter.set_exception(UpstreamError("pool", f"no connection to {name} became free in time"))


async def exchange(
    connection: UpstreamConnection, data: bytes, deadline: float, head_only: bool = False
) -> UpstreamResponse:
    """Send one request and wait for its response until the loop time `deadline`.

    head_only: the request is a HEAD, so the response has no body to wait for.
    """
    loop = asyncio.get_running_loop()
    handle = loop.call_at(deadline, connection.time_out)
    try:
        return await connection.send(data, head_only)
    finally:
        handle.cancel()
