"""The analysis on gateways we did not write: nginx and HAProxy from examples/gateways.

Each is started by a fixture with its example config in front of `loadgate
gateway --upstreams-only`; a short `loadgate run` sends more than the 20/s the
examples allow one API key, and the stored run must show the 429s as rate
limiting and the limit held.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import SCRIPTS, RunLoadgate, read_json
from tests.fixtures.real_gateways import RealGateway

pytestmark = pytest.mark.slow

KINDS = ["nginx", "haproxy"]
KEY = {"X-API-Key": "lf_test_key_8f3a92_gateway"}
LIMIT_PER_S = 20  # both examples: 20 requests/s per API key


@pytest.mark.parametrize("kind", KINDS)
def test_a_request_without_a_valid_key_gets_401(
    kind: str, real_gateway_factory: Callable[[str], RealGateway]
) -> None:
    url = real_gateway_factory(kind).url + "/v1/products/7"
    for headers in ({}, {"X-API-Key": "not-a-key"}):
        response = httpx.get(url, headers=headers, timeout=5.0)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["WWW-Authenticate"].startswith("ApiKey")
    assert httpx.get(url, headers=KEY, timeout=5.0).status_code == 200


@pytest.mark.parametrize("kind", KINDS)
def test_over_the_limit_the_answer_is_429_with_retry_after(
    kind: str, real_gateway_factory: Callable[[str], RealGateway]
) -> None:
    url = real_gateway_factory(kind).url + "/v1/products/7"
    with httpx.Client(headers=KEY, timeout=5.0) as client:
        # Three times the burst in (much) less than 2 s: the last ones are over the limit.
        answers = [client.get(url) for _ in range(3 * LIMIT_PER_S)]
    assert {a.status_code for a in answers} == {200, 429}
    rejected = [a for a in answers if a.status_code == 429]
    assert all(a.headers.get("Retry-After") == "1" for a in rejected)
    assert rejected[-1].json()["error"] == "rate_limited"


@pytest.mark.parametrize("kind", KINDS)
def test_a_cached_route_says_miss_then_hit(
    kind: str, real_gateway_factory: Callable[[str], RealGateway]
) -> None:
    base = real_gateway_factory(kind).url
    search = f"{base}/v1/search?q={uuid.uuid4().hex}"  # never asked before: not in the cache
    first, second = (httpx.get(search, headers=KEY, timeout=5.0) for _ in range(2))
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers["X-Cache-Status"] == "MISS"
    assert second.headers["X-Cache-Status"] == "HIT"
    assert second.content == first.content
    # Product pages are not cached by either example.
    product = httpx.get(f"{base}/v1/products/7", headers=KEY, timeout=5.0)
    assert product.status_code == 200 and "X-Cache-Status" not in product.headers


@pytest.mark.parametrize("kind", KINDS)
def test_a_run_shows_the_429s_as_rate_limiting_and_the_limit_held(
    kind: str,
    real_gateway_factory: Callable[[str], RealGateway],
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
) -> None:
    host = real_gateway_factory(kind).url
    summary_path = tmp_path / "run.json"
    result = loadgate(
        "run", SCRIPTS / "behind_gateway.py", "-u", "4", "-r", "4", "-t", "6s", "-H", host,
        "--db", db_url, "--name", kind, "--json", summary_path,
    )  # fmt: skip
    # The 429s are failures of the script (it does not accept them): exit code 1.
    assert result.returncode == 1, result.stderr
    statuses = read_json(summary_path)["total"]["status_counts"]
    assert statuses.get("200", 0) > 0 and statuses.get("429", 0) > 0, statuses

    shown = loadgate(
        "show", kind, "--json", "--db", db_url, "--expect-rate-limit", f"{LIMIT_PER_S}/s"
    )
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    findings = {f["kind"]: f for f in document["findings"]}
    # The gateway's X-Cache-Status splits the cached search into hits and misses;
    # the product pages are not cached, so they have no split.
    endpoints = {e["name"]: e for e in document["endpoints"]}
    cache = endpoints["search"]["cache"]
    assert cache is not None and cache["hits"] > 0 and cache["misses"] > 0, cache
    assert endpoints["product"]["cache"] is None
    assert findings["cache"]["severity"] == "info", findings["cache"]
    # The gateway's 429s are rate limiting, and no other class of error showed.
    assert findings["errors.rate_limit"]["numbers"]["count"] == statuses["429"]
    assert {kind for kind in findings if kind.startswith("errors.")} == {"errors.rate_limit"}
    held = findings["rate_limit"]
    assert held["severity"] == "info" and "holds" in held["sentence"], held
    assert 0.8 * LIMIT_PER_S <= held["numbers"]["accepted_per_s"] <= 1.2 * LIMIT_PER_S, held
    # Both examples send Retry-After with their 429s: the collector saw a hint on each.
    assert held["numbers"]["unhinted_429"] == 0, held
