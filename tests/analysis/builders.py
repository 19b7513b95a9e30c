"""The shop: ten stored seconds and their summary, for threshold, JUnit, terminal and CSV tests."""

from __future__ import annotations

from loadgate.model import EndpointSecond, UsersSample
from loadgate.stats import RunSummary, summarize
from tests.builders import START_S, endpoint_second, new_run, run_info


def users(*counts: int) -> list[UsersSample]:
    return [UsersSample(second=START_S + i, users=c) for i, c in enumerate(counts)]


def shop_seconds() -> list[EndpointSecond]:
    """Ten seconds of a small shop.

    GET /v1/products: 100 requests, 10 a second, latencies 10, 20, ... 1000 µs
      (exact in HDR below 2048 µs), all 200, 500 bytes each.
    GET /v1/products/:id: 10 requests of 2000 µs in second 0: 7 ok 200, one
      accepted 429, two failed 503.
    POST /v1/products: 10 requests of 1500 µs in second 1, all 201.
    GET /v1/search: 5 requests of 1.5 s in second 9, no response (status 0).
    """
    seconds = [
        endpoint_second(
            START_S + s,
            "GET",
            "/v1/products",
            [(s * 10 + i + 1) * 10 for i in range(10)],
            bytes_received=5000,
        )
        for s in range(10)
    ]
    seconds.append(
        endpoint_second(
            START_S,
            "GET",
            "/v1/products/:id",
            [2000] * 10,
            ok={"200": 7, "429": 1},
            failed={"503": 2},
            errors={"HTTPError('503 Server Error')": 2},
        )
    )
    seconds.append(
        endpoint_second(START_S + 1, "POST", "/v1/products", [1500] * 10, ok={"201": 10})
    )
    seconds.append(
        endpoint_second(
            START_S + 9,
            "GET",
            "/v1/search",
            [1_500_000] * 5,
            ok={},
            failed={"0": 5},
            errors={"ConnectionRefusedError(111, 'Connection refused')": 5},
        )
    )
    return seconds


def shop_summary() -> RunSummary:
    """The shop as run 7, "checkout", ten seconds from START_S."""
    run = new_run(script_path="examples/seed/browse.py", script_text="", settings={"users": 10})
    return summarize(
        run_info(run, run_id=7, duration_s=10.0),
        shop_seconds(),
        users(2, 4, 6, 8, 10, 10, 10, 10, 10, 10),
    )
