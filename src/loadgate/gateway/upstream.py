"""A mock upstream service instance: the shop's API behind the gateway, with its fault applied.

Every instance can answer every mock endpoint; which upstream serves which
path is the gateway's routing table. The instance name (catalog-0, ...) is
returned in X-Served-By, so round robin and fault targeting are visible.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from loadgate.gateway import mockdata
from loadgate.gateway.faults import FaultState
from loadgate.gateway.messages import (
    JSON_TYPE,
    Headers,
    Request,
    Response,
    error_response,
    json_body,
    json_response,
)
from loadgate.gateway.tokens import TokenError, TokenIssuer

MAX_CACHED_BODIES = 4096
VARY_TENANT = (b"Vary", b"X-Tenant-Id")
MAX_ID = 999_999_999


class BadParameterError(Exception):
    """A query parameter or path id the endpoint cannot use; becomes a 400 or 404."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


def _int_param(params: dict[str, list[str]], name: str, default: int, high: int) -> int:
    values = params.get(name)
    if not values:
        return default
    try:
        value = int(values[0])
    except ValueError:
        value = -1
    if not 1 <= value <= high:
        raise BadParameterError(400, name, f"{name} must be an integer from 1 to {high}")
    return value


def _text_param(params: dict[str, list[str]], name: str, default: str = "") -> str:
    values = params.get(name)
    return values[0][:200] if values else default


def _path_id(segment: str, field: str) -> int:
    if not segment.isdigit() or not 0 < int(segment) <= MAX_ID:
        raise BadParameterError(404, field, f"no {field} {segment!r}")
    return int(segment)


