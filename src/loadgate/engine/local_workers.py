"""`--processes N`: Locust workers forked from this process, as Locust's own `--processes` does.

Forked after the script is loaded (so workers share its imported code and the
host it was given) and before the master binds its port or the writer thread
starts: a child must inherit no runner, ZeroMQ socket or native thread. A
worker's ZeroMQ socket queues its "ready" message until the master binds, so
the order needs no handshake. A child never returns into the caller's code:
it runs its worker until the master tells it to quit, then leaves with
os._exit (no clean-up of the parent's objects: the store, the gateway, the
live view belong to the master).

Signals: Ctrl-C in a terminal reaches the whole process group; the workers
ignore it and let the master stop them through Locust's "quit" message, so
their last reports still arrive. If the master dies, the kernel sends them
SIGTERM (PR_SET_PDEATHSIG), instead of Locust's 60 s heartbeat timeout.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
import traceback
from collections.abc import Callable

import gevent

PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
REAP_TIMEOUT_S = 10.0
REAP_POLL_S = 0.05


def processes_count(asked: int) -> int:
    """Locust's meaning: -1 is one worker per core."""
    return (os.cpu_count() or 1) if asked == -1 else asked


class LocalWorkers:
    """Worker processes forked from this one; `reap` (or `kill_now`) when the run is over."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids

    @classmethod
    def fork(cls, count: int, run_worker: Callable[[], None]) -> LocalWorkers:
        """Fork `count` children, each of which calls `run_worker` and exits."""
        pids: list[int] = []
        for _ in range(count):
            pid = gevent.fork()
            if pid == 0:
                _be_worker(run_worker)  # never returns
            pids.append(pid)
        return cls(pids)

    def reap(self, timeout_s: float = REAP_TIMEOUT_S) -> None:
        """Wait for the workers to exit (they were told to quit); SIGKILL the ones that linger."""
        deadline = time.monotonic() + timeout_s
        waiting = list(self.pids)
        while waiting and time.monotonic() < deadline:
            waiting = [pid for pid in waiting if not _exited(pid)]
            if waiting:
                gevent.sleep(REAP_POLL_S)
        for pid in waiting:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)

    def kill_now(self) -> None:
        """On a hurried exit (the interrupt thread): SIGKILL, no waiting."""
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError, OSError):
                os.kill(pid, signal.SIGKILL)


def _exited(pid: int) -> bool:
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done != 0


def _be_worker(run_worker: Callable[[], None]) -> None:
    code = 0
    try:
        # The parent's handlers write to its interrupt thread's pipe: not ours to use.
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _die_with_parent()
        run_worker()
    except BaseException:  # a worker's failure must not run the parent's code
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
