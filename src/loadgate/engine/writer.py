"""Moving finished seconds from the collector to the run store, and keeping the live totals."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from loadgate.engine.collector import Collector, FinishedSecond
from loadgate.model import EndpointSecond, UsersSample
from loadgate.stats import LatencyHistogram

RECENT_WINDOW_S = 5


class RunSink(Protocol):
    """Where measurements go: RunStore.append (or anything shaped like it)."""

    def append(
        self, run_id: int, seconds: Sequence[EndpointSecond], users: Sequence[UsersSample] = ()
    ) -> None: ...


@dataclass(frozen=True, kw_only=True)
class RecentWindow:
    """All endpoints over the last few finished seconds: what the live view shows."""

    seconds: int
    requests: int
    failures: int
    histogram: LatencyHistogram

    @property
    def rate_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class _SecondTotal:
    second: int
    requests: int
    failures: int
    histogram: LatencyHistogram


class SecondsWriter:
    """Flushes a run's finished seconds and user counts; call `tick` every second or so.

    A failed append leaves its data pending, to be retried with the next tick
    (and `consecutive_failures` counts how long the store has been failing); the
    StoreError still propagates so the caller can decide when to give up.
    """

    def __init__(
        self,
        sink: RunSink,
        run_id: int,
        collector: Collector,
        on_seconds: Callable[[Sequence[EndpointSecond]], None] | None = None,
    ) -> None:
        self._sink = sink
        self._on_seconds = on_seconds
        self._run_id = run_id
        self._collector = collector
        self._pending_seconds: list[EndpointSecond] = []
        self._pending_users: list[UsersSample] = []
        self._recent: deque[_SecondTotal] = deque(maxlen=RECENT_WINDOW_S)
        self.requests_total = 0
        self.failures_total = 0
        self.consecutive_failures = 0

    def tick(self, now_s: float, users: int) -> None:
        """Write every second before the current one; `users` is the count at its end.

        Call it just after a second begins, so that the previous second is
        complete and the user count is the one it ended with.
        """
        current_second = int(now_s)
        self._take(self._collector.take_finished(current_second))
        self._pending_users.append(UsersSample(second=current_second - 1, users=users))
        self._flush()

    def close(self, now_s: float, users: int) -> None:
        """Write everything measured, the current second included."""
        self._take(self._collector.take_all())
        self._pending_users.append(UsersSample(second=int(now_s), users=users))
        self._flush()

    def _take(self, finished: list[FinishedSecond]) -> None:
        for second in finished:
            stored = second.to_endpoint_seconds()
            self._pending_seconds.extend(stored)
            self._remember(second)
            if self._on_seconds is not None:
                self._on_seconds(stored)

    def _remember(self, second: FinishedSecond) -> None:
        requests = sum(t.requests for t in second.tallies.values())
        failures = sum(t.failures for t in second.tallies.values())
        self.requests_total += requests
        self.failures_total += failures
        histogram = LatencyHistogram.merged(t.histogram for t in second.tallies.values())
        if self._recent and self._recent[-1].second == second.second:
            # A second taken while current, then its rest: one entry, added up.
            last = self._recent.pop()
            histogram.merge(last.histogram)
            requests += last.requests
            failures += last.failures
        self._recent.append(_SecondTotal(second.second, requests, failures, histogram))

    def _flush(self) -> None:
        seconds, users = self._pending_seconds, self._pending_users
        try:
            self._sink.append(self._run_id, seconds, users)
        except BaseException:
            self.consecutive_failures += 1
            raise
        self.consecutive_failures = 0
        self._pending_seconds, self._pending_users = [], []

    def recent_window(self, now_s: float, started_s: float) -> RecentWindow:
        """The last RECENT_WINDOW_S whole seconds before the current one (fewer at the start)."""
        current = int(now_s)
        first = max(current - RECENT_WINDOW_S, int(started_s))
        recent = [s for s in self._recent if first <= s.second < current]
        return RecentWindow(
            seconds=max(0, current - first),
            requests=sum(s.requests for s in recent),
            failures=sum(s.failures for s in recent),
            histogram=LatencyHistogram.merged(s.histogram for s in recent),
        )
