"""A circuit breaker per upstream: closed, open after too many failures, half-open probes."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import IntEnum

from loadgate.gateway.config import BreakerConfig


class BreakerState(IntEnum):
    """The value exported as the breaker-state gauge."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreaker:
    """Counts failed attempts over a sliding window of the last `window` attempts.

    Open: every request is refused at once (the gateway answers 503) for
    `open_s`. Then half-open: up to `half_open_probes` requests go through; one
    failure opens it again, `half_open_probes` successes close it.
    """

    def __init__(
        self,
        config: BreakerConfig,
        on_change: Callable[[BreakerState], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._on_change = on_change
        self._clock = clock
        self._outcomes: deque[bool] = deque()
        self._failures = 0
        self._opened_at = 0.0
        self._probes_in_flight = 0
        self._probe_successes = 0
        self.state = BreakerState.CLOSED

    def admit(self) -> BreakerState | None:
        """The state an attempt runs under, or None when the breaker refuses it."""
        if not self._config.enabled:
            return BreakerState.CLOSED
        if self.state is BreakerState.OPEN:
            if self._clock() - self._opened_at < self._config.open_s:
                return None
            self._probes_in_flight = 0
            self._probe_successes = 0
            self._set(BreakerState.HALF_OPEN)
        if self.state is BreakerState.HALF_OPEN:
            if self._probes_in_flight >= self._config.half_open_probes:
                return None
            self._probes_in_flight += 1
        return self.state

    def record(self, admitted_as: BreakerState, success: bool) -> None:
        """The outcome of an attempt admitted under `admitted_as`."""
        if not self._config.enabled:
            return
        if admitted_as is BreakerState.HALF_OPEN:
            self._probes_in_flight = max(0, self._probes_in_flight - 1)
            if self.state is not BreakerState.HALF_OPEN:
                return
            if not success:
                self._open()
                return
            self._probe_successes += 1
            if self._probe_successes >= self._config.half_open_probes:
                self._outcomes.clear()
                self._failures = 0
                self._set(BreakerState.CLOSED)
            return
        if self.state is not BreakerState.CLOSED:
            return  # started before the breaker opened; the window restarts on closing
        self._outcomes.append(success)
        if not success:
            self._failures += 1
        if len(self._outcomes) > self._config.window and not self._outcomes.popleft():
            self._failures -= 1
        count = len(self._outcomes)
        if count >= self._config.min_requests and self._failures >= (
            self._config.failure_ratio * count
        ):
            self._open()

    def forget(self, admitted_as: BreakerState) -> None:
        """An admitted attempt that never reached the upstream (the pool refused it)."""
        if admitted_as is BreakerState.HALF_OPEN:
            self._probes_in_flight = max(0, self._probes_in_flight - 1)

    def retry_after_s(self) -> float:
        """How long until an open breaker lets a probe through."""
        return max(0.0, self._config.open_s - (self._clock() - self._opened_at))

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._outcomes.clear()
        self._failures = 0
        self._set(BreakerState.OPEN)

    def _set(self, state: BreakerState) -> None:
        if state is not self.state:
            self.state = state
            if self._on_change is not None:
                self._on_change(state)
