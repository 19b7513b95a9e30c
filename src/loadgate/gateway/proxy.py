"""The gateway's request pipeline: route, authenticate, limit, validate, cache, proxy.

Per request, in this order (each step may answer on its own):
400 unusable path, 404 no route, 405 method, 401 credentials, 429 rate limit,
400 body schema, cache HIT, 503 breaker open, then the upstream exchange with
timeouts (504), pool limits (503), bad or oversized upstream answers (502) and
retries; every answer carries X-Request-Id and Server-Timing. Routes match,
and upstreams receive, the normalised path. A body over max_body_bytes never
gets here: the server answers 413 before the handler is called.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import time
from dataclasses import dataclass

from loadgate.gateway.auth import MISSING, Authenticator, AuthFailure, Consumer
from loadgate.gateway.breaker import BreakerState, CircuitBreaker
from loadgate.gateway.cache import ResponseCache, variant
from loadgate.gateway.config import GatewayConfig, RouteConfig, UpstreamConfig
from loadgate.gateway.forwarding import forwarded_head, normalized_target, returned_headers
from loadgate.gateway.messages import Headers, Request, Response, error_response
from loadgate.gateway.metrics import GatewayMetrics, RouteMetrics, UpstreamMetrics
from loadgate.gateway.pool import UpstreamError, UpstreamPool, UpstreamResponse, exchange
from loadgate.gateway.ratelimit import Decision, LocalLimiter
from loadgate.gateway.ratelimit_redis import RedisLimiter
from loadgate.gateway.retry import IDEMPOTENT_METHODS, RetryBudget
from loadgate.gateway.routing import PathNormalizer, PrefixRouter
from loadgate.gateway.validation import SCHEMAS, Object, validate_body

REQUEST_ID = re.compile(rb"[!-~]{1,128}")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, kw_only=True)
class UpstreamRuntime:
    """One upstream as the gateway process sees it."""

    config: UpstreamConfig
    pool: UpstreamPool
    breaker: CircuitBreaker
    budget: RetryBudget
    metrics: UpstreamMetrics


@dataclass(frozen=True, kw_only=True)
class RouteRuntime:
    """A route with everything it needs resolved ahead of the first request."""

    config: RouteConfig
    upstream: UpstreamRuntime
    schema: Object | None
    methods: frozenset[str]
    allow: bytes
    metrics: RouteMetrics


class Exchange:
    """Per-request state gathered on the way through the pipeline.

    `target`: the request target with its path normalised, as sent upstream.
    """

    __slots__ = ("headers", "target", "upstream_s")

    def __init__(self, request_id: bytes, target: bytes) -> None:
        self.headers: Headers = [(b"X-Request-Id", request_id)]
        self.target = target
        self.upstream_s = 0.0


class Gateway:
    """The handler the gateway's HTTP server calls for every request."""

    def __init__(
        self,
        config: GatewayConfig,
        addresses: dict[str, list[tuple[str, int]]],
        metrics: GatewayMetrics,
        redis: RedisLimiter | None = None,
    ) -> None:
        self._metrics = metrics
        self._auth = Authenticator(config)
        self._local_limiter = LocalLimiter()
        self._redis = redis
        if redis is not None:
            fallback = metrics.rate_limit_fallback
            redis.watch(
                on_error=metrics.rate_limit_backend_errors.inc,
                on_fallback=lambda falling_back: fallback.set(int(falling_back)),
            )
        self._cache = ResponseCache()
        self._max_upstream_body_bytes = config.server.max_upstream_body_bytes
        self._upstreams = {u.name: self._upstream(u, addresses[u.name]) for u in config.upstreams}
        self._routes = [self._route(route) for route in config.routes]
        self._router = PrefixRouter((r.config.prefix, r) for r in self._routes)
        self._normalize = PathNormalizer()
        self._unmatched = RouteMetrics(metrics, "unmatched")
        self._id_prefix = os.urandom(6).hex().encode()
        self._ids = itertools.count(1)

    def _upstream(
        self, config: UpstreamConfig, addresses: list[tuple[str, int]]
    ) -> UpstreamRuntime:
        metrics = UpstreamMetrics(self._metrics, config.name)
        return UpstreamRuntime(
            config=config,
            pool=UpstreamPool(config, addresses, self._max_upstream_body_bytes),
            breaker=CircuitBreaker(config.breaker, lambda s: metrics.breaker_state.set(int(s))),
            budget=RetryBudget(config.retry),
            metrics=metrics,
        )

    def _route(self, config: RouteConfig) -> RouteRuntime:
        methods = list(config.methods)
        if "GET" in methods:
            # Every route that serves GET serves HEAD (RFC 9110 §9.3.2).
            methods.insert(methods.index("GET") + 1, "HEAD")
        return RouteRuntime(
            config=config,
            upstream=self._upstreams[config.upstream],
            schema=SCHEMAS[config.validate] if config.validate else None,
            methods=frozenset(methods),
            allow=", ".join(methods).encode(),
            metrics=RouteMetrics(self._metrics, config.name),
        )

    def close(self) -> None:
        for upstream in self._upstreams.values():
            upstream.pool.close()

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        request_id = request.header(b"x-request-id")
        if request_id is None or REQUEST_ID.fullmatch(request_id) is None:
            request_id = b"%s%010x" % (self._id_prefix, next(self._ids))
        ex = Exchange(request_id, request.target)
        correlation_id = request.header(b"x-correlation-id")
        if correlation_id is not None:
            ex.headers.append((b"X-Correlation-Id", correlation_id))
        path = self._normalize(request.path)
        if path is None:
            response = error_response(
                400, "bad_path", "the path climbs above the root or has a broken %-escape",
                ex.headers,
            )  # fmt: skip
            return self._finish(self._unmatched, request, response, ex, started)
        if path is not request.path:
            ex.target = normalized_target(path, request.target)
        route = self._router.match(path)
        if route is None:
            response = error_response(
                404, "not_found", f"no route for {request.method} {path}", ex.headers
            )
            return self._finish(self._unmatched, request, response, ex, started)
        in_flight = self._metrics.in_flight
        in_flight.inc()
        try:
            response = await self._serve(route, request, ex)
        finally:
            in_flight.dec()
        return self._finish(route.metrics, request, response, ex, started)

    def _finish(
        self,
        metrics: RouteMetrics,
        request: Request,
        response: Response,
        ex: Exchange,
        started: float,
    ) -> Response:
        total_s = time.perf_counter() - started
        gateway_s = max(0.0, total_s - ex.upstream_s)
        response.headers.append(
            (
                b"Server-Timing",
                b"gateway;dur=%.3f, upstream;dur=%.3f, total;dur=%.3f"
                % (gateway_s * 1000.0, ex.upstream_s * 1000.0, total_s * 1000.0),
            )
        )
        metrics.count(request.method, response.status)
        metrics.gateway_latency.observe(gateway_s)
        metrics.total_latency.observe(total_s)
        return response

    async def _serve(self, route: RouteRuntime, request: Request, ex: Exchange) -> Response:
        if request.method not in route.methods:
            ex.headers.append((b"Allow", route.allow))
            return error_response(
                405, "method_not_allowed", f"{request.method} is not allowed here", ex.headers
            )
        consumer = self._consumer(route, request)
        if isinstance(consumer, AuthFailure):
            return consumer.response(ex.headers)
        decision = await self._limit(consumer)
        ex.headers += decision.headers()
        if not decision.allowed:
            return error_response(
                429, "rate_limited", "rate limit exceeded, retry later", ex.headers
            )
        if route.schema is not None and request.method in BODY_METHODS:
            invalid = validate_body(route.schema, request.body)
            if invalid is not None:
                return error_response(
                    400, "invalid_request", f"{invalid.field} {invalid.message}",
                    ex.headers, field=invalid.field,
                )  # fmt: skip
        return await self._cached(route, request, consumer, ex)

    def _consumer(self, route: RouteRuntime, request: Request) -> Consumer | AuthFailure:
        result = self._auth.authenticate(
            request.header(b"authorization"), request.header(b"x-api-key")
        )
        if result is None:
            if route.config.auth == "required":
                return MISSING
            return self._auth.anonymous(request.client_ip)
        return result

    async def _limit(self, consumer: Consumer) -> Decision:
        if self._redis is not None:
            decision = await self._redis.take(consumer.bucket, consumer.limit)
        else:
            decision = self._local_limiter.take(consumer.bucket, consumer.limit)
        self._metrics.rate_limit_decision(consumer.name, decision.allowed)
        return decision

    async def _cached(
        self, route: RouteRuntime, request: Request, consumer: Consumer, ex: Exchange
    ) -> Response:
        ttl_s = route.config.cache_ttl_s
        cache_control = request.header(b"cache-control") or b""
        if ttl_s <= 0 or request.method != "GET" or b"no-cache" in cache_control:
            route.metrics.cache_bypass.inc()
            ex.headers.append((b"X-Cache-Status", b"BYPASS"))
            return await self._proxy(route, request, consumer, ex)
        key = cache_key(ex.target, consumer)
        entry = self._cache.get(key, request)
        if entry is not None:
            route.metrics.cache_hit.inc()
            headers = entry.headers + ex.headers
            headers += ((b"X-Cache-Status", b"HIT"), (b"Age", b"%d" % self._cache.age_s(entry)))
            return Response(entry.status, headers, entry.body)
        route.metrics.cache_miss.inc()
        ex.headers.append((b"X-Cache-Status", b"MISS"))
        response = await self._proxy(route, request, consumer, ex)
        if response.status == 200:
            upstream_headers = response.headers[: -len(ex.headers)]
            chosen_by = variant(upstream_headers, request)
            if chosen_by is not None:
                self._cache.put(key, 200, upstream_headers, response.body, ttl_s, variant=chosen_by)
        return response

    async def _proxy(
        self, route: RouteRuntime, request: Request, consumer: Consumer, ex: Exchange
    ) -> Response:
        head = forwarded_head(request, consumer.kind, consumer.subject, ex.headers[0][1])
        outcome = await self._attempts(route, request, head, ex)
        if isinstance(outcome, UpstreamResponse):
            headers = returned_headers(
                outcome.headers, outcome.connection, head_request=request.method == "HEAD"
            )
            headers += ex.headers
            return Response(outcome.status, headers, outcome.body)
        return self._failure(route.upstream, outcome, ex)

    async def _attempts(
        self, route: RouteRuntime, request: Request, head: bytes, ex: Exchange
    ) -> UpstreamResponse | UpstreamError:
        """The first attempt and its retries, within the route's timeout and retry budget."""
        upstream = route.upstream
        config = route.config
        loop = asyncio.get_running_loop()
        deadline = loop.time() + config.timeout_s
        retries_left = config.retries if request.method in IDEMPOTENT_METHODS else 0
        budget = upstream.budget
        budget.active_requests += 1
        holding_retry = False
        try:
            retry_number = 0
            while True:
                outcome = await self._attempt(
                    upstream, request=request, head=head, ex=ex, deadline=deadline, config=config
                )
                if holding_retry:
                    budget.release()
                    holding_retry = False
                if not _retryable(outcome, config) or retries_left == 0:
                    return outcome
                retry_number += 1
                backoff_s = budget.backoff_s(retry_number)
                if loop.time() + backoff_s >= deadline or not budget.try_acquire():
                    return outcome
                holding_retry = True
                retries_left -= 1
                upstream.metrics.retries.inc()
                await asyncio.sleep(backoff_s)
        finally:
            budget.active_requests -= 1
            if holding_retry:
                budget.release()

    async def _attempt(
        self,
        upstream: UpstreamRuntime,
        *,
        request: Request,
        head: bytes,
        ex: Exchange,
        deadline: float,
        config: RouteConfig,
    ) -> UpstreamResponse | UpstreamError:
        admitted = upstream.breaker.admit()
        if admitted is None:
            upstream.metrics.error("breaker_open")
            return UpstreamError("breaker_open", f"the circuit to {upstream.config.name} is open")
        loop = asyncio.get_running_loop()
        try_deadline = min(deadline, loop.time() + config.try_timeout_s)
        try:
            instance, connection = await upstream.pool.acquire(try_deadline)
        except UpstreamError as error:
            if error.kind == "pool":
                upstream.breaker.forget(admitted)
            else:
                upstream.breaker.record(admitted, success=False)
            upstream.metrics.error(error.kind)
            return error
        started = time.perf_counter()
        line = b"%s %s HTTP/1.1\r\nHost: %s\r\n" % (
            request.method.encode(),
            ex.target,
            instance.host_header,
        )
        try:
            outcome: UpstreamResponse | UpstreamError = await exchange(
                connection, line + head + request.body, try_deadline, request.method == "HEAD"
            )
        except UpstreamError as error:
            outcome = error
            upstream.metrics.error(error.kind)
        finally:
            upstream.pool.release(instance, connection)
        elapsed_s = time.perf_counter() - started
        ex.upstream_s += elapsed_s
        upstream.metrics.latency.observe(elapsed_s)
        failed = isinstance(outcome, UpstreamError) or outcome.status >= 500
        upstream.breaker.record(admitted, success=not failed)
        if admitted is BreakerState.HALF_OPEN:
            ex.headers.append((b"X-Circuit-Breaker", b"half-open"))
        return outcome

    def _failure(self, upstream: UpstreamRuntime, error: UpstreamError, ex: Exchange) -> Response:
        name = upstream.config.name
        headers = ex.headers
        if error.kind == "breaker_open":
            retry_after_s = max(1, round(upstream.breaker.retry_after_s() + 0.5))
            headers += ((b"X-Circuit-Breaker", b"open"), (b"Retry-After", b"%d" % retry_after_s))
            return error_response(
                503, "circuit_open", f"upstream {name} is failing; the circuit is open",
                headers, upstream=name,
            )  # fmt: skip
        if error.kind == "pool":
            headers.append((b"X-Gateway-Overloaded", b"true"))
            return error_response(503, "upstream_overloaded", str(error), headers, upstream=name)
        if error.kind == "timeout":
            return error_response(
                504, "upstream_timeout", f"upstream {name} did not answer in time",
                headers, upstream=name,
            )  # fmt: skip
        if error.kind == "body_too_large":
            return error_response(
                502, "upstream_body_too_large", str(error), headers, upstream=name
            )
        return error_response(502, "bad_gateway", str(error), headers, upstream=name)


def _retryable(outcome: UpstreamResponse | UpstreamError, config: RouteConfig) -> bool:
    if isinstance(outcome, UpstreamResponse):
        return outcome.status in config.retry_on
    return outcome.kind in ("connect", "reset", "timeout", "protocol", "truncated")


def cache_key(target: bytes, consumer: Consumer) -> bytes:
    """Anonymous callers share entries; an identified consumer only ever sees its own.

    The upstream answers with X-Consumer-Id in hand, so an identified caller's
    response may be theirs alone (as Kong's proxy-cache varies on the consumer).
    """
    if consumer.kind == "anonymous":
        return target
    return b"%s\n%s" % (target, consumer.bucket.encode())
