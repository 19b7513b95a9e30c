"""Ctrl-C and SIGTERM: the first one stops a run cleanly, any other ends the process at once."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable
from types import TracebackType
from typing import Any

import gevent

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """Within the `with` block, SIGINT and SIGTERM are handled here.

    While a run is going (`stop_run_with` set), the first signal calls that
    callback, which stops the run: users stop, data are flushed, the run is
    marked aborted. Any other signal (a second one, or one before or after the
    run) runs the clean-ups (`before_exit`) and then `on_exit(self)`, which
    should end the process at once.

    gevent runs each handler in a new greenlet, between two steps of the event
    loop: never in the middle of a store transaction on SQLite (whose calls do
    not yield), and on PostgreSQL a transaction cut short is rolled back by the
    server, so the store stays consistent whenever the process ends.
    """

    def __init__(self, on_exit: Callable[[Interrupts], None]) -> None:
        self.run_id: int | None = None  # the stored run, once there is one
        self.received: str | None = None
        self._on_exit = on_exit
        self._stop_run: Callable[[str], None] | None = None
        self._cleanups: list[Callable[[], None]] = []
        self._handles: list[Any] = []

    def stop_run_with(self, callback: Callable[[str], None] | None) -> None:
        self._stop_run = callback

    def before_exit(self, cleanup: Callable[[], None]) -> None:
        self._cleanups.append(cleanup)

    def _handle(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self._stop_run is not None and self.received is None:
            self.received = name
            self._stop_run(name)
            return
        self.received = name
        for cleanup in reversed(self._cleanups):
            # Leaving at once matters more than any one clean-up.
            with contextlib.suppress(Exception):
                cleanup()
        self._on_exit(self)

    def __enter__(self) -> Interrupts:
        self._handles = [gevent.signal_handler(signum, self._handle, signum) for signum in SIGNALS]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for handle in self._handles:
            handle.cancel()
        self._handles = []
