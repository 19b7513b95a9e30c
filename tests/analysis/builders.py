"""Stored seconds and summaries built from real histograms, for threshold, JUnit and CSV tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from loadgate.model import EndpointSecond, RunInfo, RunStatus, UsersSample
from loadgate.stats import LatencyHistogram, RunSummary, summarize

START_S = 1_700_000_000
STARTED_AT = datetime.fromtimestamp(START_S, tz=UTC)


def run_info(
    duration_s: float | None = 10.0,
    *,
    status: RunStatus = RunStatus.COMPLETED,
    reason: str = "",
    name: str = "checkout",
) -> RunInfo:
    return RunInfo(
        run_id=7,
        name=name,
        script_path="examples/seed/browse.py",
        script_text="",
        host="http://127.0.0.1:8080",
        started_at=STARTED_AT,
        ended_at=None if duration_s is None else STARTED_AT + timedelta(seconds=duration_s),
        status=status,
        status_reason=reason,
        settings={"users": 10},
    )


def endpoint_second(
    offset_s: int,
    method: str,
    name: str,
    latencies_us: Sequence[int],
    *,
    ok: Mapping[str, int] | None = None,
    failed: Mapping[str, int] | None = None,
    errors: Mapping[str, int] | None = None,
    bytes_received: int = 0,
) -> EndpointSecond:
    """One endpoint's second; statuses default to one 200 per latency."""
    histogram = LatencyHistogram()
    for value_us in latencies_us:
        assert histogram.record_us(value_us)
    failed = dict(failed or {})
    ok = dict(ok) if ok is not None else {"200": len(latencies_us) - sum(failed.values())}
    assert sum(ok.values()) + sum(failed.values()) == len(latencies_us)
    return EndpointSecond(
        second=START_S + offset_s,
        method=method,
        name=name,
        requests=len(latencies_us),
        failures=sum(failed.values()),
        bytes_received=bytes_received,
        histogram=histogram.encode(),
        ok_status_counts=ok,
        failed_status_counts=failed,
        errors=dict(errors or {}),
    )


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
            s,
            "GET",
            "/v1/products",
            [(s * 10 + i + 1) * 10 for i in range(10)],
            bytes_received=5000,
        )
        for s in range(10)
    ]
    seconds.append(
        endpoint_second(
            0,
            "GET",
            "/v1/products/:id",
            [2000] * 10,
            ok={"200": 7, "429": 1},
            failed={"503": 2},
            errors={"HTTPError('503 Server Error')": 2},
        )
    )
    seconds.append(endpoint_second(1, "POST", "/v1/products", [1500] * 10, ok={"201": 10}))
    seconds.append(
        endpoint_second(
            9,
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
    return summarize(run_info(10.0), shop_seconds(), users(2, 4, 6, 8, 10, 10, 10, 10, 10, 10))
