"""The hub stall meter: a blocking call on the hub is measured at its length; quiet reads low."""

from __future__ import annotations

import time
from collections.abc import Callable

import gevent
from gevent import monkey

from loadgate.engine.stall import HubStallMeter

BLOCK_S = 0.050
# A hub that only sleeps: its longest stretch is the loop's own work, well
# under a millisecond; the margin is for a shared machine preempting the test.
QUIET_LIMIT_MS = 20.0
_native_sleep = monkey.get_original("time", "sleep")  # blocks the thread, hub and all


def _busy_loop(duration_s: float) -> None:
    until_s = time.perf_counter() + duration_s
    while time.perf_counter() < until_s:
        pass


def _measure(block: Callable[[float], object]) -> tuple[float, float]:
    """The meter's reading over a quiet stretch, then over one in which a greenlet blocks."""
    meter = HubStallMeter(gevent.get_hub().loop)
    meter.start()
    try:
        for _ in range(20):
            gevent.sleep(0.005)
        quiet_ms = meter.take_longest_ms()
        blocker = gevent.spawn(block, BLOCK_S)
        blocker.join(timeout=5)
        gevent.sleep(0.01)  # a few loop iterations after it
        blocked_ms = meter.take_longest_ms()
    finally:
        meter.stop()
    return quiet_ms, blocked_ms


def test_a_native_sleep_on_the_hub_is_measured() -> None:
    quiet_ms, blocked_ms = _measure(_native_sleep)
    assert quiet_ms < QUIET_LIMIT_MS
    assert blocked_ms >= BLOCK_S * 1000


def test_a_busy_loop_on_the_hub_is_measured() -> None:
    quiet_ms, blocked_ms = _measure(_busy_loop)
    assert quiet_ms < QUIET_LIMIT_MS
    assert blocked_ms >= BLOCK_S * 1000


def test_reading_resets_the_longest_stall() -> None:
    meter = HubStallMeter(gevent.get_hub().loop)
    meter.start()
    try:
        gevent.spawn(_native_sleep, BLOCK_S).join(timeout=5)
        gevent.sleep(0.01)
        assert meter.take_longest_ms() >= BLOCK_S * 1000
        for _ in range(10):
            gevent.sleep(0.005)
        assert meter.take_longest_ms() < QUIET_LIMIT_MS, "the next second starts afresh"
    finally:
        meter.stop()
