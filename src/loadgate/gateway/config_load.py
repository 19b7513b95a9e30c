"""Reading the gateway's TOML config: the packaged default, a user file laid over it, flags."""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from loadgate.gateway.config import (
    MIN_HS256_SECRET_BYTES,
    BreakerConfig,
    ClientConfig,
    ConsumerConfig,
    GatewayConfig,
    JwtConfig,
    Limit,
    RateLimitConfig,
    RetryPolicy,
    RouteConfig,
    ServerConfig,
    UpstreamConfig,
)
from loadgate.gateway.errors import GatewayConfigError
from loadgate.gateway.faults import parse_fault
from loadgate.gateway.fields import Table
from loadgate.gateway.validation import SCHEMAS

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_PORT = 65_535


def default_document() -> dict[str, Any]:
    """The packaged default.toml as a dict."""
    text = resources.files("loadgate.gateway").joinpath("default.toml").read_text("utf-8")
    return tomllib.loads(text)


def read_document(path: Path) -> dict[str, Any]:
    """A user config file as a dict; unreadable or invalid TOML is a config error."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise GatewayConfigError(f"--config: cannot read {path}: {exc.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GatewayConfigError(f"--config: {path} is not valid TOML: {exc}") from None


def overlay(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key, anything else in `top` replaces what `base` had."""
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = overlay(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(
    path: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> GatewayConfig:
    """Default config, then the file at `path`, then `overrides` ({"gateway": {...}})."""
    document = default_document()
    if path is not None:
        document = overlay(document, read_document(path))
    if overrides:
        document = overlay(document, overrides)
    return parse_config(document)


def parse_config(document: Mapping[str, Any]) -> GatewayConfig:
    """Turn a merged document into a GatewayConfig, or raise naming the first bad key."""
    root = Table(document, "")
    config = GatewayConfig(
        server=_server(root.table("gateway")),
        rate_limit=_rate_limit(root.table("rate_limit")),
        jwt=_jwt(root.table("jwt")),
        clients=tuple(_client(name, table) for name, table in root.tables("clients")),
        consumers=tuple(_consumer(name, table) for name, table in root.tables("consumers")),
        upstreams=tuple(_upstream(name, table) for name, table in root.tables("upstreams")),
        routes=tuple(_route(name, table) for name, table in root.tables("routes")),
    )
    root.finish()
    _check_references(config, root)
    return config


def _port(table: Table, key: str, default: int) -> int:
    return table.integer(key, default, low=0, high=MAX_PORT)


def _server(table: Table) -> ServerConfig:
    d = ServerConfig()
    server = ServerConfig(
        port=_port(table, "port", d.port),
        admin_port=_port(table, "admin_port", d.admin_port),
        processes=table.integer("processes", d.processes, low=1, high=64),
        max_body_bytes=table.integer("max_body_bytes", d.max_body_bytes, low=1, high=1 << 30),
        keep_alive_s=table.number("keep_alive_s", d.keep_alive_s, above=0.0),
        max_upstream_body_bytes=table.integer(
            "max_upstream_body_bytes", d.max_upstream_body_bytes, low=1024, high=1 << 31
        ),
        # Lower bounds leave room for an ordinary request (a target, Host, credentials);
        # upper ones stop a typo from letting one client make the gateway buffer megabytes.
        max_url_bytes=table.integer("max_url_bytes", d.max_url_bytes, low=256, high=1 << 20),
        max_headers=table.integer("max_headers", d.max_headers, low=8, high=10_000),
        max_header_bytes=table.integer(
            "max_header_bytes", d.max_header_bytes, low=1024, high=1 << 20
        ),
        header_timeout_s=table.number(
            "header_timeout_s", d.header_timeout_s, above=0.0, high=3600.0
        ),
        body_timeout_s=table.number("body_timeout_s", d.body_timeout_s, above=0.0, high=3600.0),
    )
    table.finish()
    if server.port and server.port == server.admin_port:
        raise table.fail("admin_port", f"a port other than gateway.port ({server.port})")
    return server


def _limit(table: Table, default: Limit) -> Limit:
    limit = Limit(
        rate_per_s=table.number("rate_per_s", default.rate_per_s, above=0.0),
        burst=table.integer("burst", default.burst, low=1),
    )
    table.finish()
    return limit


def _rate_limit(table: Table) -> RateLimitConfig:
    defaults = RateLimitConfig()
    redis_url = table.string("redis_url", "")
    if redis_url:
        parts = urlsplit(redis_url)
        if parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path):
            raise table.fail("redis_url", 'a URL like "redis://127.0.0.1:6379/0"', redis_url)
    config = RateLimitConfig(
        redis_url=redis_url,
        anonymous=_limit(table.table("anonymous"), defaults.anonymous),
        jwt=_limit(table.table("jwt"), defaults.jwt),
        consumer=_limit(table.table("consumer"), defaults.consumer),
    )
    table.finish()
    return config


def _pem(table: Table, key: str, marker: str) -> str:
    file_name = table.string(key, "")
    if not file_name:
        raise table.fail(key, "a PEM file path when algorithm is RS256")
    try:
        text = Path(file_name).read_text("utf-8")
    except OSError as exc:
        raise table.fail(key, f"a readable PEM file ({exc.strerror})", file_name) from None
    if marker not in text:
        raise table.fail(key, f"a PEM file containing a {marker.lower()}", file_name)
    return text


def _jwt(table: Table) -> JwtConfig:
    algorithm = table.string("algorithm", "HS256", choices=("HS256", "RS256"))
    secret = table.string("secret", "")
    public_key_pem = private_key_pem = ""
    size = len(secret.encode())
    if algorithm == "HS256" and size < MIN_HS256_SECRET_BYTES:
        # The secret itself is never echoed: error lines end up in CI logs.
        raise table.fail(
            "secret", f"a secret of at least {MIN_HS256_SECRET_BYTES} bytes for HS256, got {size}"
        )
    if algorithm == "RS256":
        public_key_pem = _pem(table, "public_key_file", "PUBLIC KEY")
        private_key_pem = _pem(table, "private_key_file", "PRIVATE KEY")
    config = JwtConfig(
        algorithm=algorithm,
        secret=secret,
        public_key_pem=public_key_pem,
        private_key_pem=private_key_pem,
        issuer=table.string("issuer", "", empty=False),
        audiences=table.strings("audiences", ()),
        token_ttl_s=table.integer("token_ttl_s", 3600, low=1, high=31 * 86_400),
        leeway_s=table.number("leeway_s", 0.0, low=0.0, high=3600.0),
    )
    table.finish()
    if not config.audiences:
        raise table.fail("audiences", "a non-empty list of strings")
    return config


def _client(client_id: str, table: Table) -> ClientConfig:
    client = ClientConfig(
        client_id=client_id,
        secret=table.string("secret", empty=False),
        user_pattern=table.string("users", empty=False),
        password=table.string("password", empty=False),
        scope=table.string("scope", ""),
    )
    table.finish()
    # Compiling now turns a broken pattern into a config error, not a 500 at login.
    fnmatch.translate(client.user_pattern)
    return client


def _consumer(name: str, table: Table) -> ConsumerConfig:
    api_key = table.string("api_key", "")
    static_token = table.string("static_token", "")
    if bool(api_key) == bool(static_token):
        raise table.fail("api_key", "exactly one of api_key or static_token")
    limit: Limit | None = None
    if table.has("rate_per_s") or table.has("burst"):
        limit = Limit(
            rate_per_s=table.number("rate_per_s", above=0.0),
            burst=table.integer("burst", low=1),
        )
    table.finish()
    return ConsumerConfig(name=name, api_key=api_key, static_token=static_token, limit=limit)


def _upstream(name: str, table: Table) -> UpstreamConfig:
    instances = table.integer("instances", 1, low=1, high=16)
    ports = table.integers("ports", ())
    if ports and (len(ports) != instances or not all(0 < p <= MAX_PORT for p in ports)):
        raise table.fail("ports", f"a list of {instances} port(s) from 1 to {MAX_PORT}", ports)
    external = table.boolean("external", False)
    if external and not ports:
        raise table.fail("ports", "the ports the external upstream listens on (external = true)")
    config = UpstreamConfig(
        name=name,
        instances=instances,
        ports=ports,
        external=external,
        max_connections=table.integer("max_connections", 128, low=1, high=65_536),
        max_pending=table.integer("max_pending", 1024, low=0, high=1_000_000),
        pool_timeout_s=table.number("pool_timeout_s", 1.0, low=0.0, high=3600.0),
        connect_timeout_s=table.number("connect_timeout_s", 1.0, above=0.0, high=3600.0),
        breaker=_breaker(table.table("breaker")),
        retry=_retry(table.table("retry")),
        fault=parse_fault(table.table("fault")),
    )
    table.finish()
    if external and config.fault.active:
        raise table.fail("fault", "no fault on an external upstream (faults act in the mocks)")
    return config


def _breaker(table: Table) -> BreakerConfig:
    window = table.integer("window", 20, low=1, high=10_000)
    breaker = BreakerConfig(
        enabled=table.boolean("enabled", True),
        window=window,
        min_requests=table.integer("min_requests", min(10, window), low=1, high=window),
        failure_ratio=table.number("failure_ratio", 0.5, above=0.0, high=1.0),
        open_s=table.number("open_s", 5.0, above=0.0, high=3600.0),
        half_open_probes=table.integer("half_open_probes", 2, low=1, high=1000),
    )
    table.finish()
    return breaker


def _retry(table: Table) -> RetryPolicy:
    policy = RetryPolicy(
        budget_percent=table.number("budget_percent", 20.0, low=0.0, high=100.0),
        min_concurrency=table.integer("min_concurrency", 3, low=0),
        backoff_base_ms=table.number("backoff_base_ms", 25.0, low=0.0, high=60_000.0),
        backoff_max_ms=table.number("backoff_max_ms", 250.0, low=0.0, high=60_000.0),
    )
    table.finish()
    return policy


def _route(name: str, table: Table) -> RouteConfig:
    prefix = table.string("prefix", empty=False)
    if not prefix.startswith("/") or (len(prefix) > 1 and prefix.endswith("/")):
        raise table.fail("prefix", 'a path starting with "/" and not ending with "/"', prefix)
    methods = table.strings("methods", ("GET",))
    bad = [m for m in methods if m not in METHODS]
    if not methods or bad:
        raise table.fail("methods", "a non-empty list of " + ", ".join(METHODS), list(methods))
    validate = table.string("validate", "", choices=("", *sorted(SCHEMAS)))
    route = RouteConfig(
        name=name,
        prefix=prefix,
        upstream=table.string("upstream", empty=False),
        methods=methods,
        auth=table.string("auth", "required", choices=("public", "required")),
        timeout_s=table.number("timeout_s", 5.0, above=0.0, high=3600.0),
        per_try_timeout_s=table.number("per_try_timeout_s", 0.0, low=0.0, high=3600.0),
        retries=table.integer("retries", 2, low=0, high=10),
        retry_on=table.integers("retry_on", (502, 503, 504)),
        cache_ttl_s=table.number("cache_ttl_s", 0.0, low=0.0, high=86_400.0),
        validate=validate,
    )
    table.finish()
    if any(not 500 <= status <= 599 for status in route.retry_on):
        raise table.fail("retry_on", "a list of 5xx status codes", list(route.retry_on))
    return route


def _check_references(config: GatewayConfig, root: Table) -> None:
    names = {upstream.name for upstream in config.upstreams}
    prefixes: dict[str, str] = {}
    for route in config.routes:
        if route.upstream not in names:
            known = ", ".join(sorted(names)) or "none"
            raise GatewayConfigError(
                f"config: routes.{route.name}.upstream: expected one of the upstreams "
                f"({known}), got {route.upstream!r}"
            )
        if route.prefix in prefixes:
            raise GatewayConfigError(
                f"config: routes.{route.name}.prefix: expected a prefix no other route has, "
                f"got {route.prefix!r} (also routes.{prefixes[route.prefix]}.prefix)"
            )
        prefixes[route.prefix] = route.name
    if not config.routes:
        raise root.fail("routes", "at least one [routes.NAME] table")
    secrets = [c.api_key or c.static_token for c in config.consumers]
    if len(set(secrets)) != len(secrets):
        raise root.fail("consumers", "a different api_key or static_token for each consumer")
