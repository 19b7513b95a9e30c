"""The gateway's configuration as frozen values (read by `config_load`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from loadgate.gateway.faults import Fault
from loadgate.gateway.server import ServerLimits

HOST = "127.0.0.1"
# HS256 keys shorter than the hash output make tokens cheap to brute-force (RFC 7518 §3.2).
MIN_HS256_SECRET_BYTES = 32


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """Where the gateway listens and what it accepts from clients.

    The client limits become the API port's ServerLimits (README: "HTTP/1.1 and
    its limits"); their defaults are ServerLimits' own, but for a smaller body cap.
    """

    port: int = 8080
    admin_port: int = 8081
    processes: int = 1
    max_body_bytes: int = 65_536
    keep_alive_s: float = ServerLimits.keep_alive_s
    max_url_bytes: int = ServerLimits.max_url_bytes
    max_headers: int = ServerLimits.max_headers
    max_header_bytes: int = ServerLimits.max_header_bytes
    header_timeout_s: float = ServerLimits.header_timeout_s
    body_timeout_s: float = ServerLimits.body_timeout_s
    # Upstream bodies are buffered whole; beyond this the answer is a 502.
    max_upstream_body_bytes: int = 8 << 20

    def client_limits(self) -> ServerLimits:
        """What the API port accepts from each client connection."""
        return ServerLimits(
            max_body_bytes=self.max_body_bytes,
            keep_alive_s=self.keep_alive_s,
            max_url_bytes=self.max_url_bytes,
            max_headers=self.max_headers,
            max_header_bytes=self.max_header_bytes,
            header_timeout_s=self.header_timeout_s,
            body_timeout_s=self.body_timeout_s,
        )


@dataclass(frozen=True, kw_only=True)
class Limit:
    """A token bucket: refills at rate_per_s, holds at most burst tokens."""

    rate_per_s: float
    burst: int


@dataclass(frozen=True, kw_only=True)
class RateLimitConfig:
    """Who is limited how much, and where the buckets live."""

    redis_url: str = ""
    anonymous: Limit = field(default_factory=lambda: Limit(rate_per_s=1000.0, burst=2000))
    jwt: Limit = field(default_factory=lambda: Limit(rate_per_s=100.0, burst=200))
    consumer: Limit = field(default_factory=lambda: Limit(rate_per_s=500.0, burst=1000))


@dataclass(frozen=True, kw_only=True)
class JwtConfig:
    """How bearer JWTs are signed (by the identity upstream) and verified (by the gateway)."""

    algorithm: str = "HS256"
    secret: str = ""
    public_key_pem: str = ""
    private_key_pem: str = ""
    issuer: str = ""
    audiences: tuple[str, ...] = ()
    token_ttl_s: int = 3600
    leeway_s: float = 0.0

    @property
    def verify_key(self) -> str:
        return self.secret if self.algorithm == "HS256" else self.public_key_pem

    @property
    def signing_key(self) -> str:
        return self.secret if self.algorithm == "HS256" else self.private_key_pem


@dataclass(frozen=True, kw_only=True)
class ClientConfig:
    """An OAuth2 client allowed to use the password grant, and the users it may log in."""

    client_id: str
    secret: str
    user_pattern: str
    password: str
    scope: str = ""


@dataclass(frozen=True, kw_only=True)
class ConsumerConfig:
    """A named consumer identified by an API key or a static bearer token."""

    name: str
    api_key: str = ""
    static_token: str = ""
    limit: Limit | None = None


@dataclass(frozen=True, kw_only=True)
class BreakerConfig:
    """Circuit breaker over the last `window` attempts to one upstream."""

    enabled: bool = True
    window: int = 20
    min_requests: int = 10
    failure_ratio: float = 0.5
    open_s: float = 5.0
    half_open_probes: int = 2


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Backoff between attempts and the share of traffic retries may add."""

    budget_percent: float = 20.0
    min_concurrency: int = 3
    backoff_base_ms: float = 25.0
    backoff_max_ms: float = 250.0


@dataclass(frozen=True, kw_only=True)
class UpstreamConfig:
    """An upstream service: its instances, the gateway's pool to it, and its fault.

    A mock started by loadgate, or `external`: servers of the user's already
    listening on `ports` of 127.0.0.1, for which no mock starts and no fault applies.
    """

    name: str
    instances: int = 1
    ports: tuple[int, ...] = ()
    external: bool = False
    max_connections: int = 128
    max_pending: int = 1024
    pool_timeout_s: float = 1.0
    connect_timeout_s: float = 1.0
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    fault: Fault = field(default_factory=Fault)


@dataclass(frozen=True, kw_only=True)
class RouteConfig:
    """A path prefix, the upstream that serves it, and the policies on the way."""

    name: str
    prefix: str
    upstream: str
    methods: tuple[str, ...] = ("GET",)
    auth: str = "required"
    timeout_s: float = 5.0
    per_try_timeout_s: float = 0.0
    retries: int = 2
    retry_on: tuple[int, ...] = (502, 503, 504)
    cache_ttl_s: float = 0.0
    validate: str = ""

    @property
    def try_timeout_s(self) -> float:
        return self.per_try_timeout_s or self.timeout_s


@dataclass(frozen=True, kw_only=True)
class GatewayConfig:
    """Everything `loadgate gateway` runs with."""

    server: ServerConfig = field(default_factory=ServerConfig)
    rate_limit: RateLimitConfig = field(default_factory=RateLimitConfig)
    jwt: JwtConfig = field(default_factory=JwtConfig)
    clients: tuple[ClientConfig, ...] = ()
    consumers: tuple[ConsumerConfig, ...] = ()
    upstreams: tuple[UpstreamConfig, ...] = ()
    routes: tuple[RouteConfig, ...] = ()

    def upstream(self, name: str) -> UpstreamConfig:
        for upstream in self.upstreams:
            if upstream.name == name:
                return upstream
        raise KeyError(name)

    def routes_of(self, upstream: str) -> tuple[RouteConfig, ...]:
        return tuple(route for route in self.routes if route.upstream == upstream)
