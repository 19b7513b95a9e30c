"""Moving finished seconds from the collector to the run store, and keeping the live totals.

Two halves, so that the costly one can run off the gevent hub
(loadgate.engine.writer_thread): `take` only swaps the collector's finished
tallies out (microseconds, on the hub); `write` builds and encodes their HDR
histograms, keeps the live window and appends to the store (about 14 ms a
second for 20 busy endpoints before any database time, measured with
bench/hub_stall.py), on whatever thread calls it. The writer is not
thread-safe: one thread at a time calls `write`.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from loadgate.engine.arrival_tally import ArrivalCounts
from loadgate.engine.collector import Collector, FinishedSecond
from loadgate.model import (
    ArrivalSecond,
    EndpointSecond,
    GeneratorSecond,
    MeasuredBatch,
    RunEvent,
    UsersSample,
)
from loadgate.stats import LatencyHistogram
from loadgate.store.merging import merge_arrival_seconds, merge_endpoint_seconds

RECENT_WINDOW_S = 5
# What the live view shows; computed with the window, off the hub (about 6 ms
# for three quantiles of a wide histogram: hdrh walks every bucket).
LIVE_QUANTILES = (0.5, 0.95, 0.99)


class PieceSource(Protocol):
    """Seconds measured elsewhere, already encoded: a master's workers (engine.worker_merge)."""

    def take_ready(self) -> list[EndpointSecond]: ...

    def take_all(self) -> list[EndpointSecond]: ...

    def take_events(self) -> list[RunEvent]: ...

    def take_arrivals(self, *, everything: bool = False) -> list[ArrivalSecond]: ...


class RunSink(Protocol):
    """Where measurements go: RunStore.append_batches (or anything shaped like it).

    One transaction for all the batches; a batch whose id the run already has
    is skipped, so that a retry (or an import of a spill) never adds one twice.
    """

    def append_batches(self, run_id: int, batches: Sequence[MeasuredBatch]) -> object: ...


@dataclass(frozen=True, kw_only=True)
class RecentWindow:
    """All endpoints over the last few finished seconds: what the live view shows."""

    seconds: int
    requests: int
    failures: int
    histogram: LatencyHistogram
    quantiles: Mapping[float, int] = field(default_factory=dict)

    @property
    def rate_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def quantile_us(self, quantile: float) -> int:
        """Precomputed for LIVE_QUANTILES, so that reading them costs the hub nothing."""
        found = self.quantiles.get(quantile)
        return found if found is not None else self.histogram.quantile_us(quantile)


EMPTY_WINDOW = RecentWindow(seconds=0, requests=0, failures=0, histogram=LatencyHistogram())


@dataclass(frozen=True, kw_only=True)
class Batch:
    """One hand-off from the hub to the writer: nothing encoded yet, so cheap to build."""

    current_second: int
    finished: list[FinishedSecond]
    users: UsersSample
    generator: GeneratorSecond | None = None
    # Workers' pieces (a master's run): encoded, possibly several per endpoint-second.
    pieces: list[EndpointSecond] = field(default_factory=list)
    events: list[RunEvent] = field(default_factory=list)
    # The open model's scheduler counts: this process's (raw), its workers' (encoded).
    arrival_counts: list[ArrivalCounts] = field(default_factory=list)
    arrivals: list[ArrivalSecond] = field(default_factory=list)
    # Fixed here, on the hub, before any attempt to store the batch: its
    # encoded form (pending, retried) and a spill file holding it carry the
    # same id, so the store adds it once however many times it is sent.
    batch_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Whether the live view will show the recent window soon: computing it
    # costs about 2-3% of the generator's CPU at 6,000 req/s (bench/overhead.py).
    want_window: bool = True


@dataclass(frozen=True)
class _SecondTotal:
    second: int
    requests: int
    failures: int
    histogram: LatencyHistogram


