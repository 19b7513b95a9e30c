"""The per-request listener: exact latency, statuses, bytes and errors per endpoint and second.

Locust fires `events.request` once per request; `Collector.on_request` adds it
to the tally of its (method, name) for the wall-clock second in which the event
fired (the request's end: Locust fires right after the response, or when a
`catch_response` block exits). Only the current second's tallies are live;
when the second changes they become "finished" and wait, unencoded, for the
writer (`take_finished`), which turns each into an `EndpointSecond` with its
HDR histogram encoded. So memory stays flat however long the run, and the hot
path is a few dict lookups and integer updates (latencies are counted by HDR
bucket, and put into an HDR histogram once per second).

An `EndpointSecond` is a delta: the same (second, method, name) may be taken
twice (a second taken while still current, then its rest), and the store adds
the pieces. This is also what a Locust worker would ship to its master through
`report_to_master` when runs scale out.

Locust's own statistics come from here. Locust's runner registers its own
`request` listener (`RequestStats`, rounded latencies); scripts and plugins
read `environment.stats` (a `quitting` listener that sets
`process_exit_code` from `environment.stats.total.fail_ratio`, shapes that
look at the current RPS, Locust's `--json`). Counting every request twice
cost about 5% of a FastHttpUser request's CPU (engine.locust_stats), so that
listener is removed and each second that finishes here (`on_finished`) is
added to `environment.stats` (engine.locust_stats). The end-to-end tests
check, on the same run, that the two agree on requests and failures per
endpoint (a script's `quitting` listener writes Locust's counts next to our
stored ones).

Parts of the latency. When a response says it was a cache hit or miss, or
how long its upstream took (engine.gateway_headers), its latency is also
counted under that part, as latency_counts are, and each part becomes one
more HDR histogram of the endpoint-second (EndpointSecond.parts). A
response without such headers costs one set operation on its header names
(about 0.3 µs, bench/collector_headers.py); one with them, their parse and
up to three counts (about 5 µs; bench/overhead.py --gateway-headers: about
10% of Locust's own CPU per request when every response has them).
Building the parts' histograms costs the writer what the main one costs,
per part; both are built with LatencyHistogram.record_counts, about 5x
quicker than a record_us per value (the four parts of 1,000 responses of
wide latencies: about 1.2 ms a second, against 5 ms before).

Timing phases. Under `--timings` (and only then: one attribute test
otherwise), the connect, TLS, time-to-first-byte and download times that
engine.fastclient.phases hung on a geventhttpclient response are counted
as four more parts, as the cache parts are (add_phases).

Rate limits. A 429's headers are read for a retry hint (has_retry_hint);
one without is counted, with its latency, under Part.UNHINTED_429. Other
statuses pay one integer compare for this. When the run expects a per-key
limit (`--expect-rate-limit "50/s per X-API-Key"`, RunConfig.
rate_limit_key_header), the values of that request header among accepted
requests are kept per endpoint-second, at most MAX_KEYS_PER_SECOND of them
(beyond, the count stays there), as EndpointSecond.key_values: workers
ship the values, so the master unites a second's pieces (a key sent from
two workers counts once), and the store keeps their count as Part.KEYS.
Measured (bench/collector_headers.py, µs per request, baseline 1.1): a
429 with a hint 1.5, without 3.0; a 200 whose key is counted 1.7
(HttpUser) to 2.0 (FastHttpUser).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from loadgate.engine.arrival_tally import ArrivalTally
from loadgate.engine.gateway_headers import GatewaySignals, has_retry_hint, read_signals
from loadgate.model import EndpointSecond, Part, PartHistogram
from loadgate.stats import LatencyHistogram
from loadgate.stats.histogram import SUB_BUCKET_BITS, bucket_floor_us

US_PER_MS = 1000
US_PER_S = 1_000_000
# A script that puts ids in its failure messages would otherwise store one
# message per request; beyond this many per endpoint-second, they are lumped.
MAX_ERROR_MESSAGES = 50
MAX_ERROR_LENGTH = 500
OTHER_ERRORS = "(other errors: too many distinct messages in one second)"
NO_RESPONSE = 0
TOO_MANY_REQUESTS = 429
# Distinct keys kept per endpoint-second for a per-key limit: bounds memory and store.
MAX_KEYS_PER_SECOND = 1000

# Where engine.fastclient.phases hangs a response's timing phases (on geventhttpclient's
# response, and on FastSession's requests.Response).
PHASES_ATTRIBUTE = "loadgate_phases"

_MEMORY_ADDRESS = re.compile(r" object at 0x[0-9a-fA-F]+")

EndpointKey = tuple[str, str]  # (method, name), as Locust's request_type and name


class Phases(Protocol):
    """A response's timing phases in seconds (engine.fastclient.phases.PhaseTimes); None: none."""

    @property
    def connect_s(self) -> float | None: ...
    @property
    def tls_s(self) -> float | None: ...
    @property
    def ttfb_s(self) -> float | None: ...
    @property
    def download_s(self) -> float | None: ...


