"""HTTP/1.1 framing rules of the server: which request heads it refuses, how it writes heads.

Pure functions, kept apart from the connection state machine in connection.py so
that each rule can be read next to the RFC section it implements. The hot path
(an HTTP/1.1 request with Host and no body rules to apply, a response with a
body) does a few dict lookups here and nothing else.
"""

from __future__ import annotations

from loadgate.gateway.messages import Headers, Response, error_response, status_line

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# How a response head ends: plain (HTTP/1.1 keep-alive is the default),
# announcing the close, or confirming an HTTP/1.0 client's keep-alive (an
# HTTP/1.0 client assumes a close unless told otherwise, RFC 9112 §9.3).
END_KEEP = b"\r\n\r\n"
END_CLOSE = b"\r\nConnection: close\r\n\r\n"
END_KEEP_HTTP10 = b"\r\nConnection: keep-alive\r\n\r\n"
_LENGTH_NAMES = frozenset({b"content-length", b"transfer-encoding"})


def response_head(response: Response, content_length: int | None, date: bytes, end: bytes) -> bytes:
    """Status line, the handler's headers, Content-Length (unless None) and Date."""
    parts = [status_line(response.status)]
    for name, value in response.headers:
        parts += (name, b": ", value, b"\r\n")
    if content_length is not None:
        parts.append(b"Content-Length: %d\r\n" % content_length)
    parts += (b"Date: ", date, end)
    return b"".join(parts)


def bodiless_head(response: Response, date: bytes, end: bytes) -> bytes:
    """The head of a 1xx, 204 or 304: no Content-Length, not even the handler's (RFC 9110 §8.6)."""
    parts = [status_line(response.status)]
    for name, value in response.headers:
        if name.lower() not in _LENGTH_NAMES:
            parts += (name, b": ", value, b"\r\n")
    parts += (b"Date: ", date, end)
    return b"".join(parts)


def head_request_head(response: Response, date: bytes, end: bytes) -> bytes:
    """The head answering a HEAD: the Content-Length a GET would have had (RFC 9110 §9.3.2).

    A handler that knows that length without building the body (a proxy that
    sent HEAD upstream) sets Content-Length itself; otherwise it is the length
    of the body the handler returned, which is then not sent.
    """
    has_length = any(name.lower() == b"content-length" for name, _ in response.headers)
    return response_head(response, None if has_length else len(response.body), date, end)


def head_refusal(
    version: str, header_map: dict[bytes, bytes], headers: Headers, max_body_bytes: int
) -> Response | None:
    """The answer to a request head the server will not serve, or None to read its body.

    `header_map` holds the last value of each lower-cased name; `headers` every
    field line, consulted only when a name is repeated.
    """
    repeated = len(header_map) != len(headers)
    if version != "1.1":
        if version != "1.0":
            return error_response(505, "http_version_not_supported", "only HTTP/1.x is served")
        if b"transfer-encoding" in header_map:
            # RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
            return error_response(400, "bad_request", "Transfer-Encoding in an HTTP/1.0 request")
    elif b"host" not in header_map:
        return error_response(400, "bad_request", "an HTTP/1.1 request must have a Host header")
    if repeated and _count(headers, b"host") > 1:
        return error_response(400, "bad_request", "more than one Host header")
    if b"transfer-encoding" in header_map:
        refusal = _coding_refusal(_joined(headers, b"transfer-encoding") if repeated
                                  else header_map[b"transfer-encoding"])  # fmt: skip
        if refusal is not None:
            return refusal
    expect = header_map.get(b"expect")
    if expect is not None and expect.strip().lower() != b"100-continue":
        return error_response(417, "expectation_failed", "the only expectation met is 100-continue")
    length = header_map.get(b"content-length")
    # llhttp has already refused a Content-Length that is not all digits.
    if length is not None and int(length) > max_body_bytes:
        return payload_too_large()
    return None


def upgrade_refusal(header_map: dict[bytes, bytes]) -> Response | None:
    """A body on an Upgrade request is refused: llhttp would leave it unread.

    The server never switches protocols (RFC 9110 §7.8 lets it ignore Upgrade),
    but llhttp stops after such a request's head, so its body would be lost.
    """
    if b"transfer-encoding" in header_map or header_map.get(b"content-length", b"0") != b"0":
        return error_response(501, "not_implemented", "an Upgrade request with a body")
    return None


def payload_too_large() -> Response:
    return error_response(413, "payload_too_large", "the request body is too large")


def _coding_refusal(value: bytes) -> Response | None:
    codings = [coding.strip().lower() for coding in value.split(b",")]
    if codings[-1] != b"chunked":
        # RFC 9112 §6.3: without chunked last the body's length cannot be known.
        return error_response(400, "bad_request", "Transfer-Encoding must end with chunked")
    if len(codings) > 1:
        # RFC 9112 §6.1: a transfer coding the server does not understand is a 501.
        return error_response(501, "not_implemented", "the only transfer coding served is chunked")
    return None


def _count(headers: Headers, lower_name: bytes) -> int:
    return sum(1 for name, _ in headers if name.lower() == lower_name)


def _joined(headers: Headers, lower_name: bytes) -> bytes:
    return b", ".join(value for name, value in headers if name.lower() == lower_name)
