"""Routing, body validation, faults and the response cache, without a server."""

from __future__ import annotations

import json
import random

import pytest

from loadgate.gateway.cache import ResponseCache, variant
from loadgate.gateway.errors import GatewayConfigError
from loadgate.gateway.faults import Fault, FaultState, Latency, fault_from_json
from loadgate.gateway.messages import Request
from loadgate.gateway.routing import PathNormalizer, PrefixRouter, normalize_path
from loadgate.gateway.validation import SCHEMAS, validate_body


def test_longest_prefix_on_segment_boundaries() -> None:
    router = PrefixRouter([("/v1/auth/token", "token"), ("/v1", "v1"), ("/v1/products", "p")])
    assert router.match("/v1/products") == "p"
    assert router.match("/v1/products/1042") == "p"
    assert router.match("/v1/productsX") == "v1"
    assert router.match("/v1/auth/token") == "token"
    assert router.match("/v2/products") is None


@pytest.mark.parametrize(
    ("path", "normal"),
    [
        ("/v1/products/1042", "/v1/products/1042"),
        ("/v1/products/../users/profile", "/v1/users/profile"),
        ("/v1/./products//1042/", "/v1/products/1042/"),
        ("/v1/products/%2e%2E/users", "/v1/users"),
        ("/v1/%7euser/%41%2f%3a", "/v1/~user/A%2F%3A"),
        ("/v1/a/b/..", "/v1/a/"),
        ("/v1/..", "/"),
        ("/", "/"),
        ("*", "*"),
        ("/..", None),
        ("/v1/../../etc", None),
        ("/v1/%2", None),
        ("/v1/%zz", None),
    ],
)
def test_path_normalisation(path: str, normal: str | None) -> None:
    assert normalize_path(path) == normal
    assert PathNormalizer()(path) == normal


def test_the_normaliser_returns_ordinary_paths_as_they_are_and_bounds_its_memo() -> None:
    normalizer = PathNormalizer(max_entries=2)
    path = "/v1/products/file.json"
    assert normalizer(path) is path
    for i in range(5):
        assert normalizer(f"/v1//{i}") == f"/v1/{i}"
    assert len(normalizer._memo) <= 2


@pytest.mark.parametrize(
    ("schema", "body", "field"),
    [
        ("cart_item", {"product_id": 1, "quantity": 1}, None),
        ("cart_item", {"product_id": 1}, "quantity"),
        ("cart_item", {"product_id": "1", "quantity": 1}, "product_id"),
        ("cart_item", {"product_id": 1, "quantity": True}, "quantity"),
        ("cart_item", {"product_id": 1, "quantity": 1, "currency": "usd"}, "currency"),
        ("order", {"cart_id": "c", "payment_method": {"type": "cash", "token": "t"}},
         "payment_method.type"),
        ("order", {"cart_id": "c", "payment_method": {"type": "card", "token": "t"},
                   "shipping_address": {"first_name": "A"}}, "shipping_address.last_name"),
        ("token_request", {"grant_type": "password", "client_id": "x"}, "client_secret"),
        ("token_request", [], "body"),
    ],
)  # fmt: skip
def test_validation_names_the_first_bad_field(schema: str, body: object, field: str | None) -> None:
    invalid = validate_body(SCHEMAS[schema], json.dumps(body).encode())
    assert (invalid.field if invalid else None) == field


def test_invalid_json_is_a_body_error() -> None:
    invalid = validate_body(SCHEMAS["order"], b"{not json")
    assert invalid is not None
    assert invalid.field == "body"


def test_fault_parsing_and_errors() -> None:
    fault = fault_from_json({"latency_ms": 20, "error_rate": 0.5, "error_status": 503}, "c")
    assert fault.latency == Latency(ms=20.0)
    assert fault.to_dict()["error_status"] == 503
    normal = fault_from_json({"latency": {"distribution": "normal", "mean_ms": 20,
                                          "stddev_ms": 5}}, "c")  # fmt: skip
    assert normal.latency is not None
    assert normal.latency.distribution == "normal"
    for bad, key in [
        ({"latency_ms": -1}, "faults.c.latency_ms"),
        ({"latency": {"distribution": "zipf"}}, "faults.c.latency.distribution"),
        ({"stall_every_s": 1}, "faults.c.stall_for_s"),
        ({"stall_every_s": 1, "stall_for_s": 2}, "faults.c.stall_for_s"),
        ({"down": "yes"}, "faults.c.down"),
        ({"error_status": 200}, "faults.c.error_status"),
    ]:
        with pytest.raises(GatewayConfigError, match=key.replace(".", r"\.")):
            fault_from_json(bad, "c")


@pytest.mark.parametrize("distribution", ["uniform", "normal", "exponential", "lognormal"])
def test_latency_distributions_stay_in_range(distribution: str) -> None:
    latency = Latency(distribution=distribution, min_ms=10, max_ms=20, mean_ms=15,
                      stddev_ms=3, median_ms=15, sigma=0.3)  # fmt: skip
    rng = random.Random(1)
    samples = [latency.sample_ms(rng) for _ in range(2000)]
    assert all(s >= 0 for s in samples)
    assert 10 < sum(samples) / len(samples) < 20


def test_error_rate_is_honoured() -> None:
    state = FaultState(Fault(error_rate=0.25, error_status=502), seed=3)
    statuses = [state.error_status() for _ in range(4000)]
    assert 800 < statuses.count(502) < 1200
    assert set(statuses) == {None, 502}


def test_stall_starts_at_the_end_of_each_period() -> None:
    state = FaultState(Fault(stall_every_s=1000.0, stall_for_s=10.0))
    assert state.delay_s() == 0.0
    state.since -= 995.0
    assert 4.0 < state.delay_s() <= 5.0


def test_cache_expires_and_evicts_oldest() -> None:
    now = [0.0]
    cache = ResponseCache(max_entries=2, clock=lambda: now[0])
    cache.put(b"/a", 200, [], b"a", 10.0)
    cache.put(b"/b", 200, [], b"b", 10.0)
    cache.put(b"/c", 200, [], b"c", 10.0)
    assert cache.get(b"/a", _request()) is None
    now[0] = 3.5
    entry = cache.get(b"/b", _request())
    assert entry is not None
    assert cache.age_s(entry) == 3
    now[0] = 10.0
    assert cache.get(b"/b", _request()) is None


def _request(*headers: tuple[bytes, bytes]) -> Request:
    return Request(method="GET", target=b"/a", headers=list(headers))


def test_a_cached_variant_serves_only_requests_with_the_same_varied_headers() -> None:
    cache = ResponseCache()
    tenant_a = _request((b"X-Tenant-Id", b"a"))
    chosen_by = variant([(b"Vary", b"Accept-Language, X-Tenant-Id")], tenant_a)
    assert chosen_by == ((b"accept-language", None), (b"x-tenant-id", b"a"))
    cache.put(b"/a", 200, [], b"for a", 10.0, variant=chosen_by)
    assert cache.get(b"/a", tenant_a) is not None
    assert cache.get(b"/a", _request((b"x-tenant-id", b"b"))) is None
    assert cache.get(b"/a", _request()) is None


@pytest.mark.parametrize(
    "header",
    [(b"Vary", b"*"), (b"Cache-Control", b"no-store"), (b"cache-control", b"private, max-age=9")],
)
def test_responses_that_forbid_storing_are_not_stored(header: tuple[bytes, bytes]) -> None:
    assert variant([(b"Content-Type", b"application/json"), header], _request()) is None