def phases_of(response: Any) -> Phases | None:
    """The phases hung on a request event's response (FastSession's or FastHttpUser's), or None."""
    # FastHttpUser's FastResponse wraps the geventhttpclient response in `_response`.
    raw = getattr(response, "_response", None) or response
    phases: Phases | None = getattr(raw, PHASES_ATTRIBUTE, None)
    return phases


def error_message(error: object) -> str:
    """Locust's grouping of failures (StatsError.parse_error): repr, minus memory addresses."""
    text = error if isinstance(error, str) else repr(error)
    text = _MEMORY_ADDRESS.sub(" object", text)
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


class EndpointTally:
    """One endpoint's requests within one second, while they are being counted."""

    __slots__ = (
        "_histogram",
        "bytes_received",
        "errors",
        "failed_statuses",
        "failures",
        "keys",
        "latency_counts",
        "ok_statuses",
        "parts",
        "requests",
    )

    def __init__(self) -> None:
        self.requests = 0
        self.failures = 0
        self.bytes_received = 0
        # µs value (the floor of its HDR bucket) -> requests
        self.latency_counts: dict[int, int] = {}
        self._histogram: LatencyHistogram | None = None
        # Keyed by the raw status (an int for Locust's clients): str() once per
        # second in to_endpoint_second, not once per request.
        self.ok_statuses: dict[object, int] = {}
        self.failed_statuses: dict[object, int] = {}
        self.errors: dict[str, int] = {}
        # Latencies of parts (cache hits, upstream time...), like latency_counts;
        # None until a response says anything about them (most never do).
        self.parts: dict[Part, dict[int, int]] | None = None
        # Values of the per-key limit's request header among accepted requests.
        self.keys: set[str] | None = None

    @property
    def histogram(self) -> LatencyHistogram:
        """The latencies as an HDR histogram; read it once the second is finished."""
        if self._histogram is None:
            self._histogram = LatencyHistogram()
            self._histogram.record_counts(self.latency_counts)
        return self._histogram

    def add_signals(self, signals: GatewaySignals, response_time_ms: float) -> None:
        """Count one response's cache part and upstream/gateway split (engine.gateway_headers).

        Each value under its HDR bucket's floor, as on_request counts the
        whole latency. Not inlined: only responses that carry the headers
        come here, and they already pay their parse (bench/collector_headers.py).
        """
        parts = self.parts
        if parts is None:
            parts = self.parts = {}
        for part, latency_ms in (
            (signals.cache, response_time_ms),
            (Part.UPSTREAM, signals.upstream_ms),
            (Part.GATEWAY, signals.gateway_ms),
        ):
            if part is None or latency_ms is None:
                continue
            value_us = bucket_floor_us(round(latency_ms * US_PER_MS))
            counts = parts.get(part)
            if counts is None:
                counts = parts[part] = {}
            counts[value_us] = counts.get(value_us, 0) + 1

    def add_unhinted_429(self, response_time_ms: float) -> None:
        """Count a 429 that said nothing of when to retry (a rare path: not inlined)."""
        if self.parts is None:
            self.parts = {}
        counts = self.parts.setdefault(Part.UNHINTED_429, {})
        value_us = bucket_floor_us(round(response_time_ms * US_PER_MS))
        counts[value_us] = counts.get(value_us, 0) + 1

    def add_phases(self, phases: Phases) -> None:
        """Count one response's timing phases (`--timings`; only runs with it come here).

        Connect and TLS only when the request opened its connection (None when
        kept alive), so that their counts say how many did.
        """
        parts = self.parts
        if parts is None:
            parts = self.parts = {}
        connect_s = phases.connect_s
        if connect_s is not None:
            _count_s(parts, Part.CONNECT, connect_s)
            tls_s = phases.tls_s
            if tls_s is not None:
                _count_s(parts, Part.TLS, tls_s)
        ttfb_s = phases.ttfb_s
        if ttfb_s is not None:
            _count_s(parts, Part.TTFB, ttfb_s)
        download_s = phases.download_s
        if download_s is not None:
            _count_s(parts, Part.DOWNLOAD, download_s)

    def add_key(self, key: str) -> None:
        """One accepted request's value of the per-key limit's header."""
        keys = self.keys
        if keys is None:
            keys = self.keys = set()
        if len(keys) < MAX_KEYS_PER_SECOND:
            keys.add(key)

    def add_error(self, error: object) -> None:
        message = error_message(error)
        if message not in self.errors and len(self.errors) >= MAX_ERROR_MESSAGES:
            message = OTHER_ERRORS
        self.errors[message] = self.errors.get(message, 0) + 1

    def to_endpoint_second(self, second: int, key: EndpointKey) -> EndpointSecond:
        """The stored form: histogram encoded, statuses as strings ("0": no response)."""
        return EndpointSecond(
            second=second,
            method=key[0],
            name=key[1],
            requests=self.requests,
            failures=self.failures,
            bytes_received=self.bytes_received,
            histogram=self.histogram.encode(),
            ok_status_counts=_by_status(self.ok_statuses),
            failed_status_counts=_by_status(self.failed_statuses),
            errors=dict(self.errors),
            out_of_range=self.histogram.out_of_range,
            parts=self._encoded_parts(),
            key_values=frozenset(self.keys or ()),
        )

    def _encoded_parts(self) -> dict[Part, PartHistogram]:
        encoded: dict[Part, PartHistogram] = {}
        for part, counts in (self.parts or {}).items():
            histogram = LatencyHistogram()
            histogram.record_counts(counts)
            encoded[part] = PartHistogram(
                requests=sum(counts.values()), histogram=histogram.encode()
            )
        return encoded


