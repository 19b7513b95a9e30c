"""The circuit breaker's states, on a fake clock."""

from __future__ import annotations

from loadgate.gateway.breaker import BreakerState, CircuitBreaker
from loadgate.gateway.config import BreakerConfig

CONFIG = BreakerConfig(window=10, min_requests=4, failure_ratio=0.5, open_s=5.0, half_open_probes=2)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def run(breaker: CircuitBreaker, success: bool) -> BreakerState | None:
    admitted = breaker.admit()
    if admitted is not None:
        breaker.record(admitted, success)
    return admitted


def test_stays_closed_below_min_requests_and_ratio() -> None:
    breaker = CircuitBreaker(CONFIG, clock=Clock())
    for success in (False, True, True, True, False, True):
        run(breaker, success)
    assert breaker.state is BreakerState.CLOSED


def test_opens_then_half_opens_then_closes() -> None:
    clock = Clock()
    changes: list[BreakerState] = []
    breaker = CircuitBreaker(CONFIG, changes.append, clock)
    for _ in range(4):
        run(breaker, False)
    assert breaker.state is BreakerState.OPEN
    assert breaker.admit() is None
    assert breaker.retry_after_s() == 5.0
    clock.now += 5.0
    first = breaker.admit()
    second = breaker.admit()
    assert first is second is BreakerState.HALF_OPEN
    assert breaker.admit() is None  # only two probes at a time
    breaker.record(BreakerState.HALF_OPEN, True)
    breaker.record(BreakerState.HALF_OPEN, True)
    assert breaker.state is BreakerState.CLOSED
    assert changes == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


def test_a_failed_probe_opens_again() -> None:
    clock = Clock()
    breaker = CircuitBreaker(CONFIG, clock=clock)
    for _ in range(4):
        run(breaker, False)
    clock.now += 5.0
    assert run(breaker, False) is BreakerState.HALF_OPEN
    assert breaker.state is BreakerState.OPEN
    assert breaker.admit() is None


def test_a_refused_probe_frees_its_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker(CONFIG, clock=clock)
    for _ in range(4):
        run(breaker, False)
    clock.now += 5.0
    for _ in range(2):
        breaker.forget(breaker.admit() or BreakerState.CLOSED)
    assert breaker.admit() is BreakerState.HALF_OPEN


def test_disabled_never_opens() -> None:
    breaker = CircuitBreaker(BreakerConfig(enabled=False), clock=Clock())
    for _ in range(100):
        assert run(breaker, False) is BreakerState.CLOSED
