"""The built-in config and how a user's TOML is laid over it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from loadgate.gateway import GatewayConfigError, load_config
from loadgate.gateway.config import ServerConfig
from loadgate.gateway.config_load import default_document, overlay, parse_config
from loadgate.gateway.server import ServerLimits


def test_defaults_carry_the_seed_credentials() -> None:
    config = load_config()
    assert config.server.port == 8080
    assert config.server.admin_port == 8081
    by_name = {c.name: c for c in config.consumers}
    assert by_name["checkout-tester"].static_token == "test-checkout-token"
    assert by_name["rate-limit-tester"].api_key == "lf_test_key_8f3a92_gateway"
    limit = by_name["rate-limit-tester"].limit
    assert limit is not None
    assert limit.rate_per_s < 100
    assert config.clients[0].client_id == "web-frontend"
    assert config.jwt.audiences == ("commerce-api",)
    routes = {r.name: (r.prefix, r.upstream, r.auth) for r in config.routes}
    assert routes["products"] == ("/v1/products", "catalog", "public")
    assert routes["search"] == ("/v1/search", "search", "public")
    assert routes["orders"] == ("/v1/orders", "commerce", "required")


def test_a_user_file_overlays_key_by_key(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("[upstreams.catalog.fault]\nlatency_ms = 20\n[routes.orders]\ntimeout_s = 1\n")
    config = load_config(path, {"gateway": {"processes": 3}})
    assert config.upstream("catalog").fault.latency is not None
    assert config.upstream("catalog").instances == 2
    orders = next(r for r in config.routes if r.name == "orders")
    assert orders.timeout_s == 1.0
    assert orders.methods == ("GET", "POST")
    assert config.server.processes == 3


def test_the_client_limits_are_gateway_keys(tmp_path: Path) -> None:
    path = tmp_path / "limits.toml"
    path.write_text(
        "[gateway]\nmax_url_bytes = 512\nmax_headers = 8\nmax_header_bytes = 1024\n"
        "header_timeout_s = 0.5\nbody_timeout_s = 2\n"
    )
    server = load_config(path).server
    limits = (server.max_url_bytes, server.max_headers, server.max_header_bytes)
    assert limits == (512, 8, 1024)
    assert (server.header_timeout_s, server.body_timeout_s) == (0.5, 2.0)


def test_the_default_client_limits_are_the_servers() -> None:
    # ServerConfig takes its defaults from ServerLimits; default.toml states them again.
    limits = load_config().server.client_limits()
    assert limits == replace(ServerLimits(), max_body_bytes=ServerConfig.max_body_bytes)


def test_overlay_replaces_lists_and_merges_tables() -> None:
    merged = overlay({"a": {"b": 1, "c": [1, 2]}}, {"a": {"c": [3]}, "d": 4})
    assert merged == {"a": {"b": 1, "c": [3]}, "d": 4}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"gateway": {"admin_port": 8080}}, "gateway.admin_port: expected a port other than"),
        ({"jwt": {"secret": "short"}}, "jwt.secret: expected a secret of at least 32 bytes"),
        ({"jwt": {"secret": "x" * 31}}, "for HS256, got 31"),
        ({"jwt": {"algorithm": "RS256"}}, "jwt.public_key_file: expected a PEM file path"),
        ({"consumers": {"x": {"api_key": "a", "static_token": "b"}}}, "consumers.x.api_key"),
        ({"consumers": {"x": {"api_key": "test-checkout-token"}}}, "expected a different"),
        ({"routes": {"extra": {"prefix": "/v1/products", "upstream": "catalog"}}}, "also routes."),
        ({"routes": {"products": {"methods": ["FETCH"]}}}, "routes.products.methods"),
        ({"routes": {"products": {"validate": "nope"}}}, "routes.products.validate"),
        ({"routes": {"products": {"retry_on": [404]}}}, "routes.products.retry_on"),
        ({"upstreams": {"catalog": {"ports": [1]}}}, "catalog.ports: expected a list of 2"),
        ({"upstreams": {"catalog": {"breaker": {"window": 0}}}}, "catalog.breaker.window"),
        ({"upstreams": {"catalog": {"external": True}}}, "catalog.ports: expected the ports"),
        ({"upstreams": {"search": {"external": True, "ports": [1], "fault": {"down": True}}}},
         "search.fault: expected no fault on an external upstream"),
        ({"gateway": {"max_upstream_body_bytes": 10}}, "gateway.max_upstream_body_bytes"),
        ({"gateway": {"max_url_bytes": 100}},
         "gateway.max_url_bytes: expected an integer from 256 to 1048576, got 100"),
        ({"gateway": {"max_headers": 0}},
         "gateway.max_headers: expected an integer from 8 to 10000, got 0"),
        ({"gateway": {"max_header_bytes": "32k"}},
         "gateway.max_header_bytes: expected an integer from 1024 to 1048576, got '32k'"),
        ({"gateway": {"header_timeout_s": 0}},
         "gateway.header_timeout_s: expected a number above 0 and at most 3600, got 0"),
        ({"gateway": {"body_timeout_s": 7200}},
         "gateway.body_timeout_s: expected a number above 0 and at most 3600, got 7200"),
        ({"clients": {"web-frontend": {"users": 5}}}, "clients.web-frontend.users"),
        ({"rate_limit": {"jwt": {"burst": 0}}}, "rate_limit.jwt.burst"),
        ({"surprise": 1}, "surprise: unknown key"),
    ],
)  # fmt: skip
def test_bad_values_name_their_key(change: dict[str, object], message: str) -> None:
    with pytest.raises(GatewayConfigError, match=r"^config: ") as raised:
        parse_config(overlay(default_document(), change))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
