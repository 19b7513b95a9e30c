"""A geventhttpclient response as the `requests.Response` python-requests would have built.

Status, reason, headers (case-insensitive, repeated fields joined with ", "
as urllib3 joins them), encoding, URL, elapsed time (to the end of the
headers, as requests measures it), decoded content. The response is a real
`requests.Response`, so `.json()`, `.text`, `.ok`, `raise_for_status()` and
`.links` are requests' own. What only requests' transport has (`.raw`) is
refused by name.

Transport errors become the exceptions requests raises, each raised while
the original is being handled, so that Locust, which reports the innermost
cause of a ConnectionError, stores the same failure message for both clients.
"""

from __future__ import annotations

import ssl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.client import RemoteDisconnected
from typing import Any, NoReturn

import brotli  # type: ignore[import-untyped]
from geventhttpclient.response import HTTPConnectionClosed, HTTPParseError
from requests import PreparedRequest, Response
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ContentDecodingError, ReadTimeout
from requests.exceptions import SSLError as RequestsSSLError
from requests.utils import DEFAULT_ACCEPT_ENCODING, get_encoding_from_headers
from urllib3.exceptions import ProtocolError, ReadTimeoutError
from urllib3.exceptions import SSLError as Urllib3SSLError

from loadgate.engine.collector import PHASES_ATTRIBUTE
from loadgate.engine.fastclient.headers import Headers
from loadgate.engine.fastclient.refusal import AttributeRefusedError

DECODABLE = ("gzip", "deflate", "br")
# requests' Accept-Encoding, less what decoded_content could not undo (zstd, when
# requests finds a zstd module): never ask for a body that would stay encoded.
ACCEPT_ENCODING = ", ".join(
    coding for coding in DEFAULT_ACCEPT_ENCODING.split(", ") if coding in DECODABLE
)


class _NoRaw:
    """Stands in for `response.raw`: any use of it names the way back."""

    def __getattr__(self, name: str) -> NoReturn:
        raise AttributeRefusedError(f"response.raw.{name}")


NO_RAW = _NoRaw()


def response_headers(raw: Any) -> Headers:
    headers = Headers()
    for name, value in raw.items():
        known = headers.get(name)
        headers[name] = value if known is None else f"{known}, {value}"
    return headers


def build_response(raw: Any, request: PreparedRequest, elapsed_s: float) -> Response:
    """Read the body of `raw` (the connection goes back to the pool) into a Response."""
    response = Response()
    response.status_code = raw.status_code
    response.reason = raw.status_message or ""
    headers = response_headers(raw)
    response.headers = headers
    response.encoding = get_encoding_from_headers(headers)
    response.url = str(request.url)
    response.request = request
    response.elapsed = timedelta(seconds=elapsed_s)
    content = raw.read()
    coding = headers.get("content-encoding")
    response._content = decoded_content(content, coding) if coding else content
    response._content_consumed = True
    response.raw = NO_RAW
    # The timing phases (`--timings`, engine.fastclient.phases), where the collector looks.
    phases = raw.__dict__.get(PHASES_ATTRIBUTE)
    if phases is not None:
        setattr(response, PHASES_ATTRIBUTE, phases)
    return response


def decoded_content(content: bytes, coding: str) -> bytes:
    """Undo Content-Encoding (gzip, deflate, br, in the reverse order of their listing)."""
    for name in reversed([part.strip().lower() for part in coding.split(",")]):
        if not content:
            return content
        try:
            if name in ("gzip", "x-gzip"):
                content = zlib.decompress(content, 16 + zlib.MAX_WBITS)
            elif name == "deflate":
                content = _inflate(content)
            elif name == "br":
                content = brotli.decompress(content)
            # identity and anything unknown: left as it is, as urllib3 does
        except (zlib.error, brotli.error) as exc:
            raise ContentDecodingError(
                f"Received response with content-encoding: {name}, but failed to decode it.", exc
            ) from exc
    return content


def _inflate(content: bytes) -> bytes:
    try:
        return zlib.decompress(content)
    except zlib.error:
        return zlib.decompress(content, -zlib.MAX_WBITS)  # raw deflate, as urllib3 accepts


def pool_name(request: PreparedRequest, host: str, port: int) -> str:
    """urllib3's name for the connection pool, which its timeout messages start with."""
    kind = "HTTPSConnectionPool" if str(request.url).startswith("https") else "HTTPConnectionPool"
    return f"{kind}(host={host!r}, port={port})"


@contextmanager
def requests_errors(
    request: PreparedRequest, host: str, port: int, read_timeout_s: float | None
) -> Iterator[None]:
    """Transport errors of the block, raised again as the ones requests raises."""
    try:
        yield
    except TimeoutError as exc:
        message = f"Read timed out. (read timeout={read_timeout_s})"
        cause = ReadTimeoutError(pool_name(request, host, port), str(request.url), message)  # type: ignore[arg-type]
        raise ReadTimeout(cause, request=request) from exc
    except ssl.SSLError as exc:
        _raise_tls_failure(request, exc)
    except HTTPConnectionClosed as exc:
        _raise_disconnected(request, exc)
    except (OSError, HTTPParseError) as exc:
        raise RequestsConnectionError(exc, request=request) from exc


def _raise_tls_failure(request: PreparedRequest, failure: ssl.SSLError) -> NoReturn:
    # requests' chain for a certificate it does not trust: its SSLError, then urllib3's
    # wrapping the ssl module's error; for a TLS error once connected, the ssl error alone.
    if not isinstance(failure, ssl.SSLCertVerificationError):
        raise RequestsSSLError(failure, request=request) from failure
    try:
        raise Urllib3SSLError(failure) from failure
    except Urllib3SSLError as wrapped:
        raise RequestsSSLError(wrapped, request=request) from wrapped


def _raise_disconnected(request: PreparedRequest, closed: HTTPConnectionClosed) -> NoReturn:
    # requests' own chain: ConnectionError(ProtocolError(..., RemoteDisconnected(...))), each
    # the context of the next, as Locust walks it to the innermost.
    try:
        try:
            raise RemoteDisconnected("Remote end closed connection without response") from closed
        except RemoteDisconnected as disconnected:
            raise ProtocolError("Connection aborted.", disconnected) from disconnected
    except ProtocolError as aborted:
        raise RequestsConnectionError(aborted, request=request) from aborted
