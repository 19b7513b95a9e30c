"""The writer thread: encoding and storing each second off the gevent hub, one batch at a time.

Why a real OS thread. Building and encoding 20 endpoints' HDR histograms takes
about 14 ms a second, and a store write can block for seconds (a SQLite lock,
a PostgreSQL server that stopped answering); on the hub, every request in
flight absorbed that time. gevent's ThreadPool runs its tasks on native
threads (not greenlets, even under monkey-patching); zlib and the database
drivers release the GIL while they work, and the Python parts share it in
0.5 ms slices (session.GIL_SWITCH_INTERVAL_S), so the hub keeps running. The
store's driver calls block only this thread: sqlite3 is C; a psycopg
imported after the patching waits through gevent's `select.poll`, which,
outside the hub's thread, runs a private hub of this thread's own.

Measured with bench/hub_stall.py (20 endpoints, 10 users, SCHED_FIFO, the
longest hub stall per second over the steady seconds): against a target that
leaves the hub idle part of the time (tests/e2e/delay_server.py), median
6.8–8.1 ms and p90 7.8–10.7 ms with the work on the hub; median 1.5 ms and
p90 1.8–2.1 ms on this thread, with ENCODE_PAUSE_S. Against nginx, with the
hub busy all the time (`--normal`, no SCHED_FIFO): median 11.5 ms and p90
12.8 ms before, 5.2 ms and 5.7 ms after. What is left
is the hub's own loop iterations, and this thread's Python sharing the GIL
with them (in 0.5 ms slices); only a writer process would avoid the latter.

The hand-off is bounded: one batch in flight at most. Batches the hub takes
while the thread is busy wait in a queue of at most MAX_QUEUED_BATCHES (they
are the collector's raw tallies, a few KB each); past that bound, or when a
write has been in flight for longer than STORE_STALL_LIMIT_S, the store is
declared stuck (`store_error`) and the caller stops the run.

Every store call during the run goes through this thread (`call`), so the
database is never used from two threads at once.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from gevent import Timeout, monkey
from gevent.threadpool import ThreadPool

from loadgate.engine.writer import (
    EMPTY_WINDOW,
    Batch,
    RecentWindow,
    SecondsWriter,
    encoded_batch,
)
from loadgate.errors import StoreError
from loadgate.model import MeasuredBatch

MAX_QUEUED_BATCHES = 30  # seconds of measurements waiting behind a slow write
STORE_STALL_LIMIT_S = 10.0  # one write in flight this long: the store is stuck
MAX_STORE_FAILURES = 5  # consecutive failed writes (about 5 s) before the run is stopped
# A pause between two endpoints' encodings, GIL released: the hub then runs
# alone instead of sharing the GIL in alternating slices with this thread,
# which doubled the wall time of any loop iteration that overlapped a write.
# 20 endpoints take 10 ms longer to write; the hub's median stall per second
# fell from 3.3 to 1.5 ms (p90 4.9 to 1.8 ms; bench/hub_stall.py, same
# machine, back to back).
ENCODE_PAUSE_S = 0.0005

T = TypeVar("T")
AbortReason = Callable[[int], str | None]


@dataclass(frozen=True, kw_only=True)
class WriterState:
    """What the hub reads after each write: replaced whole, never mutated (no locks needed)."""

    requests_total: int = 0
    failures_total: int = 0
    recent: RecentWindow = EMPTY_WINDOW
    abort_reason: str | None = None
    consecutive_failures: int = 0
    last_error: StoreError | None = None


class WriterThread:
    """Hands batches from the hub to one native thread that encodes and stores them."""

    def __init__(
        self,
        writer: SecondsWriter,
        started_s: float,
        *,
        abort_reason: AbortReason | None = None,
        store_url: str = "",
        clock_s: Callable[[], float] = time.monotonic,
    ) -> None:
        self._writer = writer
        native_sleep = monkey.get_original("time", "sleep")  # patched, it would need a hub
        writer.between_endpoints = lambda: native_sleep(ENCODE_PAUSE_S)
        self._store = f"the run store {store_url}" if store_url else "the run store"
        self._started_s = started_s
        self._abort_reason = abort_reason
        self._clock_s = clock_s
        self._pool = ThreadPool(1)
        self._queue: deque[Batch] = deque()
        self._in_flight: Any = None  # the AsyncResult of the running task
        self._in_flight_batches: tuple[Batch, ...] = ()  # what that task was given
        self._in_flight_since_s = 0.0
        self._stopped = False
        self._left_running = False  # a call that timed out still runs on the thread
        self.state = WriterState()

    # -- on the hub -------------------------------------------------------------

    def hand_off(self, batch: Batch) -> None:
        """Queue a batch, and start a write if none is running. Never blocks."""
        self._queue.append(batch)
        self._start_next()

    def store_error(self) -> StoreError | None:
        """Why the run must stop because of the store, if it must."""
        if self._in_flight is not None:
            stuck_s = self._clock_s() - self._in_flight_since_s
            if stuck_s > STORE_STALL_LIMIT_S:
                return StoreError(f"{self._store} has not answered a write for {stuck_s:.0f} s")
        if len(self._queue) > MAX_QUEUED_BATCHES:
            return StoreError(
                f"{self._store} is too slow: {len(self._queue)} seconds of measurements wait"
            )
        state = self.state
        if state.consecutive_failures >= MAX_STORE_FAILURES and state.last_error is not None:
            return state.last_error
        return None

    def call(self, function: Callable[..., T], *args: Any, timeout_s: float | None = None) -> T:
        """Run a store call on the writer thread, after the writes before it; waits cooperatively.

        gevent.Timeout on `timeout_s`; the call itself cannot be cut short and
        still completes (or fails) on the thread.
        """
        if not self.wait_idle(timeout_s):
            raise StoreError(f"{self._store} has not finished the writes before this one")
        result = self._pool.spawn(function, *args)
        try:
            value: T = result.get(timeout=timeout_s)
        except Timeout:
            self._left_running = True
            raise
        return value

    def wait_idle(self, timeout_s: float | None = None) -> bool:
        """Wait until every queued batch is written or given up on; False on timeout."""
        deadline_s = None if timeout_s is None else self._clock_s() + timeout_s
        while self._in_flight is not None:
            left_s = None if deadline_s is None else deadline_s - self._clock_s()
            if left_s is not None and left_s <= 0:
                return False
            in_flight = self._in_flight
            if in_flight.wait(left_s) is not None or in_flight.ready():
                self._written(in_flight)  # rather than wait for the rawlink callback
        return True

    def close(self, batch: Batch, timeout_s: float) -> None:
        """Write the last batch and everything before it; StoreError if that failed."""
        self.hand_off(batch)
        if not self.wait_idle(timeout_s):
            raise StoreError(f"{self._store} did not finish the last writes in {timeout_s:.0f} s")
        if self.state.last_error is not None and self._writer.pending:
            raise self.state.last_error

    def stop_writing(self, last: Batch | None) -> None:
        """The store is failing: start no more writes; keep `last` for `unstored`."""
        self._stopped = True
        if last is not None:
            self._queue.append(last)

    def unstored(self) -> list[MeasuredBatch]:
        """What may not be in the store, each batch under its id: for the spill file.

        Safe from any thread, even while a write runs. A batch moves from the
        queue to the running write, then into pending (encoded), then out once
        committed; read in that order, each stage after the one before it, a
        batch that moves meanwhile is still seen once, or it is stored. A
        batch whose commit lands after it was read is both stored and spilled
        under one id, and `loadgate import` skips it. Encoding a batch here
        while the thread encodes it too is safe: its tallies no longer change,
        and hdrh's encoder, shared per histogram, gets the same header values
        written from both threads.
        """
        queued = list(self._queue)
        in_flight = self._in_flight_batches
        pending = list(self._writer.pending.batches)
        unstored: dict[str, MeasuredBatch] = {batch.batch_id: batch for batch in pending}
        for batch in [*in_flight, *queued]:
            if batch.batch_id not in unstored:
                unstored[batch.batch_id] = encoded_batch(batch)
        return list(unstored.values())

    def shutdown(self) -> None:
        """Let the thread go; one stuck in a store call is left behind, not waited for.

        ThreadPool.kill waits for its threads to finish their task, which a
        hung server never lets happen; the process exits without it.
        """
        if self._in_flight is None and not self._left_running:
            self._pool.kill()

    def _start_next(self) -> None:
        if self._in_flight is not None or not self._queue or self._stopped:
            return
        batches = list(self._queue)
        self._in_flight_batches = tuple(batches)  # before the queue forgets them: see unstored
        self._queue.clear()
        self._in_flight_since_s = self._clock_s()
        self._in_flight = self._pool.spawn(self._write, batches)
        self._in_flight.rawlink(self._written)

    def _written(self, result: Any) -> None:
        # On the hub, once the thread's task returned: queued batches go next.
        if result is not self._in_flight:
            return  # already seen by wait_idle
        self._in_flight = None
        self._in_flight_batches = ()
        if result.successful():
            self.state = result.value
        else:  # a bug in the write itself: stop the run with it rather than lose data quietly
            error = StoreError(f"writing to the run store failed: {result.exception!r}")
            self.state = replace(
                self.state, consecutive_failures=MAX_STORE_FAILURES, last_error=error
            )
        self._start_next()

    # -- on the writer thread -------------------------------------------------

    def _write(self, batches: Sequence[Batch]) -> WriterState:
        writer = self._writer
        for batch in batches:
            writer.add(batch)
        error: StoreError | None = None
        try:
            writer.flush()
        except StoreError as exc:
            error = exc
        current_second = batches[-1].current_second
        recent = self.state.recent
        if any(batch.want_window for batch in batches):
            recent = writer.recent_window(current_second, self._started_s)
        return WriterState(
            requests_total=writer.requests_total,
            failures_total=writer.failures_total,
            recent=recent,
            abort_reason=self._abort_reason(current_second) if self._abort_reason else None,
            consecutive_failures=writer.consecutive_failures,
            last_error=error,
        )
