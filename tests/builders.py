"""Model values built for tests: one endpoint's second from its latencies, a new run, a stored run.

Also the timeline of seconds held in memory (`timeline_of`), for tests of
charts and reports that need one without a store.

Test-specific datasets (a shop, a synthetic report run) stay beside their
tests and are built with these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from loadgate.model import (
    EndpointSecond,
    NewRun,
    Part,
    PartHistogram,
    RunInfo,
    RunStatus,
    UsersSample,
)
from loadgate.stats import LatencyHistogram
from loadgate.stats.bucket_counts import BucketCounts
from loadgate.stats.timeline import (
    Timeline,
    TimelineFold,
    bucket_width_s,
    epoch_second,
    time_axis,
)

START_S = 1_700_000_000
STARTED_AT = datetime.fromtimestamp(START_S, tz=UTC)


def histogram_of(latencies_us: Iterable[int]) -> LatencyHistogram:
    """A histogram holding every latency (each must be in range)."""
    histogram = LatencyHistogram()
    for value_us in latencies_us:
        assert histogram.record_us(value_us), value_us
    return histogram


def endpoint_second(
    second: int,
    method: str = "GET",
    name: str = "/items",
    latencies_us: Iterable[int] = (250, 900, 1500),
    *,
    ok: Mapping[str, int] | None = None,
    failed: Mapping[str, int] | None = None,
    errors: Mapping[str, int] | None = None,
    bytes_received: int = 0,
    out_of_range: int = 0,
    parts: Mapping[Part, Iterable[int]] | None = None,
    region: str = "",
) -> EndpointSecond:
    """One endpoint's stored second (a Unix second) with these latencies.

    Each latency is a request; `out_of_range` requests more were too slow for
    the histogram. The statuses account for the latencies: `failed` ones
    fail, and by default every other one is a 200. `parts`: each part's
    latencies (cache hits, upstream time...).
    """
    histogram = histogram_of(latencies_us)
    failed = dict(failed or {})
    ok = dict(ok) if ok is not None else {"200": histogram.count - sum(failed.values())}
    assert sum(ok.values()) + sum(failed.values()) == histogram.count, "statuses ≠ latencies"
    return EndpointSecond(
        second=second,
        method=method,
        name=name,
        requests=histogram.count + out_of_range,
        failures=sum(failed.values()),
        bytes_received=bytes_received,
        histogram=histogram.encode(),
        ok_status_counts=ok,
        failed_status_counts=failed,
        errors=dict(errors or {}),
        out_of_range=out_of_range,
        region=region,
        parts={part: part_histogram(values) for part, values in (parts or {}).items()},
    )


def part_histogram(latencies_us: Iterable[int]) -> PartHistogram:
    histogram = histogram_of(latencies_us)
    return PartHistogram(requests=histogram.count, histogram=histogram.encode())


def new_run(name: str = "checkout", **changes: Any) -> NewRun:
    """A run about to start; `changes` replace any field."""
    values: dict[str, Any] = {
        "name": name,
        "script_path": "examples/seed/checkout.py",
        "script_text": "from locust import HttpUser\n# é ✓\n",
        "host": "http://127.0.0.1:8080",
        "started_at": STARTED_AT,
        "settings": {"users": 20, "spawn_rate": 2.5, "tags": ["a", "b"], "nested": {"x": None}},
    }
    values.update(changes)
    return NewRun(**values)


def run_info(
    new: NewRun | None = None,
    *,
    run_id: int = 1,
    duration_s: float | None = 10.0,
    status: RunStatus = RunStatus.COMPLETED,
    reason: str = "",
) -> RunInfo:
    """`new` (by default `new_run()`) as stored: ended `duration_s` after its start, or running."""
    run = new if new is not None else new_run()
    return RunInfo(
        run_id=run_id,
        name=run.name,
        script_path=run.script_path,
        script_text=run.script_text,
        host=run.host,
        started_at=run.started_at,
        ended_at=None if duration_s is None else run.started_at + timedelta(seconds=duration_s),
        status=status,
        status_reason=reason,
        settings=run.settings,
    )


def timeline_of(
    run: RunInfo,
    seconds: Iterable[EndpointSecond],
    users: Sequence[UsersSample],
    *,
    bucket_s: int | None = None,
) -> Timeline:
    """The timeline of `seconds` (any order), folded as read_run_view folds a stored run.

    `bucket_s` by default is `bucket_width_s` of the span, as for a whole run.
    """
    ordered = sorted(seconds, key=lambda s: s.second)
    axis = time_axis(run, [*(s.second for s in ordered), *(u.second for u in users)])
    fold = TimelineFold(axis, bucket_s or bucket_width_s(len(axis)))
    for second in ordered:
        fold.add(second, BucketCounts.decode(second.histogram, second.out_of_range))
    return fold.timeline(epoch_second(run.started_at), users)
