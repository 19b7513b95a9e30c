"""The open model's per-second counts: iterations started, dropped, and how late they started.

Filled by the scheduler (loadgate.engine.arrival) on the hub, taken by the
writer once a second like the collector's tallies; only the current
second's counts are live, so memory stays flat however long the run. The
start lag is counted by HDR bucket (as the collector counts latencies) and
becomes an encoded histogram on the writer thread (`to_arrival_second`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from loadgate.model import ArrivalSecond
from loadgate.stats import LatencyHistogram
from loadgate.stats.histogram import bucket_floor_us

US_PER_S = 1_000_000


@dataclass
class ArrivalCounts:
    """One second's scheduler counts; `lag_counts` maps a µs bucket floor to iterations."""

    second: int
    iterations: int = 0
    dropped_iterations: int = 0
    lag_counts: dict[int, int] = field(default_factory=dict)

    def to_arrival_second(self) -> ArrivalSecond:
        """The stored form, its start-lag histogram encoded (costly: off the hub)."""
        histogram = LatencyHistogram()
        histogram.record_counts(self.lag_counts)
        return ArrivalSecond(
            second=self.second,
            iterations=self.iterations,
            dropped_iterations=self.dropped_iterations,
            start_lag=histogram.encode(),
            out_of_range=histogram.out_of_range,
        )


class ArrivalTally:
    """Counts by wall-clock second; not thread-safe (the hub's greenlets only)."""

    def __init__(self, clock_s: Callable[[], float] = time.time) -> None:
        self._clock_s = clock_s
        self._current: ArrivalCounts | None = None
        self._finished: list[ArrivalCounts] = []

    def _counts(self) -> ArrivalCounts:
        second = int(self._clock_s())
        current = self._current
        if current is None or current.second != second:
            if current is not None:
                self._finished.append(current)
            current = self._current = ArrivalCounts(second)
        return current

    def started(self, lag_s: float) -> None:
        """One iteration started `lag_s` after it was due (a lag below 1 µs counts as 0)."""
        counts = self._counts()
        counts.iterations += 1
        lag_us = bucket_floor_us(max(0, round(lag_s * US_PER_S)))
        counts.lag_counts[lag_us] = counts.lag_counts.get(lag_us, 0) + 1

    def dropped(self, iterations: int) -> None:
        """Iterations that were due and could not start: no free user, the pool full."""
        if iterations > 0:
            self._counts().dropped_iterations += iterations

    def take_finished(self, current_second: int) -> list[ArrivalCounts]:
        """Seconds before `current_second`, oldest first; they leave the tally."""
        if self._current is not None and self._current.second < current_second:
            self._finished.append(self._current)
            self._current = None
        taken, self._finished = self._finished, []
        return taken

    def take_all(self) -> list[ArrivalCounts]:
        """Everything counted, the current second too (at the end of a run)."""
        if self._current is not None:
            self._finished.append(self._current)
            self._current = None
        taken, self._finished = self._finished, []
        return taken