def _count_s(parts: dict[Part, dict[int, int]], part: Part, value_s: float) -> None:
    """One value in seconds under its HDR bucket's floor in µs (only under --timings)."""
    value_us = bucket_floor_us(round(value_s * US_PER_S))
    counts = parts.get(part)
    if counts is None:
        parts[part] = {value_us: 1}
    else:
        counts[value_us] = counts.get(value_us, 0) + 1


def _request_header(response: Any, name: str) -> str | None:
    """A request header's value: requests' PreparedRequest and geventhttpclient's
    request both keep a case-insensitive `headers` with `get`."""
    headers = getattr(getattr(response, "request", None), "headers", None)
    value = headers.get(name) if headers is not None else None
    return str(value) if value is not None else None


def _by_status(counts: dict[object, int]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for status, count in counts.items():
        key = str(status)
        merged[key] = merged.get(key, 0) + count
    return dict(sorted(merged.items()))


@dataclass(frozen=True)
class FinishedSecond:
    """One wall-clock second's tallies, taken from the collector."""

    second: int
    tallies: dict[EndpointKey, EndpointTally]

    def to_endpoint_seconds(self) -> list[EndpointSecond]:
        return [tally.to_endpoint_second(self.second, key) for key, tally in self.tallies.items()]


class Collector:
    """The `events.request` listener. Not thread-safe: gevent runs it on one thread."""

    def __init__(
        self,
        clock_s: Callable[[], float] = time.time,
        *,
        key_header: str | None = None,
        timings: bool = False,
    ) -> None:
        """`key_header`: the request header whose distinct values a per-key limit counts;
        `timings`: count the responses' timing phases (`--timings`)."""
        self._clock_s = clock_s
        self._key_header = key_header
        self._timings = timings
        self._second = -1
        self._tallies: dict[EndpointKey, EndpointTally] = {}
        self._finished: list[FinishedSecond] = []
        # The open model's scheduler counts here too (loadgate.engine.arrival),
        # so that the writer and a worker's shipper take them with the requests.
        self.arrivals = ArrivalTally(clock_s)
        # Called with each second as it finishes, on the hub (engine.locust_stats
        # fills Locust's environment.stats from it).
        self.on_finished: Callable[[FinishedSecond], None] | None = None

    def follow_plan(self, *, timings: bool, key_header: str | None) -> None:
        """A worker's, from its master's plan, before its users send anything."""
        self._timings = timings
        self._key_header = key_header

    def on_request(
        self,
        *,
        request_type: str,
        name: str,
        response_time: float | None,
        response_length: int | None,
        response: Any = None,
        exception: Any = None,
        **_kwargs: Any,
    ) -> None:
        """Count one request. The hot path: keep it to lookups and integer updates."""
        second = int(self._clock_s())
        if second != self._second:
            self._start_second(second)
        key = (request_type, name)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = EndpointTally()
        tally.requests += 1
        if response_time is not None:
            # Locust measures in float milliseconds; HDR records integer µs.
            # Counted under its HDR bucket's floor (stats.histogram.bucket_floor_us,
            # inlined: its one inlined copy, about 0.05 µs of a bare request's 0.75,
            # bench/collector_headers.py baseline): a dict update instead of hdrh's
            # pure-Python record_value, and the second's histogram is built once.
            value_us = round(response_time * US_PER_MS)
            shift = value_us.bit_length() - SUB_BUCKET_BITS
            if shift > 0:
                value_us = value_us >> shift << shift
            latencies = tally.latency_counts
            latencies[value_us] = latencies.get(value_us, 0) + 1
        if response_length:
            tally.bytes_received += response_length
        # The status is on the response even when catch_response marked it a
        # success (an expected 429); no response at all (refused, reset) is 0.
        status = getattr(response, "status_code", NO_RESPONSE) or NO_RESPONSE
        if exception:  # Locust's own test for a failure
            tally.failures += 1
            tally.add_error(exception)
            counts = tally.failed_statuses
        else:
            counts = tally.ok_statuses
        counts[status] = counts.get(status, 0) + 1
        # Not `if headers`: geventhttpclient's Headers counts its lines for that.
        headers = getattr(response, "headers", None)
        if status == TOO_MANY_REQUESTS:
            if response_time is not None and not has_retry_hint(headers):
                tally.add_unhinted_429(response_time)
        elif self._key_header is not None and status != NO_RESPONSE:
            value = _request_header(response, self._key_header)
            if value is not None:
                tally.add_key(value)
        # Cache status and upstream time, when the response says (read_signals
        # returns at once when it does not: one set operation).
        if headers is not None and response_time is not None:
            signals = read_signals(headers, response_time)
            if signals is not None:
                tally.add_signals(signals, response_time)
        if self._timings:
            phases = phases_of(response)
            if phases is not None:
                tally.add_phases(phases)

    def _start_second(self, second: int) -> None:
        finished = FinishedSecond(self._second, self._tallies) if self._tallies else None
        self._second = second
        self._tallies = {}
        if finished is not None:
            self._finished.append(finished)
            if self.on_finished is not None:  # last: if it raises, the tallies are safe
                self.on_finished(finished)

    def finish_before(self, current_second: int) -> None:
        """Finish the seconds before `current_second`; they stay until taken."""
        if self._tallies and self._second < current_second:
            self._start_second(current_second)

    def finish_all(self) -> None:
        """Finish the current second too (what has been counted of it; more may follow)."""
        if self._tallies:
            self._start_second(self._second)

    def take_finished(self, current_second: int) -> list[FinishedSecond]:
        """Seconds before `current_second`, oldest first; they leave the collector."""
        self.finish_before(current_second)
        taken, self._finished = self._finished, []
        return taken

    def take_all(self) -> list[FinishedSecond]:
        """Everything counted so far, the current second too (at the end of a run)."""
        self.finish_all()
        taken, self._finished = self._finished, []
        return taken
