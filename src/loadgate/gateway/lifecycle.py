"""How a child process of the gateway learns it must stop: SIGTERM, or its parent is gone."""

from __future__ import annotations

import asyncio
import os
import signal

PARENT_CHECK_INTERVAL_S = 0.5


def ignore_interrupts() -> None:
    """Ctrl-C reaches every process in the terminal's group; only the supervisor acts on it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


async def wait_for_stop(parent_pid: int) -> None:
    """Return on SIGTERM, or when the parent process has died (we were re-parented)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    while not stop.is_set():
        if os.getppid() != parent_pid:
            return
        try:
            await asyncio.wait_for(stop.wait(), PARENT_CHECK_INTERVAL_S)
        except TimeoutError:
            continue
