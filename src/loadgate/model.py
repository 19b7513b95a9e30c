"""Plain data types that join the stages: engine → store → summary → reports.

Everything here is a frozen value. Times are UTC; latencies carried as HDR
histograms are in microseconds; a "second" is a Unix epoch second (int) in
which requests *finished*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    """Life cycle of a stored run.

    LOST is never written: readers derive it for a RUNNING run whose writer has
    not been heard from (no heartbeat) for a while, i.e. whose process died.
    """

    RUNNING = "running"
    COMPLETED = "completed"
    ABORTED = "aborted"
    FAILED = "failed"
    LOST = "lost"


def endpoint_label(method: str, name: str) -> str:
    """'GET /v1/products'; a name that already starts with its method (scripts often name
    requests 'GET /v1/products') is shown as is, and the total ('', 'Total') is 'Total'."""
    if not method or name.startswith(f"{method} "):
        return name
    return f"{method} {name}"


class ThresholdOutcome(StrEnum):
    """How a run's thresholds came out, as listed beside it."""

    NONE = "none"
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True)
class SavedTest:
    """A test the dashboard keeps, to run with one click: `loadgate run`'s settings.

    `script_text` is the uploaded script ('' when `script_path` is a file on
    the dashboard's machine); `stages` ('' for none) replaces users, spawn
    rate and run time; `host` '' is the built-in gateway; `baseline` '' is none;
    `cron` '' is no schedule. `schedule_handled_at`: the last due time of the
    schedule handled (run, or reported missed), `schedule_note`: what was
    last said of missed ones; both are the scheduler's, read back.
    """

    name: str
    script_path: str
    script_text: str
    host: str
    users: int
    spawn_rate: float
    run_time: str
    stages: str = ""
    thresholds: tuple[str, ...] = ()
    baseline: str = ""
    cron: str = ""
    test_id: int | None = None
    created_at: datetime | None = None
    schedule_handled_at: datetime | None = None
    schedule_note: str = ""


@dataclass(frozen=True, kw_only=True)
class NewRun:
    """What the engine knows about a run before it starts."""

    name: str
    script_path: str
    script_text: str
    host: str
    started_at: datetime
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RunInfo:
    """A stored run's header: identity, settings and outcome."""

    run_id: int
    name: str
    script_path: str
    script_text: str
    host: str
    started_at: datetime
    ended_at: datetime | None
    status: RunStatus
    status_reason: str
    settings: Mapping[str, Any]
    is_baseline: bool = False
    # When the run's writer last appended (None for runs stored before heartbeats).
    heartbeat_at: datetime | None = None

    @property
    def duration_s(self) -> float:
        if self.ended_at is None:
            return 0.0
        return max(0.0, (self.ended_at - self.started_at).total_seconds())

    @property
    def elapsed_s(self) -> float:
        """How long it ran; for a run not ended (running or lost), until its last heartbeat."""
        if self.ended_at is None and self.heartbeat_at is not None:
            return (self.heartbeat_at - self.started_at).total_seconds()
        return self.duration_s

    @property
    def has_settled(self) -> bool:
        """Ended, and not lost: what is stored of it no longer changes on its own."""
        return self.status not in (RunStatus.RUNNING, RunStatus.LOST) and self.ended_at is not None


class Part(StrEnum):
    """A part of an endpoint's requests whose latency is kept apart (engine.gateway_headers).

    CACHE_HIT and CACHE_MISS: the whole latency of responses a gateway said it
    served from its cache, or had to fetch; UPSTREAM and GATEWAY: the time a
    response spent in the upstream service and in the gateway itself.

    Two parts are counts for the rate-limit finding, carried the same way:
    UNHINTED_429, the latencies of 429s without a Retry-After or RateLimit-*
    header; KEYS, whose `requests` is how many distinct values of the
    per-key limit's request header the accepted requests carried in the
    second (its histogram stays empty; made by the store from
    EndpointSecond.key_values).

    Four parts are a request's timing phases (`--timings`, engine.fastclient.phases):
    CONNECT and TLS, the TCP connect and TLS handshake, counted only for
    requests that opened a connection (so their count over TTFB's is the
    share of requests that did); TTFB, from the request sent to the response's
    headers read, and DOWNLOAD, from there to the body's end, for every
    request whose response came.
    """

    CACHE_HIT = "cache_hit"
    CACHE_MISS = "cache_miss"
    UPSTREAM = "upstream"
    GATEWAY = "gateway"
    UNHINTED_429 = "unhinted_429"
    KEYS = "keys"
    CONNECT = "connect"
    TLS = "tls"
    TTFB = "ttfb"
    DOWNLOAD = "download"


@dataclass(frozen=True, kw_only=True)
class PartHistogram:
    """One part's latencies in one endpoint-second: how many, and their HDR histogram (µs)."""

    requests: int
    histogram: bytes


