"""A synthetic run with known latencies: three endpoints over 20 seconds, 429s, 503s, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loadgate.model import EndpointSecond, NewRun, RunInfo, UsersSample
from tests import builders
from tests.builders import endpoint_second

START_S = 1_760_000_000
DURATION_S = 20
STARTED_AT = datetime.fromtimestamp(START_S, tz=UTC)
ENDED_AT = STARTED_AT + timedelta(seconds=DURATION_S)
SCRIPT_TEXT = '''from locust import HttpUser, task


class Shopper(HttpUser):
    """Browses products <b>and</b> checks out & pays."""

    @task(3)
    def products(self) -> None:
        self.client.get("/v1/products")

    @task
    def checkout(self) -> None:
        with self.client.post("/v1/checkout", catch_response=True) as response:
            if response.status_code == 429:
                response.success()
</script><script>alert("not escaped")</script>
'''


def new_run(name: str = "synthetic") -> NewRun:
    return builders.new_run(
        name,
        script_path="examples/shop.py",
        script_text=SCRIPT_TEXT,
        started_at=STARTED_AT,
        settings={"users": 12, "spawn_rate": 4, "run_time_s": DURATION_S, "tags": ["shop"]},
    )


def run_info(run_id: int = 1) -> RunInfo:
    return builders.run_info(new_run(), run_id=run_id, duration_s=DURATION_S)


def _products(offset_s: int) -> EndpointSecond:
    # 20 to 40 requests a second, 2-30 ms, slower in the second half.
    count = 20 + offset_s
    latencies = [2_000 + 137 * i + (8_000 if offset_s >= 10 else 0) for i in range(count)]
    return endpoint_second(
        START_S + offset_s, "GET", "/v1/products", latencies, bytes_received=512 * count
    )


def _checkout(offset_s: int) -> EndpointSecond:
    # 40-90 ms and one slow 181 ms; every 3rd second a 503 (a failure); from
    # second 12 on, two 429s the script accepted.
    latencies = [40_000 + 2_473 * i for i in range(19)] + [181_234]
    failed = {"503": 1} if offset_s % 3 == 0 else {}
    accepted_429 = 2 if offset_s >= 12 else 0
    ok = {"201": len(latencies) - sum(failed.values()) - accepted_429}
    if accepted_429:
        ok["429"] = accepted_429
    errors = {"HTTPError('503 Server Error: Service Unavailable <upstream>')": 1} if failed else {}
    return endpoint_second(
        START_S + offset_s,
        "POST",
        "/v1/checkout",
        latencies,
        ok=ok,
        failed=failed,
        errors=errors,
        bytes_received=128 * len(latencies),
    )


def _health(offset_s: int) -> EndpointSecond:
    # One request every 5th second: the other seconds are gaps in its percentiles;
    # once the connection is refused (status 0).
    refused = offset_s == 15
    return endpoint_second(
        START_S + offset_s,
        "GET",
        "/health?probe=<x>&y=1",
        [350 + offset_s],
        ok={} if refused else {"200": 1},
        failed={"0": 1} if refused else {},
        errors={"ConnectionRefusedError(111, 'Connection refused')": 1} if refused else {},
        bytes_received=0 if refused else 2,
    )


def endpoint_seconds() -> list[EndpointSecond]:
    seconds: list[EndpointSecond] = []
    for offset_s in range(DURATION_S):
        seconds.append(_products(offset_s))
        if offset_s >= 2:
            seconds.append(_checkout(offset_s))
        if offset_s % 5 == 0:
            seconds.append(_health(offset_s))
    return seconds


def user_samples() -> list[UsersSample]:
    return [
        UsersSample(second=START_S + offset_s, users=min(12, 4 * (offset_s + 1)))
        for offset_s in range(DURATION_S)
    ]