@dataclass
class Pending:
    """Measurements taken from the collector but not stored yet, one batch per hand-off.

    Other threads may read `batches` (a spill at exit): the writer only ever
    appends a finished batch to it or replaces the list, never edits one.
    """

    batches: list[MeasuredBatch] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.batches)


class SecondsWriter:
    """Flushes a run's finished seconds and user counts; call `tick` every second or so.

    A failed append leaves its batches pending, to be retried with the next
    write under the same ids (and `consecutive_failures` counts how long the
    store has been failing); the StoreError still propagates so the caller can
    decide when to give up.
    """

    def __init__(
        self,
        sink: RunSink,
        run_id: int,
        collector: Collector,
        on_seconds: Callable[[Sequence[EndpointSecond]], None] | None = None,
        pieces: PieceSource | None = None,
    ) -> None:
        self._sink = sink
        self._pieces = pieces
        self._on_seconds = on_seconds
        self._run_id = run_id
        self._collector = collector
        self.pending = Pending()
        self._recent: deque[_SecondTotal] = deque(maxlen=RECENT_WINDOW_S)
        self.requests_total = 0
        self.failures_total = 0
        self.consecutive_failures = 0
        # Called between two endpoints' encodings (the writer thread pauses there).
        self.between_endpoints: Callable[[], None] = _nothing

    # -- the hub's half: cheap ------------------------------------------------

    def take(self, now_s: float, users: int, stall_ms: float | None = None) -> Batch:
        """Every second before the current one; `users` is the count at its end.

        Call it just after a second begins, so that the previous second is
        complete and the user count is the one it ended with.
        """
        current_second = int(now_s)
        return Batch(
            current_second=current_second,
            finished=self._collector.take_finished(current_second),
            users=UsersSample(second=current_second - 1, users=users),
            generator=_generator_second(current_second - 1, stall_ms),
            pieces=self._pieces.take_ready() if self._pieces is not None else [],
            events=self._pieces.take_events() if self._pieces is not None else [],
            arrival_counts=self._collector.arrivals.take_finished(current_second),
            arrivals=self._pieces.take_arrivals() if self._pieces is not None else [],
        )

    def take_all(self, now_s: float, users: int, stall_ms: float | None = None) -> Batch:
        """Everything measured, the current second included (at the end of a run)."""
        current_second = int(now_s)
        return Batch(
            current_second=current_second + 1,
            finished=self._collector.take_all(),
            users=UsersSample(second=current_second, users=users),
            generator=_generator_second(current_second, stall_ms),
            pieces=self._pieces.take_all() if self._pieces is not None else [],
            events=self._pieces.take_events() if self._pieces is not None else [],
            arrival_counts=self._collector.arrivals.take_all(),
            arrivals=self._pieces.take_arrivals(everything=True)
            if self._pieces is not None
            else [],
        )

    # -- the costly half: encode and store -------------------------------------

    def write(self, batch: Batch) -> None:
        """Encode the batch, add it to what is pending, and append all of it to the store."""
        self.add(batch)
        self.flush()

    def add(self, batch: Batch) -> None:
        """Encode the batch into `pending`, without touching the store."""
        seconds: list[EndpointSecond] = []
        for second in batch.finished:
            stored = []
            for key, tally in second.tallies.items():
                stored.append(tally.to_endpoint_second(second.second, key))
                self.between_endpoints()
            seconds.extend(stored)
            self._remember(second)
            if self._on_seconds is not None:
                self._on_seconds(stored)
        if batch.pieces:
            seconds.extend(self._add_pieces(batch.pieces))
        # Added whole, once encoded: a reader on another thread sees all of it or none.
        self.pending.batches.append(encoded_batch(batch, seconds))

    def _add_pieces(self, pieces: list[EndpointSecond]) -> list[EndpointSecond]:
        """Workers' pieces, one row per endpoint-second: HDR histograms added, counts summed."""
        merged = merge_endpoint_seconds(pieces, by_region=True)
        by_second: dict[int, list[EndpointSecond]] = {}
        for piece in merged:
            by_second.setdefault(piece.second, []).append(piece)
        for second, stored in sorted(by_second.items()):
            histogram = LatencyHistogram.merged(
                LatencyHistogram.decode(piece.histogram) for piece in stored
            )
            requests = sum(piece.requests for piece in stored)
            failures = sum(piece.failures for piece in stored)
            self._remember_total(_SecondTotal(second, requests, failures, histogram))
            if self._on_seconds is not None:
                self._on_seconds(stored)
        return merged

    def flush(self) -> None:
        sent = self.pending.batches
        try:
            self._sink.append_batches(self._run_id, sent)
        except BaseException:
            self.consecutive_failures += 1
            raise
        self.consecutive_failures = 0
        # Only this thread adds to pending, so nothing arrived while the append ran.
        self.pending = Pending()

    def tick(self, now_s: float, users: int, stall_ms: float | None = None) -> None:
        """take and write, on one thread (tests, and runs without a writer thread)."""
        self.write(self.take(now_s, users, stall_ms))

    def close(self, now_s: float, users: int, stall_ms: float | None = None) -> None:
        """Write everything measured, the current second included."""
        self.write(self.take_all(now_s, users, stall_ms))

    def _remember(self, second: FinishedSecond) -> None:
        requests = sum(t.requests for t in second.tallies.values())
        failures = sum(t.failures for t in second.tallies.values())
        histogram = LatencyHistogram.merged(t.histogram for t in second.tallies.values())
        self._remember_total(_SecondTotal(second.second, requests, failures, histogram))

    def _remember_total(self, total: _SecondTotal) -> None:
        self.requests_total += total.requests
        self.failures_total += total.failures
        for index, known in enumerate(self._recent):
            if known.second == total.second:
                # A second taken while current then its rest, or a worker's late
                # piece: one entry, added up.
                known.histogram.merge(total.histogram)
                self._recent[index] = _SecondTotal(
                    total.second,
                    known.requests + total.requests,
                    known.failures + total.failures,
                    known.histogram,
                )
                return
        if self._recent and total.second < self._recent[-1].second:
            return  # older than the window: counted in the totals only
        self._recent.append(total)

    def recent_window(self, now_s: float, started_s: float) -> RecentWindow:
        """The last RECENT_WINDOW_S whole seconds before the current one (fewer at the start)."""
        current = int(now_s)
        first = max(current - RECENT_WINDOW_S, int(started_s))
        recent = [s for s in self._recent if first <= s.second < current]
        histogram = LatencyHistogram.merged(s.histogram for s in recent)
        return RecentWindow(
            seconds=max(0, current - first),
            requests=sum(s.requests for s in recent),
            failures=sum(s.failures for s in recent),
            histogram=histogram,
            quantiles=histogram.quantiles_us(LIVE_QUANTILES),
        )


def encoded_batch(batch: Batch, seconds: Sequence[EndpointSecond] | None = None) -> MeasuredBatch:
    """The stored form of a hand-off, under its id (`seconds`: already encoded)."""
    if seconds is None:
        seconds = [s for second in batch.finished for s in second.to_endpoint_seconds()]
        seconds += batch.pieces  # a master's, encoded by its workers (merged by readers)
    generator = [batch.generator] if batch.generator is not None else []
    arrivals = merge_arrival_seconds(
        [*batch.arrivals, *(counts.to_arrival_second() for counts in batch.arrival_counts)]
    )
    return MeasuredBatch(
        batch_id=batch.batch_id,
        seconds=seconds,
        users=[batch.users],
        generator=generator,
        events=batch.events,
        arrivals=arrivals,
    )


def _generator_second(second: int, stall_ms: float | None) -> GeneratorSecond | None:
    return None if stall_ms is None else GeneratorSecond(second=second, stall_ms=stall_ms)


def _nothing() -> None:
    pass