class MockUpstream:
    """The handler of one upstream instance."""

    def __init__(
        self, instance_name: str, faults: FaultState, issuer: TokenIssuer | None = None
    ) -> None:
        self.instance_name = instance_name
        self._faults = faults
        self._issuer = issuer
        self._served_by = (b"X-Served-By", instance_name.encode())
        self._bodies: dict[tuple[bytes, bytes, bytes], bytes] = {}
        self._rng = random.Random()
        self._get_routes: dict[tuple[str, bool], Callable[..., dict[str, Any]]] = {
            ("products", False): self._products,
            ("products", True): self._product,
            ("search", False): self._search,
            ("users", True): self._profile,
            ("orders", False): self._orders,
            ("orders", True): self._order,
            ("inventory", True): self._inventory,
            ("pricing", True): self._pricing,
        }

    async def handle(self, request: Request) -> Response:
        if request.path == "/health":
            return json_response(200, {"status": "ok", "instance": self.instance_name})
        faults = self._faults
        await faults.delay()
        status = faults.error_status()
        if status is not None:
            response = error_response(status, "injected_fault", "fault injected by loadgate")
        else:
            response = self._answer(request)
        response.headers.append(self._served_by)
        tenant = request.header(b"x-tenant-id")
        if tenant is not None:
            response.headers.append((b"X-Tenant-Id", tenant))
        # Every answer may echo the tenant (the profile carries it): caches must key on it.
        response.headers.append(VARY_TENANT)
        # A HEAD gets the GET's response whole: the server writes its length and
        # holds the body back (RFC 9110 §9.3.2), so the two heads cannot differ.
        response.pace_bytes_per_s = faults.fault.slow_body_bytes_per_s
        return response

    def _answer(self, request: Request) -> Response:
        segments = request.path.strip("/").split("/")
        if len(segments) < 2 or segments[0] != "v1":
            return error_response(404, "not_found", f"no such resource: {request.path}")
        try:
            if request.method in ("GET", "HEAD"):
                return self._get(request, segments)
            if request.method == "POST":
                return self._post(request, segments)
        except BadParameterError as exc:
            return error_response(exc.status, "invalid_request", str(exc), field=exc.field)
        return error_response(405, "method_not_allowed", f"{request.method} is not allowed here")

    def _get(self, request: Request, segments: list[str]) -> Response:
        handler = self._get_routes.get((segments[1], len(segments) == 3))
        if handler is None or len(segments) > 3:
            return error_response(404, "not_found", f"no such resource: {request.path}")
        customer = request.header(b"x-consumer-id") or b""
        tenant = request.header(b"x-tenant-id") or b""
        key = (request.target, customer, tenant)
        body = self._bodies.get(key)
        if body is None:
            params = parse_qs(request.query)
            document = handler(params, segments[-1], customer.decode(), tenant.decode())
            body = json_body(document)
            if len(self._bodies) >= MAX_CACHED_BODIES:
                self._bodies.clear()
            self._bodies[key] = body
        return Response(200, [(b"Content-Type", JSON_TYPE)], body)

    def _post(self, request: Request, segments: list[str]) -> Response:
        try:
            document = json.loads(request.body or b"{}")
        except ValueError:
            document = None
        if not isinstance(document, dict):
            return error_response(400, "invalid_request", "body must be a JSON object")
        customer = (request.header(b"x-consumer-id") or b"anonymous").decode()
        path = "/".join(segments[1:])
        if path == "auth/token":
            return self._token(document)
        if path == "orders":
            order_id = self._rng.randrange(200000, 999999)
            return json_response(201, mockdata.created_order(order_id, document, customer))
        if path == "cart/items":
            cart = mockdata.cart_with_item(
                customer,
                int(document.get("product_id", 0)),
                int(document.get("quantity", 1)),
                str(document.get("currency", "USD")),
            )
            return json_response(201, cart)
        return error_response(404, "not_found", f"no such resource: {request.path}")

    def _token(self, document: dict[str, Any]) -> Response:
        if self._issuer is None:
            return error_response(404, "not_found", "this upstream does not issue tokens")
        try:
            token = self._issuer.issue(document)
        except TokenError as exc:
            headers: Headers = [(b"Cache-Control", b"no-store")]
            if exc.status == 401:
                headers.append((b"WWW-Authenticate", b'Basic realm="loadgate-identity"'))
            return json_response(
                exc.status, {"error": exc.error, "error_description": exc.description}, headers
            )
        return json_response(200, token, [(b"Cache-Control", b"no-store")])

    # GET endpoints: (query params, last path segment, customer, tenant) -> document

    def _products(self, params: dict[str, list[str]], _: str, *__: str) -> dict[str, Any]:
        limit = _int_param(params, "limit", 20, 100)
        cursor = _int_param(params, "cursor", 1, 10**6) - 1 if "cursor" in params else 0
        return mockdata.product_list(_text_param(params, "category"), limit, cursor)

    def _product(self, _: dict[str, list[str]], segment: str, *__: str) -> dict[str, Any]:
        return mockdata.product(_path_id(segment, "product"))

    def _search(self, params: dict[str, list[str]], _: str, *__: str) -> dict[str, Any]:
        query = _text_param(params, "q")
        if not query:
            raise BadParameterError(400, "q", "q must be a non-empty search query")
        sort = _text_param(params, "sort", "relevance")
        return mockdata.search(query, sort, _int_param(params, "limit", 10, 50))

    def _profile(
        self, _: dict[str, list[str]], segment: str, customer: str, tenant: str
    ) -> dict[str, Any]:
        if segment != "profile":
            raise BadParameterError(404, "user", f"no user resource {segment!r}")
        return mockdata.profile(customer or "anonymous", tenant)

    def _orders(
        self, params: dict[str, list[str]], _: str, customer: str, __: str
    ) -> dict[str, Any]:
        status = _text_param(params, "status")
        return mockdata.order_list(
            customer or "anonymous", status, _int_param(params, "limit", 10, 50)
        )

    def _order(
        self, _: dict[str, list[str]], segment: str, customer: str, __: str
    ) -> dict[str, Any]:
        return mockdata.order(_path_id(segment, "order"), customer or "anonymous")

    def _inventory(self, params: dict[str, list[str]], segment: str, *_: str) -> dict[str, Any]:
        warehouse = _text_param(params, "warehouse")
        return mockdata.inventory(_path_id(segment, "product"), warehouse)

    def _pricing(self, params: dict[str, list[str]], segment: str, *_: str) -> dict[str, Any]:
        currency = _text_param(params, "currency", "USD")
        tier = _text_param(params, "customer_tier", "standard")
        return mockdata.pricing(_path_id(segment, "product"), currency, tier)
