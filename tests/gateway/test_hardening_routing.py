"""Normalised paths, HEAD on GET routes, the cache per consumer and the admin Host check, raw."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.gateway import RunningGateway, loadgate_command
from tests.gateway.rawhttp import RawClient, answer_and_rest, raw_request
from tests.gateway.test_auth import hs256

CHECKOUT = "Authorization: Bearer test-checkout-token"


def document(body: bytes) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(body)
    return parsed


@pytest.mark.parametrize(
    "target",
    [
        "/v1/products/../users/profile",
        "/v1/products/%2e%2E/users/profile",
        "/v1/products/./../users/./profile",
        "//v1//users///profile",
        "/v1/%75sers/profile",
    ],
)
def test_a_public_prefix_does_not_lead_past_a_private_route(
    gateway: RunningGateway, target: str
) -> None:
    anonymous = raw_request(gateway.api_port, "GET", target)
    assert anonymous.status == 401, anonymous.body
    # With credentials the same path reaches the profile: the upstream got the normalised path.
    allowed = raw_request(gateway.api_port, "GET", target, CHECKOUT)
    assert allowed.status == 200, allowed.body
    assert document(allowed.body)["email"] == "checkout-tester@example.com"


@pytest.mark.parametrize(
    "target", ["/v1/products/./1042", "/v1/%70roducts/1042", "/v1/products//1042?x=/../"]
)
def test_normalised_paths_reach_their_resource(gateway: RunningGateway, target: str) -> None:
    response = raw_request(gateway.api_port, "GET", target)
    assert response.status == 200, response.body
    assert document(response.body)["id"] == 1042


def test_an_encoded_slash_is_not_a_separator(gateway: RunningGateway) -> None:
    response = raw_request(gateway.api_port, "GET", "/v1/products/..%2Fusers%2Fprofile")
    # Routed (publicly) to products, whose upstream knows no such product.
    assert response.status == 404
    assert document(response.body)["error"] == "invalid_request"


@pytest.mark.parametrize("target", ["/v1/../../etc/passwd", "/..", "/v1/products/%zz"])
def test_a_path_above_the_root_or_badly_escaped_is_400(
    gateway: RunningGateway, target: str
) -> None:
    response = raw_request(gateway.api_port, "GET", target)
    assert response.status == 400
    assert document(response.body)["error"] == "bad_path"


def test_head_on_a_get_route(gateway: RunningGateway) -> None:
    with RawClient(gateway.api_port) as client:
        head = client.request("HEAD", "/v1/products/1042")
        assert head.status == 200
        assert head.header("x-served-by") is not None  # the upstream answered it
        after = client.request("GET", "/v1/products/1042")
    assert after.status == 200
    assert document(after.body)["id"] == 1042


def test_allow_lists_head_where_get_is_allowed(gateway: RunningGateway) -> None:
    port = gateway.api_port
    delete = raw_request(port, "DELETE", "/v1/products/1042", "Connection: close")
    assert (delete.status, delete.header("allow")) == (405, "GET, HEAD")
    post_only = raw_request(port, "HEAD", "/v1/cart/items", CHECKOUT, "Connection: close")
    assert (post_only.status, post_only.header("allow")) == (405, "POST")


def test_a_cached_authenticated_route_answers_each_consumer_its_own(
    gateway_factory: Callable[..., RunningGateway],
) -> None:
    running = gateway_factory("[routes.users]\ncache_ttl_s = 60\n")
    port = running.api_port
    alice = f"Authorization: Bearer {hs256(sub='alice@example.com')}"
    bob = f"Authorization: Bearer {hs256(sub='bob@example.com')}"

    def profile(credentials: str) -> tuple[str | None, object]:
        response = raw_request(port, "GET", "/v1/users/profile", credentials)
        assert response.status == 200, response.body
        return response.header("x-cache-status"), document(response.body)["email"]

    assert profile(alice) == ("MISS", "alice@example.com")
    assert profile(bob) == ("MISS", "bob@example.com")
    assert profile(CHECKOUT) == ("MISS", "checkout-tester@example.com")
    assert profile(alice) == ("HIT", "alice@example.com")
    assert profile(bob) == ("HIT", "bob@example.com")


def test_a_cached_response_serves_only_the_tenant_it_was_made_for(
    gateway_factory: Callable[..., RunningGateway],
) -> None:
    running = gateway_factory("[routes.users]\ncache_ttl_s = 60\n")
    port = running.api_port

    def profile(tenant: str) -> tuple[str | None, object]:
        response = raw_request(port, "GET", "/v1/users/profile", CHECKOUT, f"X-Tenant-Id: {tenant}")
        assert response.status == 200, response.body
        return response.header("x-cache-status"), document(response.body)["tenant_id"]

    # The upstream says "Vary: X-Tenant-Id"; one variant is kept per consumer and path.
    assert profile("tenant-a") == ("MISS", "tenant-a")
    assert profile("tenant-b") == ("MISS", "tenant-b")
    assert profile("tenant-b") == ("HIT", "tenant-b")


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("evil.example.com", 403),
        ("127.0.0.1.nip.io", 403),
        ("localhost.evil.example.com:{port}", 403),
        ("localhost:abc", 403),
        ("127.0.0.1:{port}", 200),
        ("localhost:{port}", 200),
        ("LOCALHOST", 200),
        ("[::1]:{port}", 200),
    ],
)
def test_the_admin_api_answers_loopback_host_names_only(
    gateway: RunningGateway, host: str, status: int
) -> None:
    port = gateway.admin_port
    response = raw_request(port, "GET", "/health", f"Host: {host.format(port=port)}")
    assert response.status == status
    if status == 403:
        assert document(response.body)["error"] == "forbidden_host"


def test_an_admin_request_without_host_is_refused(gateway: RunningGateway) -> None:
    response, _ = answer_and_rest(gateway.admin_port, b"GET /faults HTTP/1.0\r\n\r\n")
    assert response.status == 403


def test_a_short_hs256_secret_is_refused_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "short.toml"
    config.write_text('[jwt]\nsecret = "only-twenty-six-bytes-long"\n')
    result = subprocess.run(
        loadgate_command("gateway", "--config", str(config), "--port", "0", "--admin-port", "0"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "jwt.secret" in lines[0]
    assert "at least 32 bytes" in lines[0]
    assert "only-twenty-six" not in lines[0]
