"""One client connection of the HTTP/1.1 server: reading requests, answering them in order.

Each connection answers its requests strictly in order (pipelining included):
a request the server refuses (malformed, too large, too slow) is queued behind
the responses still due and is the last thing written before the close. Why
every close after a refusal is a lingering one (FIN first, then what the
client still sends is read and dropped for up to `linger_s`): closing a socket
with unread input makes the kernel send a reset, and a reset can destroy the
refusal in the client's receive buffer before the client reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from typing import TYPE_CHECKING, cast

import httptools

from loadgate.gateway.framing import (
    CONTINUE,
    END_CLOSE,
    END_KEEP,
    END_KEEP_HTTP10,
    bodiless_head,
    head_refusal,
    head_request_head,
    payload_too_large,
    response_head,
    upgrade_refusal,
)
from loadgate.gateway.messages import Request, Response, error_response

if TYPE_CHECKING:
    from loadgate.gateway.server import HttpServer

log = logging.getLogger("loadgate.gateway")

# Requests a client may pipeline before we stop reading from it.
MAX_PIPELINED = 16
PACE_INTERVAL_S = 0.05

# Bytes of a head beyond its target and header fields: method, version, line ends.
HEAD_SLACK = 1024

# What the parser is reading.
_BETWEEN, _HEAD, _BODY = 0, 1, 2
# What the connection's one timer is for.
_IDLE, _HEAD_TIMEOUT, _BODY_TIMEOUT, _LINGER = 0, 1, 2, 3


class _StopParsingError(Exception):
    """Raised from a parser callback to stop parsing: nothing after this point is answered."""


class HttpProtocol(asyncio.Protocol):
    """One client connection: parses requests and answers them in order."""

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._handler = server.handler
        self._limits = limits = server.limits
        self._max_body_bytes = limits.max_body_bytes
        self._max_url_bytes = limits.max_url_bytes
        self._max_headers = limits.max_headers
        self._max_header_bytes = limits.max_header_bytes
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._client_ip = ""
        # The request being read.
        self._reading = _BETWEEN
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_map: dict[bytes, bytes] = {}
        self._version = "1.1"
        self._body: list[bytes] = []
        self._body_size = 0
        # Bytes of the head in earlier reads; -1 while the head began in the current read.
        self._head_bytes = 0
        self._read_bytes = 0
        self._continue_owed = False
        # Answering: requests (or the final refusal, a Response) waiting their turn.
        self._pending: deque[Request | Response] = deque()
        self._busy = False
        self._paused = False
        self._stopped = False  # no further request will be read
        self._closing = False  # close once the requests already read are answered
        self._client_eof = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_kind = _IDLE
        self._body_read_at = 0.0
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
        # A new connection gets the header timeout to send its first byte, not keep_alive_s.
        self._arm(self._limits.header_timeout_s, _IDLE)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
        self._closing = self._stopped = True
        self._cancel_timer()
        self._pending.clear()

    def eof_received(self) -> bool:
        # A client may half-close after its last request: answer what was read, then close.
        self._stopped = self._client_eof = True
        if self._busy:
            self._closing = True
            return True
        return False

    def data_received(self, data: bytes) -> None:
        if self._stopped:
            return  # after the last request or a refusal: read only to drain, see the docstring
        self._read_bytes = len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._stopped = True  # not expected: on_message_complete stops after an Upgrade
        except httptools.HttpParserError:
            if not self._stopped:  # else a callback refused, or the last request was read
                self._refuse(error_response(400, "bad_request", "the request is not HTTP/1.1"))
        if self._stopped:
            return
        if self._reading == _BETWEEN and self._busy:
            # The usual read: whole requests, answers due. A head or body timer is done.
            if self._timer is not None:
                self._cancel_timer()
        else:
            self._after_read()

    # httptools callbacks

    def on_message_begin(self) -> None:
        self._reading = _HEAD
        self._head_bytes = -1
        self._url = b""
        self._headers = []
        self._header_map = {}
        self._body = []
        self._body_size = 0

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > self._max_url_bytes:
            # RFC 9112 §3: a request-target longer than the server will parse is a 414.
            self._refuse(error_response(414, "uri_too_long", "the request target is too long"))
            raise _StopParsingError

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._reading == _BODY:
            self._on_trailer(name, value)
            return
        self._headers.append((name, value))
        self._header_map[name.lower()] = value

    def on_headers_complete(self) -> None:
        self._reading = _BODY
        parser = self._parser
        self._version = parser.get_http_version()
        refusal = head_refusal(self._version, self._header_map, self._headers, self._max_body_bytes)
        # The bound on the head's size (the bytes of the reads it spans) spares the exact
        # sum in _head_limits for heads that cannot be over the limit.
        if (
            len(self._headers) > self._max_headers
            or self._read_bytes + max(self._head_bytes, 0) > self._max_header_bytes
        ):
            refusal = self._head_limits() or refusal
        if refusal is None and b"upgrade" in self._header_map and parser.should_upgrade():
            refusal = upgrade_refusal(self._header_map)
        if refusal is not None:
            self._refuse(refusal)
            raise _StopParsingError
        if b"expect" in self._header_map:
            self._expect_continue()

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self._max_body_bytes:
            # Only a chunked body gets here: a Content-Length above the cap was refused
            # with the head, before any of its body was read.
            self._refuse(payload_too_large())
            raise _StopParsingError
        self._body.append(body)

    def on_message_complete(self) -> None:
        parser = self._parser
        self._reading = _BETWEEN
        self._continue_owed = False  # the client sent its body without waiting for the 100
        # We never switch protocols (RFC 9110 §7.8 lets a server ignore Upgrade), but
        # llhttp stops after such a request: it is answered, then the connection closed.
        keep_alive = parser.should_keep_alive() and not parser.should_upgrade()
        request = Request(
            method=parser.get_method().decode("latin-1"),
            target=self._url,
            headers=self._headers,
            body=b"".join(self._body) if len(self._body) != 1 else self._body[0],
            client_ip=self._client_ip,
            keep_alive=keep_alive,
            version=self._version,
            header_map=self._header_map,
        )
        self._dispatch(request)
        if not keep_alive:
            # Whatever follows will never be answered: stop parsing it.
            self._stopped = True
            raise _StopParsingError

    # reading: limits, timeouts and refusals

    def _head_limits(self) -> Response | None:
        """431 for too many header lines or too many header bytes (RFC 6585 §5)."""
        headers = self._headers
        if len(headers) > self._max_headers:
            return error_response(431, "header_fields_too_large", "too many header fields")
        if sum(len(name) + len(value) + 4 for name, value in headers) > self._max_header_bytes:
            return error_response(431, "header_fields_too_large", "the header fields are too large")
        return None

    def _on_trailer(self, name: bytes, value: bytes) -> None:
        # Trailer fields are not merged into the headers (RFC 9110 §6.5.1); they count
        # against the body's cap so that a client cannot send them without end.
        self._body_size += len(name) + len(value)
        if self._body_size > self._max_body_bytes:
            self._refuse(payload_too_large())
            raise _StopParsingError

    def _expect_continue(self) -> None:
        """Send 100 Continue for a body we will read (the Expect field is not the handler's)."""
        headers = self._headers
        self._headers = [h for h in headers if h[0].lower() != b"expect"]
        del self._header_map[b"expect"]
        has_body = (b"transfer-encoding" in self._header_map
                    or self._header_map.get(b"content-length", b"0") != b"0")  # fmt: skip
        if not has_body or self._version == "1.0":  # RFC 9110 §10.1.1: ignored in HTTP/1.0
            return
        if self._busy:
            # The 100 must not overtake the final response to an earlier request.
            self._continue_owed = True
        elif self._transport is not None:
            self._transport.write(CONTINUE)

    def _after_read(self) -> None:
        """Arm the timer that fits what the connection now waits for."""
        reading = self._reading
        if reading == _HEAD:
            if self._head_bytes < 0:  # a head began in this read
                self._head_bytes = 0
                self._arm(self._limits.header_timeout_s, _HEAD_TIMEOUT)
            else:
                # httptools holds a header line until it ends: bound what it holds.
                self._head_bytes += self._read_bytes
                if self._head_bytes > self._max_url_bytes + self._max_header_bytes + HEAD_SLACK:
                    self._refuse(error_response(
                        431, "header_fields_too_large", "the header fields are too large"
                    ))  # fmt: skip
        elif reading == _BODY:
            # The body timeout counts from the last read: note the time, keep a running
            # body timer (the one of a body begun in an earlier read, see _on_timer).
            self._body_read_at = self._loop.time()
            if self._timer is None or self._timer_kind != _BODY_TIMEOUT:
                self._arm(self._limits.body_timeout_s, _BODY_TIMEOUT)
        else:
            self._arm(self._limits.keep_alive_s, _IDLE)

    def _on_timer(self) -> None:
        self._timer = None
        kind = self._timer_kind
        if kind in (_IDLE, _LINGER):
            self._close()
            return
        if self._reading == _BETWEEN:
            return  # the request being timed was read in the meantime
        limit_s = self._limits.header_timeout_s
        if kind == _BODY_TIMEOUT:
            limit_s = self._limits.body_timeout_s
            left_s = self._body_read_at + limit_s - self._loop.time()
            if left_s > 0:
                self._arm(left_s, kind)
                return
        if self._paused or self._continue_owed:
            # We stopped reading (too many requests queued) or owe the client its 100
            # Continue: the wait is ours, not the client's, so wait again.
            self._arm(limit_s, kind)
            return
        # RFC 9110 §15.5.9: a 408, then the connection is closed.
        self._refuse(error_response(408, "request_timeout", "the request was not received in time"))

    def _refuse(self, response: Response) -> None:
        """Answer with `response` once the requests before it are answered, then close."""
        self._stopped = True
        self._reading = _BETWEEN
        self._cancel_timer()
        if self._server.on_refusal is not None:
            # Counted before it is written: a client that has read it sees it counted.
            self._server.on_refusal(response.status)
        self._dispatch(response)

    # answering

    def _dispatch(self, item: Request | Response) -> None:
        if self._busy:
            self._pending.append(item)
            if len(self._pending) >= MAX_PIPELINED and self._transport is not None:
                self._paused = True
                self._transport.pause_reading()
        elif isinstance(item, Response):
            self._write(item, False, END_CLOSE)
            self._finish()
        else:
            self._busy = True
            self._cancel_timer()
            # Held so the task is not garbage-collected while it runs.
            self._task = self._loop.create_task(self._serve(item))

    async def _serve(self, request: Request) -> None:
        while True:
            try:
                response = await self._handler(request)
            except Exception:
                response = self._failed(request, None)
            if response.status < 200:
                # An interim status cannot end an exchange: the client would wait on.
                response = self._failed(request, response.status)
            keep_alive = request.keep_alive and not (self._closing and not self._pending)
            end = END_KEEP if keep_alive else END_CLOSE
            if keep_alive and request.version == "1.0":
                end = END_KEEP_HTTP10
            if response.pace_bytes_per_s > 0:
                await self._write_paced(response, request.method == "HEAD", end)
            else:
                self._write(response, request.method == "HEAD", end)
            if not keep_alive:
                self._finish()
                return
            if not self._pending:
                break
            item = self._pending.popleft()
            if self._paused and len(self._pending) < MAX_PIPELINED // 2:
                self._resume_reading()
            if isinstance(item, Response):
                self._write(item, False, END_CLOSE)
                self._finish()
                return
            request = item
        self._busy = False
        if self._closing:
            self._close()
        elif self._continue_owed:
            self._continue_owed = False
            self._body_read_at = self._loop.time()  # the body's wait starts now
            if self._transport is not None:
                self._transport.write(CONTINUE)
        elif self._reading == _BETWEEN:
            self._arm(self._limits.keep_alive_s, _IDLE)

    def _failed(self, request: Request, interim_status: int | None) -> Response:
        if interim_status is None:
            log.exception("%s: unhandled error for %s %s", self._server.name, request.method,
                          request.path)  # fmt: skip
        else:
            log.error("%s: the handler answered %s %s with %d", self._server.name,
                      request.method, request.path, interim_status)  # fmt: skip
        return error_response(500, "internal_error", "the server failed")

    def _head(self, response: Response, head_request: bool, end: bytes) -> tuple[bytes, bytes]:
        """The head to write and the body that follows it (none for HEAD, 204, 304)."""
        date = self._server.date.value()
        status = response.status
        if status < 200 or status in (204, 304):  # RFC 9110 §6.4.1
            return bodiless_head(response, date, end), b""
        if head_request:
            return head_request_head(response, date, end), b""
        return response_head(response, len(response.body), date, end), response.body

    def _write(self, response: Response, head_request: bool, end: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        head, body = self._head(response, head_request, end)
        transport.write(head + body)

    async def _write_paced(self, response: Response, head_request: bool, end: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        head, body = self._head(response, head_request, end)
        transport.write(head)
        chunk_size = max(1, int(response.pace_bytes_per_s * PACE_INTERVAL_S))
        for start in range(0, len(body), chunk_size):
            if transport.is_closing():
                return
            if start:
                await asyncio.sleep(PACE_INTERVAL_S)
            transport.write(body[start : start + chunk_size])

    # lifetime

    def _arm(self, delay_s: float, kind: int) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_kind = kind
        self._timer = self._loop.call_later(delay_s, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def close_when_idle(self) -> None:
        self._closing = self._stopped = True
        if not self._busy:
            self._close()

    def _finish(self) -> None:
        """Close after the last response, lingering (see the module docstring)."""
        transport = self._transport
        self._stopped = True
        if transport is None or transport.is_closing():
            return
        if self._client_eof or not transport.can_write_eof():
            self._close()
            return
        self._resume_reading()
        transport.write_eof()
        self._arm(self._limits.linger_s, _LINGER)

    def _resume_reading(self) -> None:
        if self._paused and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()

    def _close(self) -> None:
        self._cancel_timer()
        if self._transport is not None and not self._transport.is_closing():
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()
