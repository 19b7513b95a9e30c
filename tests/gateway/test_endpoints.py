"""Every endpoint of the reference gateway, over real sockets, with the built-in config."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.fixtures.gateway import RunningGateway

CHECKOUT = {"Authorization": "Bearer test-checkout-token"}
LOGIN = {
    "client_id": "web-frontend",
    "client_secret": "test-client-secret",
    "audience": "commerce-api",
    "grant_type": "password",
    "username": "loadtest_user_42@example.com",
    "password": "P@ssw0rd123!",
}
ADDRESS = {
    "first_name": "Alex", "last_name": "Morgan", "line1": "100 Market St",
    "city": "San Francisco", "state": "CA", "postal_code": "94105", "country": "US",
}  # fmt: skip
ORDER = {
    "cart_id": "cart-12345",
    "payment_method": {"type": "card", "token": "tok_visa_4242"},
    "shipping_address": ADDRESS,
}
SERVER_TIMING = re.compile(r"gateway;dur=\d+\.\d+, upstream;dur=\d+\.\d+, total;dur=\d+\.\d+")


def login(gateway: RunningGateway, **changes: str) -> httpx.Response:
    return httpx.post(gateway.url("/v1/auth/token"), json={**LOGIN, **changes})


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/v1/products?category=electronics&limit=20", "items"),
        ("/v1/products/1042", "sku"),
        ("/v1/search?q=wireless+headphones&sort=relevance", "results"),
    ],
)
def test_public_catalog_endpoints_need_no_credentials(
    gateway: RunningGateway, path: str, key: str
) -> None:
    response = httpx.get(gateway.url(path), headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert key in response.json()
    assert SERVER_TIMING.fullmatch(response.headers["server-timing"])


def test_product_list_has_the_requested_size(gateway: RunningGateway) -> None:
    body = httpx.get(gateway.url("/v1/products?category=electronics&limit=20")).json()
    assert len(body["items"]) == 20
    assert all(item["category"] == "electronics" for item in body["items"])


def test_bodies_are_deterministic_and_realistically_sized(gateway: RunningGateway) -> None:
    first = httpx.get(gateway.url("/v1/products/2088"))
    second = httpx.get(gateway.url("/v1/products/2088"))
    assert first.content == second.content
    assert 800 < len(first.content) < 5000
    assert httpx.get(gateway.url("/v1/products/3011")).json()["id"] == 3011
    listing = httpx.get(gateway.url("/v1/products?category=audio&limit=20"))
    assert len(listing.content) > 4000


def test_password_grant_returns_a_bearer_jwt(gateway: RunningGateway) -> None:
    response = login(gateway)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert body["access_token"].count(".") == 2


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"password": "wrong"}, 400, "invalid_grant"),
        ({"username": "someone@else.com"}, 400, "invalid_grant"),
        ({"audience": "other-api"}, 400, "invalid_target"),
    ],
)
def test_bad_logins_are_refused(
    gateway: RunningGateway, changes: dict[str, str], status: int, error: str
) -> None:
    response = login(gateway, **changes)
    assert response.status_code == status
    assert response.json()["error"] == error


def test_authenticated_endpoints_with_a_jwt(gateway: RunningGateway) -> None:
    token = login(gateway).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "X-Tenant-Id": "tenant-qa-001"}
    profile = httpx.get(gateway.url("/v1/users/profile"), headers=headers)
    assert profile.status_code == 200
    assert profile.json()["email"] == "loadtest_user_42@example.com"
    assert profile.json()["tenant_id"] == "tenant-qa-001"
    orders = httpx.get(gateway.url("/v1/orders?status=processing&limit=10"), headers=headers)
    assert orders.status_code == 200
    assert len(orders.json()["orders"]) == 10
    order = httpx.get(gateway.url("/v1/orders/100250"), headers=headers)
    assert order.status_code == 200
    assert order.json()["id"] == 100250
    cart = httpx.post(
        gateway.url("/v1/cart/items"),
        headers=headers,
        json={"product_id": 1042, "quantity": 2, "currency": "USD"},
    )
    assert cart.status_code == 201
    assert cart.json()["items"][0]["quantity"] == 2


def test_checkout_endpoints_with_the_static_token(gateway: RunningGateway) -> None:
    inventory = httpx.get(gateway.url("/v1/inventory/1042?warehouse=us-east"), headers=CHECKOUT)
    assert inventory.status_code == 200
    assert inventory.json()["warehouse"] == "us-east"
    pricing = httpx.get(
        gateway.url("/v1/pricing/1042?currency=USD&customer_tier=gold"), headers=CHECKOUT
    )
    assert pricing.status_code == 200
    assert pricing.json()["customer_tier"] == "gold"
    order = httpx.post(gateway.url("/v1/orders"), headers=CHECKOUT, json=ORDER)
    assert order.status_code == 201
    assert order.json()["cart_id"] == "cart-12345"


def test_unknown_route_is_a_json_404(gateway: RunningGateway) -> None:
    response = httpx.get(gateway.url("/v1/nothing/here"))
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "x-request-id" in response.headers


def test_unknown_resource_under_a_route_is_a_json_404(gateway: RunningGateway) -> None:
    response = httpx.get(gateway.url("/v1/products/not-a-number"))
    assert response.status_code == 404
    assert response.json()["error"] == "invalid_request"


def test_wrong_method_is_405_with_allow(gateway: RunningGateway) -> None:
    response = httpx.delete(gateway.url("/v1/products/1042"))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_request_id_is_generated_or_propagated(gateway: RunningGateway) -> None:
    generated = httpx.get(gateway.url("/v1/products/1042")).headers["x-request-id"]
    other = httpx.get(gateway.url("/v1/products/1042")).headers["x-request-id"]
    assert generated and generated != other
    mine = httpx.get(gateway.url("/v1/products/1042"), headers={"X-Request-Id": "req-abc-123"})
    assert mine.headers["x-request-id"] == "req-abc-123"


def test_correlation_and_tenant_reach_the_upstream(gateway: RunningGateway) -> None:
    headers = {**CHECKOUT, "X-Correlation-Id": "corr-777", "X-Tenant-Id": "tenant-9"}
    response = httpx.get(gateway.url("/v1/inventory/2088"), headers=headers)
    assert response.headers["x-correlation-id"] == "corr-777"
    # The upstream echoes the tenant it received, so this proves the forwarding.
    assert response.headers["x-tenant-id"] == "tenant-9"


def test_round_robin_over_instances(gateway: RunningGateway) -> None:
    with httpx.Client() as client:
        served_by = {
            client.get(gateway.url("/v1/products/1042")).headers["x-served-by"] for _ in range(6)
        }
    assert served_by == {"catalog-0", "catalog-1"}


def test_upstream_errors_never_leak_internals(gateway: RunningGateway) -> None:
    response = httpx.get(gateway.url("/v1/search?q="))
    assert response.status_code == 400
    assert "Traceback" not in response.text
    assert response.json()["field"] == "q"


def test_post_bodies_are_validated_naming_the_field(gateway: RunningGateway) -> None:
    address = {**ADDRESS, "country": "USA"}
    response = httpx.post(
        gateway.url("/v1/orders"), headers=CHECKOUT, json={**ORDER, "shipping_address": address}
    )
    assert response.status_code == 400
    assert response.json()["field"] == "shipping_address.country"
    assert "two-letter country code" in response.json()["message"]
    not_json = httpx.post(gateway.url("/v1/cart/items"), headers=CHECKOUT, content=b"{oops")
    assert not_json.status_code == 400
    assert not_json.json()["field"] == "body"
    login_without_secret = httpx.post(
        gateway.url("/v1/auth/token"), json={k: v for k, v in LOGIN.items() if k != "client_secret"}
    )
    assert login_without_secret.json()["field"] == "client_secret"


def test_oversized_bodies_are_413_and_the_connection_survives(gateway: RunningGateway) -> None:
    with httpx.Client() as client:
        too_large = client.post(
            gateway.url("/v1/cart/items"), headers=CHECKOUT, content=b"x" * 100_000
        )
        assert too_large.status_code == 413
        assert too_large.json()["error"] == "payload_too_large"
        after = client.post(
            gateway.url("/v1/cart/items"), headers=CHECKOUT, json={"product_id": 1, "quantity": 1}
        )
        assert after.status_code == 201
