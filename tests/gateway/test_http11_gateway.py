"""The real gateway's HTTP/1.1 server layer, over raw sockets: pipelining, limits, HEAD, 100."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.gateway import RunningGateway
from tests.gateway.rawhttp import Reader, answer_and_rest, connect, get

CHECKOUT = "Authorization: Bearer test-checkout-token"
# Every client limit below its default; the timeouts well under the reader's 5 s deadline.
TIGHT_LIMITS = """
[gateway]
max_url_bytes = 512
max_headers = 8
max_header_bytes = 1024
header_timeout_s = 0.5
body_timeout_s = 0.5
"""


def refused_counts(gateway: RunningGateway) -> dict[int, float]:
    """loadgate_gateway_http_refused_total by status, read from the admin port's /metrics."""
    with connect(gateway.admin_port) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        response = Reader(sock).response()
    assert response.status == 200
    counts: dict[int, float] = {}
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            if sample.name == "loadgate_gateway_http_refused_total":
                counts[int(sample.labels["status"])] = sample.value
    return counts


def test_pipelined_requests_through_the_gateway_are_answered_in_order(
    gateway: RunningGateway,
) -> None:
    ids = [1042, 2088, 3011, 1042]
    with connect(gateway.api_port) as sock:
        sock.sendall(b"".join(get(f"/v1/products/{i}") for i in ids) + b"NOT HTTP\r\n\r\n")
        reader = Reader(sock)
        responses = [reader.response() for _ in ids]
        refusal = reader.response()
        assert reader.rest() == b""
    assert [json.loads(r.body)["id"] for r in responses] == ids
    assert (refusal.status, refusal.header("connection")) == (400, "close")


def test_oversized_headers_at_the_gateway_are_431(gateway: RunningGateway) -> None:
    data = get("/v1/products/1042", *(f"X-Pad-{i}: {'v' * 64}" for i in range(150)))
    response, rest = answer_and_rest(gateway.api_port, data)
    assert rest == b""
    assert response.status == 431


def test_a_body_over_the_gateway_cap_is_413_before_it_is_sent(gateway: RunningGateway) -> None:
    head = get(
        "/v1/cart/items", CHECKOUT, "Content-Type: application/json",
        "Content-Length: 100000", "Expect: 100-continue", method="POST",
    )  # fmt: skip
    response, rest = answer_and_rest(gateway.api_port, head)
    assert rest == b""
    assert response.status == 413
    assert json.loads(response.body)["error"] == "payload_too_large"


def test_expect_100_continue_at_the_gateway(gateway: RunningGateway) -> None:
    body = b'{"product_id": 1, "quantity": 1}'
    head = get(
        "/v1/cart/items", CHECKOUT, "Content-Type: application/json",
        f"Content-Length: {len(body)}", "Expect: 100-continue", method="POST",
    )  # fmt: skip
    with connect(gateway.api_port) as sock:
        sock.sendall(head)
        reader = Reader(sock)
        interim = reader.response()
        sock.sendall(body)
        final = reader.response()
    assert (interim.status, final.status) == (100, 201)


def test_head_at_the_gateway_writes_no_body(gateway: RunningGateway) -> None:
    with connect(gateway.api_port) as sock:
        # An unknown path: its 404 comes from the gateway itself, whatever the routes allow.
        sock.sendall(get("/nowhere", method="HEAD") + get("/nowhere"))
        reader = Reader(sock)
        head = reader.response(head_request=True)
        after = reader.response()
    assert head.status == after.status == 404
    assert int(head.header("content-length") or 0) > 0
    assert json.loads(after.body)["error"] == "not_found"


def test_a_proxied_head_has_the_get_length_and_no_body(gateway: RunningGateway) -> None:
    path = "/v1/products/1"
    with connect(gateway.api_port) as sock:
        # Pipelined: a body written after the HEAD's head would be read as the GET's answer.
        sock.sendall(get(path, CHECKOUT, method="HEAD") + get(path, CHECKOUT))
        reader = Reader(sock)
        head = reader.response(head_request=True)
        after = reader.response()
    assert (head.status, after.status) == (200, 200)
    assert head.count("content-length") == 1
    assert int(head.header("content-length") or 0) == len(after.body) > 0
    assert json.loads(after.body)["id"] == 1
    assert head.header("x-served-by") is not None  # the answer came from the upstream


def test_a_mock_upstream_answers_head_with_the_get_length(gateway: RunningGateway) -> None:
    upstream_port = urlsplit(gateway.health()["upstreams"]["catalog"][0]).port
    assert upstream_port is not None
    with connect(upstream_port) as sock:
        sock.sendall(get("/v1/products/7", method="HEAD") + get("/v1/products/7"))
        reader = Reader(sock)
        head = reader.response(head_request=True)
        after = reader.response()
    assert (head.status, after.status) == (200, 200)
    assert int(head.header("content-length") or 0) == len(after.body) > 0


def test_a_body_over_the_cap_is_413_before_routing(gateway: RunningGateway) -> None:
    # No route, no credentials: the pipeline would answer 404, but it is never reached.
    head = get("/nowhere", "Content-Length: 100000", method="POST")
    response, rest = answer_and_rest(gateway.api_port, head)
    assert rest == b""
    assert response.status == 413
    assert response.header("x-request-id") is None  # the gateway's handler never saw it


def test_configured_limits_refuse_and_each_refusal_is_counted(
    gateway_factory: Callable[..., RunningGateway],
) -> None:
    running = gateway_factory(TIGHT_LIMITS)
    product = "/v1/products/1"
    refusals = [
        (get(product + "?q=" + "q" * 600), 414),  # within the default 8 KiB
        (get(product, *(f"X-H{i}: 1" for i in range(8))), 431),  # 9 fields with Host
        (get(product, "X-Big: " + "v" * 1100), 431),
        # Neither timeout is the default 10 s: the reader's deadline would pass first.
        (b"GET /v1/products/1 HTTP/1.1\r\nHost: test\r\n", 408),
        (get("/v1/cart/items", CHECKOUT, "Content-Length: 10", method="POST") + b"{}", 408),
    ]
    # Exported before the first refusal, so a rate over them starts at 0.
    assert refused_counts(running) == dict.fromkeys((400, 408, 413, 414, 417, 431, 501, 505), 0)
    for data, status in refusals:
        with connect(running.api_port) as sock:
            sock.sendall(data)
            response = Reader(sock).response()
        assert response.status == status, data[:60]
    with connect(running.api_port) as sock:  # within every limit: served, not counted
        sock.sendall(get(product, CHECKOUT))
        assert Reader(sock).response().status == 200
    counts = refused_counts(running)
    assert {s: n for s, n in counts.items() if n} == {408: 2, 414: 1, 431: 2}
