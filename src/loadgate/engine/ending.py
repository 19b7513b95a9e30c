"""How a run's end reaches the store: recorded through the writer thread, or kept in a spill file.

The store may be failing (errors), hung (no answer) or fine; the user may
press Ctrl-C twice while it is either. `RunEnding` records the end where the
store still takes it, within a bound, and otherwise writes what the store
lacks, and how the run ended, to one spill file (loadgate.store.spill) that
the error or the exit line names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import gevent
from gevent import monkey

from loadgate.engine.writer import Batch
from loadgate.engine.writer_thread import WriterThread
from loadgate.errors import StoreError
from loadgate.model import NewRun, RunStatus
from loadgate.scraped import ScrapeSecond
from loadgate.store.spill import RunEnd, Spill, spill_path, write_spill

SPILL_WAIT_S = 3.0  # for a write in flight, once the store is known to fail


class RunFinisher(Protocol):
    def finish_run(
        self, run_id: int, status: RunStatus, ended_at: datetime, reason: str = ""
    ) -> None: ...


@dataclass(frozen=True, kw_only=True)
class StoredRun:
    """The run as created in the store: what a spill file needs to name it."""

    run_id: int
    new: NewRun
    store_url: str


class RunEnding:
    """Records the end of one run, or spills what the store lacks (once per run)."""

    def __init__(
        self,
        store: RunFinisher,
        run: StoredRun,
        thread: WriterThread,
        unstored_scrapes: Callable[[], Sequence[ScrapeSecond]] = tuple,
    ) -> None:
        self._store = store
        self._run = run
        self._thread = thread
        self._unstored_scrapes = unstored_scrapes
        self.stored = False  # the end is in the store
        self.store_error: StoreError | None = None  # the store failed: nothing more is written
        self._spilled_to: Path | None = None
        # The main and the interrupt thread may both spill: a native lock (the
        # holder only writes a file), so that the seconds are not kept twice.
        self._spill_lock = monkey.get_original("threading", "Lock")()

    def record(self, status: RunStatus, ended_at: datetime, reason: str, timeout_s: float) -> bool:
        """finish_run on the writer thread, waiting at most timeout_s; False if not done."""
        try:
            self._thread.call(
                self._store.finish_run, self._run.run_id, status, ended_at, reason,
                timeout_s=timeout_s,
            )  # fmt: skip
        except (StoreError, gevent.Timeout):
            return False
        self.stored = True
        return True

    def spilled(self, error: StoreError, last: Batch | None, end: RunEnd) -> StoreError:
        """Keep what the store lacks in a spill file; the error to end the run with names it."""
        self.store_error = error
        # A write in flight may still fail or land; none starts after it.
        self._thread.stop_writing(last)
        if self._thread.wait_idle(SPILL_WAIT_S):  # a failing store, not a hung one
            self.record(end.status, end.ended_at, end.reason, SPILL_WAIT_S)
        try:
            path = self._write_spill(end)
        except OSError as exc:
            return StoreError(f"{error}; and the measurements could not be kept: {exc}")
        return StoreError(
            f"{error}; run {self._run.run_id} stopped, its unsaved measurements are kept in "
            f"{path} (add them with `loadgate import {path}`)"
        )

    def at_exit(self, reason: Callable[[], str]) -> str:
        """On the interrupt thread, as the process exits: spill if needed; what to say."""
        run_id = self._run.run_id
        if self._spilled_to is None and self.stored and not self._thread.unstored():
            return f"run {run_id} is in the store"
        end = RunEnd(status=RunStatus.ABORTED, reason=reason(), ended_at=datetime.now(UTC))
        path = self._write_spill(end)
        return f"run {run_id}'s unsaved measurements are kept in {path} (`loadgate import {path}`)"

    def _write_spill(self, end: RunEnd) -> Path:
        with self._spill_lock:
            if self._spilled_to is None:
                self._spilled_to = write_spill(self._spill(end), spill_path(self._run.run_id))
            return self._spilled_to

    def _spill(self, end: RunEnd) -> Spill:
        return Spill(
            run_id=self._run.run_id,
            store_url=self._run.store_url,
            run=self._run.new,
            batches=self._thread.unstored(),
            scrapes=self._unstored_scrapes(),
            end=end,
        )
