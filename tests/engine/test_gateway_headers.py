"""Cache status and upstream time read from response headers, in the forms real gateways use."""

from __future__ import annotations

import pytest
from geventhttpclient.header import Headers as FastHeaders
from requests.structures import CaseInsensitiveDict

from loadgate.engine.gateway_headers import GatewaySignals, read_signals, server_timing_split_ms
from loadgate.model import Part

HIT = Part.CACHE_HIT
MISS = Part.CACHE_MISS


@pytest.fixture(params=["requests", "geventhttpclient"])
def make_headers(request: pytest.FixtureRequest) -> type:
    """Both of Locust's clients' header containers."""
    return CaseInsensitiveDict if request.param == "requests" else FastHeaders  # type: ignore[no-any-return]


def signals(make_headers: type, total_ms: float = 10.0, **fields: str) -> GatewaySignals | None:
    headers = make_headers({name.replace("_", "-"): value for name, value in fields.items()})
    return read_signals(headers, total_ms)


@pytest.mark.parametrize(
    ("fields", "part"),
    [
        ({"X_Cache_Status": "HIT"}, HIT),
        ({"x-cache-status": "Hit"}, HIT),  # Kong's case
        ({"X_CACHE_STATUS": "STALE"}, HIT),
        ({"X_Cache_Status": "MISS"}, MISS),
        ({"X_Cache_Status": "Refresh"}, MISS),
        ({"X_Cache_Status": "EXPIRED"}, MISS),
        ({"Apisix_Cache_Status": "HIT"}, HIT),
        ({"Apisix_Cache_Status": "MISS"}, MISS),
        ({"X_Cache": "HIT from cache-1.example"}, HIT),
        ({"X_Cache": "TCP_MISS"}, MISS),
        ({"X_Cache": "MISS, HIT"}, HIT),  # the last cache is the nearest the client
        ({"x_tyk_cached_response": "1"}, HIT),
        ({"Age": "12"}, HIT),
        # The explicit status wins over Age.
        ({"X_Cache_Status": "MISS", "Age": "3"}, MISS),
    ],
)
def test_cache_status_forms(make_headers: type, fields: dict[str, str], part: Part) -> None:
    found = signals(make_headers, **fields)
    assert found is not None
    assert found.cache is part


@pytest.mark.parametrize(
    "fields",
    [
        {"X_Cache_Status": "BYPASS"},
        {"X_Cache_Status": ""},
        {"X_Cache_Status": "what"},
        {"X_Cache": "gibberish"},
        {"x_tyk_cached_response": "0"},
        {"Age": "0"},
        {"Age": "-4"},
        {"Age": "soon"},
        {"Content_Type": "application/json", "Server": "nginx"},
    ],
)
def test_no_cache_status_when_the_headers_do_not_say(
    make_headers: type, fields: dict[str, str]
) -> None:
    assert signals(make_headers, **fields) is None


def test_server_timing_gives_upstream_and_the_gateways_own_time(make_headers: type) -> None:
    found = signals(
        make_headers, 50.0, Server_Timing="gateway;dur=1.250, upstream;dur=40.5, total;dur=41.75"
    )
    assert found == GatewaySignals(cache=None, upstream_ms=40.5, gateway_ms=1.25)


def test_without_a_gateway_metric_the_gateway_time_is_the_rest(make_headers: type) -> None:
    found = signals(make_headers, 50.0, Server_Timing='origin;dur=30;desc="app"')
    assert found == GatewaySignals(upstream_ms=30.0, gateway_ms=20.0)
    # Never below zero, when the gateway's clock says more than the client's.
    found = signals(make_headers, 5.0, x_envoy_upstream_service_time="8")
    assert found == GatewaySignals(upstream_ms=8.0, gateway_ms=0.0)


def test_kong_latencies(make_headers: type) -> None:
    found = signals(
        make_headers, 30.0, X_Kong_Upstream_Latency="22", X_Kong_Proxy_Latency="3",
        X_Cache_Status="Miss",
    )  # fmt: skip
    assert found == GatewaySignals(cache=MISS, upstream_ms=22.0, gateway_ms=3.0)
    found = signals(make_headers, 30.0, X_Kong_Upstream_Latency="22")
    assert found == GatewaySignals(upstream_ms=22.0, gateway_ms=8.0)


def test_a_cache_hit_has_no_split(make_headers: type) -> None:
    found = signals(
        make_headers, X_Cache_Status="HIT", Server_Timing="gateway;dur=0.2, upstream;dur=0.000"
    )
    assert found == GatewaySignals(cache=HIT)


@pytest.mark.parametrize(
    "value",
    ["upstream", "upstream;dur=", "upstream;dur=abc", "upstream;dur=-1", "upstream;dur=inf",
     "upstream;dur=nan", "upstream;dur=1e12", ";dur=3", ",,,", "total;dur=4", "\x00;;=="],
)  # fmt: skip
def test_malformed_timings_are_ignored(make_headers: type, value: str) -> None:
    assert signals(make_headers, Server_Timing=value) is None
    assert signals(make_headers, x_envoy_upstream_service_time=value) is None
    assert signals(make_headers, X_Kong_Upstream_Latency=value, X_Kong_Proxy_Latency="x") is None


def test_a_bad_gateway_metric_falls_back_to_the_rest() -> None:
    found = read_signals(
        CaseInsensitiveDict({"Server-Timing": "gateway;dur=x, upstream;dur=4"}), 10.0
    )
    assert found == GatewaySignals(upstream_ms=4.0, gateway_ms=6.0)


def test_server_timing_parsing() -> None:
    assert server_timing_split_ms(
        'db;dur=53, app;dur=47.2;desc="x, y", Upstream;desc=u;DUR="12.5", proxy;dur=0.5'
    ) == (12.5, 0.5)
    assert server_timing_split_ms("upstreams;dur=4, gatewayx;dur=1") == (None, None)
    assert server_timing_split_ms("upstream;dur=bad, origin;dur=7") == (7.0, None)
    assert server_timing_split_ms("") == (None, None)


def test_a_field_on_several_lines_is_read_whole() -> None:
    headers = FastHeaders()
    headers.add("Server-Timing", "gateway;dur=1")
    headers.add("Server-Timing", "upstream;dur=9")
    assert read_signals(headers, 12.0) == GatewaySignals(upstream_ms=9.0, gateway_ms=1.0)


def test_a_plain_mapping_is_read_case_insensitively() -> None:
    assert read_signals({"X-CACHE-STATUS": "HIT"}, 1.0) == GatewaySignals(cache=HIT)
