"""Ctrl-C and SIGTERM: the first one stops a run cleanly, any other ends the process at once.

"At once" must hold whatever the main thread is doing: rendering a long
report, or waiting inside a database call (SQLite's busy timeout sleeps in C
for up to 10 s; a stopped PostgreSQL server never answers). A handler run by
gevent's loop (gevent.signal_handler) or by Python in the main thread waits
for that thread to come back, so the decision to exit is taken on a native
thread of its own instead: Python's C-level signal handler writes the signal
number to a pipe (signal.set_wakeup_fd) as the signal arrives, and the
thread, blocked on that pipe, exits the process when it must. The first
signal of a run is still handled in the main thread (Python runs the handler
between two bytecodes, or when gevent's loop next checks for signals, at
most 300 ms later), where it can stop the run cleanly.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from types import TracebackType
from typing import Any

from gevent import monkey

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """Within the `with` block, SIGINT and SIGTERM are handled here.

    While a run is going (`stop_run_with` set), the first signal calls that
    callback, which stops the run: users stop, data are flushed, the run is
    marked aborted. Any other signal (a second one, or one before or after the
    run) runs the clean-ups (`before_exit`, on the interrupt thread: they must
    not wait for the main thread) and then `on_exit(self)`, which must end the
    process at once (os._exit).
    """

    def __init__(self, on_exit: Callable[[Interrupts], None]) -> None:
        self.run_id: int | None = None  # the stored run, once there is one
        self.received: str | None = None
        self.exit_note = ""  # what a clean-up wants said on exit (where data were kept)
        self._on_exit = on_exit
        self._stop_run: Callable[[str], None] | None = None
        self._cleanups: list[Callable[[], None]] = []
        self._signals_seen = 0  # counted by the interrupt thread
        self._stop_requested = False  # by the main thread's handler
        self._pipe: tuple[int, int] | None = None
        self._previous: dict[int, Any] = {}
        self._previous_wakeup_fd = -1

    def stop_run_with(self, callback: Callable[[str], None] | None) -> None:
        self._stop_run = callback

    def before_exit(self, cleanup: Callable[[], None]) -> None:
        self._cleanups.append(cleanup)

    # -- the main thread: the first signal of a run ----------------------------

    def _handle_in_main_thread(self, signum: int, _frame: object) -> None:
        # Decided like _on_signal: the first signal while a run goes stops it.
        stop_run = self._stop_run
        if stop_run is not None and not self._stop_requested:
            self._stop_requested = True
            stop_run(signal.Signals(signum).name)

    # -- the interrupt thread: decides, and exits ------------------------------

    def _watch(self, read_fd: int) -> None:
        try:
            while data := os.read(read_fd, 16):  # b"": the `with` block ended
                # The pipe gets every signal with a Python handler, not only ours.
                for signum in data:
                    if signum in SIGNALS:
                        self._on_signal(signum)
        except OSError:
            pass
        finally:
            os.close(read_fd)

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        self._signals_seen += 1
        if self._stop_run is not None and self._signals_seen == 1:
            self.received = name  # the main thread's handler stops the run
            return
        self.received = name
        for cleanup in reversed(self._cleanups):
            # Leaving at once matters more than any one clean-up.
            with contextlib.suppress(Exception):
                cleanup()
        self._on_exit(self)

    def __enter__(self) -> Interrupts:
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)  # required by set_wakeup_fd
        self._pipe = (read_fd, write_fd)
        for signum in SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle_in_main_thread)
        self._previous_wakeup_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        # A native thread even under gevent's monkey-patching (threading's is a greenlet).
        start_native_thread = monkey.get_original("_thread", "start_new_thread")
        start_native_thread(self._watch, (read_fd,))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        signal.set_wakeup_fd(self._previous_wakeup_fd)
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous = {}
        if self._pipe is not None:
            os.close(self._pipe[1])  # the thread reads end-of-file and returns
            self._pipe = None
