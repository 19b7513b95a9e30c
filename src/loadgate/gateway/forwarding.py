"""What crosses the gateway: which headers go on each way, X-Forwarded-*, the normalised target.

Hop-by-hop headers describe one connection, so they stop here in both
directions, with every header a Connection header names (RFC 9110 §7.6.1).
"""

from __future__ import annotations

from loadgate.gateway.messages import Headers, Request

# The hop-by-hop headers RFC 9110 and its predecessors name.
HOP_BY_HOP = frozenset(
    {
        b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer",
        b"transfer-encoding", b"upgrade", b"proxy-authenticate", b"proxy-authorization",
    }
)  # fmt: skip
# Request headers not forwarded upstream: hop-by-hop ones, those the gateway
# rewrites, and identity headers a client must not be able to forge. (Expect
# never gets here: the server answers it and leaves it out of Request.headers.)
DROP_REQUEST_HEADERS = HOP_BY_HOP | {
    b"host", b"content-length",
    b"x-request-id", b"x-forwarded-for", b"x-forwarded-proto", b"x-consumer-id",
    b"x-consumer-kind",
}  # fmt: skip
DROP_RESPONSE_HEADERS = HOP_BY_HOP | {
    b"content-length", b"date", b"server", b"x-request-id", b"x-correlation-id",
}  # fmt: skip
# A HEAD answer has no body for the server to measure: the upstream's Content-Length
# is the only source of the length a GET would have (RFC 9110 §9.3.2).
DROP_HEAD_RESPONSE_HEADERS = DROP_RESPONSE_HEADERS - {b"content-length"}
# Connection values that name no other header (what most clients send).
PLAIN_CONNECTION = frozenset({b"keep-alive", b"close"})
VIA = (b"Via", b"1.1 loadgate-gateway")


def normalized_target(path: str, target: bytes) -> bytes:
    """The target with its path replaced by the normalised one; the query is kept."""
    _, question, query = target.partition(b"?")
    return path.encode("latin-1") + question + query


def connection_tokens(values: list[bytes]) -> frozenset[bytes]:
    """The header names listed in Connection headers (lower case)."""
    return frozenset(
        token.strip().lower() for value in values for token in value.split(b",") if token.strip()
    )


def forwarded_head(
    request: Request, consumer_kind: str, consumer_id: str, request_id: bytes
) -> bytes:
    """The request's headers as sent upstream (after the request line and Host)."""
    parts, forwarded_for, named = _end_to_end(request.headers, DROP_REQUEST_HEADERS)
    if named:
        # Rare: the client named headers in Connection, perhaps before they came.
        parts, forwarded_for, _ = _end_to_end(request.headers, DROP_REQUEST_HEADERS | named)
    parts += (
        b"X-Request-Id: ", request_id,
        b"\r\nX-Forwarded-For: ", forwarded_for + request.client_ip.encode(),
        b"\r\nX-Forwarded-Proto: http\r\nX-Consumer-Kind: ", consumer_kind.encode(),
        b"\r\nX-Consumer-Id: ", consumer_id.encode(),
        b"\r\nContent-Length: %d\r\n\r\n" % len(request.body),
    )  # fmt: skip
    return b"".join(parts)


def _end_to_end(
    headers: Headers, drop: frozenset[bytes]
) -> tuple[list[bytes], bytes, frozenset[bytes]]:
    """Header lines not in `drop`, the X-Forwarded-For list so far, and names in Connection."""
    parts: list[bytes] = []
    forwarded_for = b""
    named: frozenset[bytes] = frozenset()
    for name, value in headers:
        lower = name.lower()
        if lower in drop:
            if lower == b"x-forwarded-for":
                # Several headers are one list, in order (RFC 9110 §5.3).
                forwarded_for += value + b", "
            elif lower == b"connection" and value.lower() not in PLAIN_CONNECTION:
                named |= connection_tokens([value])
            continue
        parts += (name, b": ", value, b"\r\n")
    return parts, forwarded_for, named


def returned_headers(
    headers: Headers, connection: list[bytes] | None, *, head_request: bool = False
) -> Headers:
    """An upstream response's headers as sent to the client, after Via.

    Content-Length is the server's to write, except on the answer to a HEAD.
    """
    drop = DROP_HEAD_RESPONSE_HEADERS if head_request else DROP_RESPONSE_HEADERS
    if connection is not None:
        drop = drop | connection_tokens(connection)
    returned = [VIA]
    for name, value in headers:
        if name.lower() not in drop:
            returned.append((name, value))
    return returned
