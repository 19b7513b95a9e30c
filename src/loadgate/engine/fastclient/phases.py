"""Timing phases of geventhttpclient's requests: connect, TLS handshake, first byte, download.

Both geventhttpclient users, `--client fast` (FastSession) and Locust's
FastHttpUser, open connections in geventhttpclient's ConnectionPool and read
answers with its HTTPSocketPoolResponse, so timing those classes times both.
`install_phase_timing` wraps, once per process and only under `--timings`
(a run without it pays nothing):

- `ConnectionPool._connect_socket`: the TCP connect of a new connection;
  `SSLConnectionPool._connect_socket` (which calls the former, then wraps
  the socket): the TLS handshake is its time less the connect's. Both are
  kept in the pool, keyed by the new socket, until a response takes them
  (or the pool releases the socket unused).
- `HTTPSocketPoolResponse.__init__`, called once the request is sent: it
  reads the headers, so the time to first byte runs from its start to its
  end (k6's "waiting": sending the request is not in it).
- `HTTPSocketResponse._on_message_complete`, which the parser calls at the
  body's end: the download runs from the end of the headers to there (0
  when the body came with the headers).

A request on a kept-alive connection has no connect or TLS phase at all
(None), rather than a zero: the run's connect and TLS percentiles are those
of the connections it opened, and their count over the requests' is the
share of requests that opened one. With redirects, the phases are the last
response's.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from geventhttpclient.connectionpool import ConnectionPool, SSLConnectionPool
from geventhttpclient.response import HTTPSocketPoolResponse, HTTPSocketResponse

from loadgate.engine.collector import PHASES_ATTRIBUTE

# A pool's new connections that no response has taken yet: socket -> (connect_s, tls_s).
_FRESH_ATTRIBUTE = "_loadgate_fresh"
_INSTALLED_ATTRIBUTE = "_loadgate_phase_timing"

_Fresh = dict[Any, tuple[float, float | None]]


class PhaseTimes:
    """One response's phases (engine.collector.Phases), from perf_counter marks taken while
    the response is read."""

    __slots__ = ("body_end_s", "connect_s", "headers_end_s", "sent_s", "tls_s")

    def __init__(self, connect_s: float | None, tls_s: float | None, sent_s: float) -> None:
        self.connect_s = connect_s  # None: a kept-alive connection
        self.tls_s = tls_s  # None: kept alive, or not TLS
        self.sent_s = sent_s
        self.headers_end_s: float | None = None  # None: the headers never came
        self.body_end_s: float | None = None  # None: the body was not (yet) read to its end

    @property
    def ttfb_s(self) -> float | None:
        return None if self.headers_end_s is None else self.headers_end_s - self.sent_s

    @property
    def download_s(self) -> float | None:
        if self.body_end_s is None or self.headers_end_s is None:
            return None
        return max(0.0, self.body_end_s - self.headers_end_s)


def _fresh(pool: ConnectionPool) -> _Fresh:
    held: _Fresh | None = pool.__dict__.get(_FRESH_ATTRIBUTE)
    if held is None:
        held = {}
        setattr(pool, _FRESH_ATTRIBUTE, held)
    return held


def install_phase_timing() -> None:
    """Wrap geventhttpclient's pool and response classes (once; for the whole process)."""
    if getattr(ConnectionPool, _INSTALLED_ATTRIBUTE, False):
        return
    tcp_connect = ConnectionPool._connect_socket
    tls_connect = SSLConnectionPool._connect_socket
    release_socket = ConnectionPool.release_socket
    response_init = HTTPSocketPoolResponse.__init__
    message_complete = HTTPSocketResponse._on_message_complete

    def timed_tcp_connect(self: ConnectionPool, sock: Any, address: Any) -> Any:
        start_s = perf_counter()
        connected = tcp_connect(self, sock, address)
        _fresh(self)[connected] = (perf_counter() - start_s, None)
        return connected

    def timed_tls_connect(self: SSLConnectionPool, sock: Any, address: Any) -> Any:
        start_s = perf_counter()
        fresh = _fresh(self)
        try:
            wrapped = tls_connect(self, sock, address)
        finally:
            connect_s, _ = fresh.pop(sock, (0.0, None))
        fresh[wrapped] = (connect_s, perf_counter() - start_s - connect_s)
        return wrapped

    def forgetting_release(self: ConnectionPool, sock: Any) -> None:
        _fresh(self).pop(sock, None)
        release_socket(self, sock)

    def timed_response_init(
        self: HTTPSocketPoolResponse, sock: Any, pool: ConnectionPool, **kw: Any
    ) -> None:
        connect_s, tls_s = _fresh(pool).pop(sock, (None, None))
        phases = PhaseTimes(connect_s, tls_s, perf_counter())
        setattr(self, PHASES_ATTRIBUTE, phases)
        response_init(self, sock, pool, **kw)
        phases.headers_end_s = perf_counter()

    def timed_message_complete(self: HTTPSocketResponse) -> None:
        phases = self.__dict__.get(PHASES_ATTRIBUTE)
        if phases is not None:
            phases.body_end_s = perf_counter()
        message_complete(self)

    setattr(ConnectionPool, "_connect_socket", timed_tcp_connect)  # noqa: B010
    setattr(SSLConnectionPool, "_connect_socket", timed_tls_connect)  # noqa: B010
    setattr(ConnectionPool, "release_socket", forgetting_release)  # noqa: B010
    setattr(HTTPSocketPoolResponse, "__init__", timed_response_init)  # noqa: B010
    setattr(HTTPSocketResponse, "_on_message_complete", timed_message_complete)  # noqa: B010
    setattr(ConnectionPool, _INSTALLED_ATTRIBUTE, True)