@dataclass(frozen=True, kw_only=True)
class EndpointSecond:
    """One endpoint's requests that finished within one wall-clock second.

    `ok_status_counts` counts responses recorded as successes (including ones a
    script accepted with catch_response, such as an expected 429);
    `failed_status_counts` those recorded as failures. Status "0" means no HTTP
    response (connection refused, reset, timeout). `histogram` is the HDR
    histogram of response times in microseconds, in HdrHistogram's compressed
    encoding; `out_of_range` counts samples the histogram could not hold.
    """

    second: int
    method: str
    name: str
    requests: int
    failures: int
    bytes_received: int
    histogram: bytes
    ok_status_counts: Mapping[str, int] = field(default_factory=dict)
    failed_status_counts: Mapping[str, int] = field(default_factory=dict)
    errors: Mapping[str, int] = field(default_factory=dict)
    out_of_range: int = 0
    # Where the workers that measured it run (`loadgate worker --region`); "" for one process.
    region: str = ""
    # Latencies of parts of these requests (cache hits, upstream time...), when the
    # responses said; stored in their own table and read apart (RunStore.iter_part_seconds).
    parts: Mapping[Part, PartHistogram] = field(default_factory=dict)
    # The per-key limit's request header values among accepted requests (bounded by
    # the collector): a set, so that workers' pieces of a second are united, not added;
    # stored as the count of Part.KEYS.
    key_values: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class PartSecond:
    """One part of one endpoint's requests in one second, as the store gives it back."""

    second: int
    method: str
    name: str
    part: Part
    requests: int
    histogram: bytes


@dataclass(frozen=True, kw_only=True)
class ErrorTally:
    """How often one error message happened, and in which seconds first and last."""

    count: int
    first_second: int
    last_second: int


@dataclass(frozen=True, kw_only=True)
class EndpointTotals:
    """One endpoint's seconds over a whole run (or a range of it), added up exactly.

    The fields mean what EndpointSecond's do, summed; `histogram` is the HDR
    merge of every second's; `errors` lists messages in the order they were
    first seen, each with its count and the seconds it was first and last seen.
    """

    method: str
    name: str
    requests: int
    failures: int
    bytes_received: int
    histogram: bytes
    first_second: int
    last_second: int
    ok_status_counts: Mapping[str, int] = field(default_factory=dict)
    failed_status_counts: Mapping[str, int] = field(default_factory=dict)
    errors: Mapping[str, ErrorTally] = field(default_factory=dict)
    out_of_range: int = 0


@dataclass(frozen=True, kw_only=True)
class UsersSample:
    """How many users were running at the end of one second."""

    second: int
    users: int


@dataclass(frozen=True, kw_only=True)
class GeneratorSecond:
    """The load generator's own health in one second.

    `stall_ms`: the longest stretch in which the gevent hub did not poll for
    I/O; a request finishing in that second may have had up to this much added
    to its latency by the generator itself.
    """

    second: int
    stall_ms: float


@dataclass(frozen=True, kw_only=True)
class ArrivalSecond:
    """The open model's scheduler in one second (`--arrival-rate`; none in closed-model runs).

    `iterations`: iterations that started; `dropped_iterations`: iterations
    that were due but found no free user with the pool at its maximum, so
    never started; `start_lag`: HDR histogram (µs, HdrHistogram's compressed
    encoding) of how late each started iteration began after its scheduled
    time. Counted by the second in which the scheduler saw them; several
    pieces of one second (one per worker) add up.
    """

    second: int
    iterations: int
    dropped_iterations: int
    start_lag: bytes
    out_of_range: int = 0


@dataclass(frozen=True, kw_only=True)
class MeasuredBatch:
    """One append's worth of measurements, under an id that makes storing it idempotent.

    The id is fixed when the measurements are taken, before any attempt to
    store them: a batch that was both stored and kept in a spill file (its
    commit landed as the process exited) is then recognised on import and
    not added twice.
    """

    batch_id: str
    seconds: Sequence[EndpointSecond] = ()
    users: Sequence[UsersSample] = ()
    generator: Sequence[GeneratorSecond] = ()
    events: Sequence[RunEvent] = ()
    arrivals: Sequence[ArrivalSecond] = ()


@dataclass(frozen=True, kw_only=True)
class RunListing:
    """One line of `loadgate runs` and of the dashboard's runs page: a run with its totals.

    The percentiles and `threshold_outcome` are None until stored for an ended run.
    """

    run: RunInfo
    requests: int
    failures: int
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    threshold_outcome: ThresholdOutcome | None = None

    @property
    def rps(self) -> float:
        duration_s = self.run.duration_s
        return self.requests / duration_s if duration_s > 0 else 0.0

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True, kw_only=True)
class WorkerTotal:
    """What one worker of a distributed run sent its master, over the whole run.

    `cpu_percent_*` are the worker process's CPU use (100 = one core) as it
    reported it every few seconds: a worker near 100 was saturated, and its
    latencies may include its own queueing.
    """

    worker_id: str
    region: str
    requests: int
    failures: int
    first_second: int | None
    last_second: int | None
    cpu_percent_mean: float
    cpu_percent_max: float
    users_max: int
    # The worker's clock minus the master's, estimated from report timestamps
    # (to within the quickest report's transit time); None if unknown.
    clock_offset_ms: float | None = None

    @property
    def rate_per_s(self) -> float:
        if self.first_second is None or self.last_second is None:
            return 0.0
        return self.requests / (self.last_second - self.first_second + 1)


class EventKind(StrEnum):
    """What can happen to a run besides its measurements."""

    WORKER_LOST = "worker_lost"  # a worker stopped reporting mid-run; the run went on
    WORKER_LEFT = "worker_left"  # a worker was stopped mid-run; its users went to the others


@dataclass(frozen=True, kw_only=True)
class RunEvent:
    """Something that happened during a run, at a wall-clock second.

    `subject` names what it happened to (a worker's id); `detail` holds the
    rest (for a lost or departed worker: its region and the users it held).
    """

    second: int
    kind: EventKind
    subject: str
    detail: Mapping[str, Any] = field(default_factory=dict)
