"""HTTP/1.1 request and response values shared by the gateway, its upstreams and the admin API."""

from __future__ import annotations

import json
from http import HTTPStatus
from types import MappingProxyType
from typing import Any

Headers = list[tuple[bytes, bytes]]

_STATUS_LINES = MappingProxyType(
    {
        status.value: f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode("latin-1")
        for status in HTTPStatus
    }
)
JSON_TYPE = b"application/json"


def status_line(status: int) -> bytes:
    """`HTTP/1.1 200 OK\\r\\n`, also for codes without a registered phrase."""
    line = _STATUS_LINES.get(status)
    return line if line is not None else b"HTTP/1.1 %d Status\r\n" % status


class Request:
    """One parsed request: method, target, headers, body (`header_map`: by lower-case name).

    The server answers `Expect: 100-continue` itself and leaves the Expect field
    out of `headers`; a body over its cap never reaches a handler (the server
    answers 413 on its own). `version` is "1.0" or "1.1".
    """

    __slots__ = (
        "body",
        "client_ip",
        "header_map",
        "headers",
        "keep_alive",
        "method",
        "path",
        "query",
        "target",
        "version",
    )

    def __init__(
        self,
        *,
        method: str,
        target: bytes,
        headers: Headers,
        body: bytes = b"",
        client_ip: str = "",
        keep_alive: bool = True,
        version: str = "1.1",
        header_map: dict[bytes, bytes] | None = None,
    ) -> None:
        self.method = method
        self.target = target
        path, _, query = target.partition(b"?")
        self.path = path.decode("latin-1")
        self.query = query.decode("latin-1")
        self.headers = headers
        # The server builds the map while parsing, where it needs it for its own checks.
        self.header_map = (
            header_map
            if header_map is not None
            else {name.lower(): value for name, value in headers}
        )
        self.body = body
        self.client_ip = client_ip
        self.keep_alive = keep_alive
        self.version = version

    def header(self, name: bytes) -> bytes | None:
        """The value of a header by lower-case name (the last one when repeated)."""
        return self.header_map.get(name)


class Response:
    """A complete response; `pace_bytes_per_s` > 0 sends the body slowly (the slow-body fault)."""

    __slots__ = ("body", "headers", "pace_bytes_per_s", "status")

    def __init__(
        self,
        status: int,
        headers: Headers | None = None,
        body: bytes = b"",
        pace_bytes_per_s: float = 0.0,
    ) -> None:
        self.status = status
        self.headers = headers if headers is not None else []
        self.body = body
        self.pace_bytes_per_s = pace_bytes_per_s


def json_body(document: Any) -> bytes:
    """Compact JSON, as APIs send it."""
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def json_response(status: int, document: Any, headers: Headers | None = None) -> Response:
    """A JSON response with its Content-Type."""
    all_headers: Headers = [(b"Content-Type", JSON_TYPE)]
    if headers:
        all_headers.extend(headers)
    return Response(status, all_headers, json_body(document))


def error_response(
    status: int, error: str, message: str, headers: Headers | None = None, **extra: Any
) -> Response:
    """The JSON error body every component uses: {"error", "message", ...}."""
    return json_response(status, {"error": error, "message": message, **extra}, headers)
