"""A synthetic run with known latencies: three endpoints over 20 seconds, 429s, 503s, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loadgate.model import EndpointSecond, NewRun, RunInfo, RunStatus, UsersSample
from loadgate.stats.histogram import LatencyHistogram

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
    return NewRun(
        name=name,
        script_path="examples/shop.py",
        script_text=SCRIPT_TEXT,
        host="http://127.0.0.1:8080",
        started_at=STARTED_AT,
        settings={"users": 12, "spawn_rate": 4, "run_time_s": DURATION_S, "tags": ["shop"]},
    )


def run_info(run_id: int = 1) -> RunInfo:
    run = new_run()
    return RunInfo(
        run_id=run_id,
        name=run.name,
        script_path=run.script_path,
        script_text=run.script_text,
        host=run.host,
        started_at=run.started_at,
        ended_at=ENDED_AT,
        status=RunStatus.COMPLETED,
        status_reason="",
        settings=run.settings,
    )


def _histogram(latencies_us: list[int]) -> bytes:
    histogram = LatencyHistogram()
    for value in latencies_us:
        histogram.record_us(value)
    return histogram.encode()


def _products(offset_s: int) -> EndpointSecond:
    # 20 to 40 requests a second, 2-30 ms, slower in the second half.
    count = 20 + offset_s
    latencies = [2_000 + 137 * i + (8_000 if offset_s >= 10 else 0) for i in range(count)]
    return EndpointSecond(
        second=START_S + offset_s,
        method="GET",
        name="/v1/products",
        requests=count,
        failures=0,
        bytes_received=512 * count,
        histogram=_histogram(latencies),
        ok_status_counts={"200": count},
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
    return EndpointSecond(
        second=START_S + offset_s,
        method="POST",
        name="/v1/checkout",
        requests=len(latencies),
        failures=sum(failed.values()),
        bytes_received=128 * len(latencies),
        histogram=_histogram(latencies),
        ok_status_counts=ok,
        failed_status_counts=failed,
        errors=errors,
    )


def _health(offset_s: int) -> EndpointSecond:
    # One request every 5th second: the other seconds are gaps in its percentiles;
    # once the connection is refused (status 0).
    refused = offset_s == 15
    return EndpointSecond(
        second=START_S + offset_s,
        method="GET",
        name="/health?probe=<x>&y=1",
        requests=1,
        failures=1 if refused else 0,
        bytes_received=0 if refused else 2,
        histogram=_histogram([350 + offset_s]),
        ok_status_counts={} if refused else {"200": 1},
        failed_status_counts={"0": 1} if refused else {},
        errors={"ConnectionRefusedError(111, 'Connection refused')": 1} if refused else {},
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
