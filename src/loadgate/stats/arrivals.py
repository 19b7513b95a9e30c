"""The open model's stored seconds added up: iterations, dropped ones, and the start lag."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from loadgate.model import ArrivalSecond
from loadgate.stats.histogram import LatencyHistogram

US_PER_MS = 1000.0
LISTED_SECONDS = 20  # of the seconds that dropped iterations, the first ones are kept


@dataclass(frozen=True, kw_only=True)
class ArrivalTotals:
    """A run's scheduler counts, added up.

    `first_dropping` lists the first LISTED_SECONDS seconds that dropped
    iterations, as (second, dropped); `seconds_dropping` counts all of them.
    """

    iterations: int = 0
    dropped_iterations: int = 0
    start_lag: LatencyHistogram = field(default_factory=LatencyHistogram)
    seconds: int = 0
    seconds_dropping: int = 0
    first_dropping: tuple[tuple[int, int], ...] = ()

    @property
    def is_open_model(self) -> bool:
        """Whether the run had a scheduler at all (an --arrival-rate run)."""
        return self.seconds > 0

    @property
    def asked(self) -> int:
        """Iterations that were due: started or dropped."""
        return self.iterations + self.dropped_iterations

    def start_lag_ms(self, quantile: float) -> float:
        return self.start_lag.quantile_us(quantile) / US_PER_MS


def add_up(pieces: Iterable[ArrivalSecond]) -> ArrivalTotals:
    """Every piece (several per second from workers), in second order, added exactly.

    Memory stays flat whatever the run's length: one histogram, a few counts.
    """
    iterations = dropped = 0
    lag = LatencyHistogram()
    dropped_by_second: dict[int, int] = {}  # the first LISTED_SECONDS seconds that dropped
    seconds = seconds_dropping = 0
    current = last_dropping = -1
    for piece in pieces:
        if piece.second != current:
            seconds += 1
            current = piece.second
        iterations += piece.iterations
        dropped += piece.dropped_iterations
        if piece.dropped_iterations:
            if piece.second != last_dropping:
                seconds_dropping += 1
                last_dropping = piece.second
            if piece.second in dropped_by_second or len(dropped_by_second) < LISTED_SECONDS:
                dropped_by_second[piece.second] = (
                    dropped_by_second.get(piece.second, 0) + piece.dropped_iterations
                )
        lag.merge(LatencyHistogram.decode(piece.start_lag, piece.out_of_range))
    first_dropping = sorted(dropped_by_second.items())
    return ArrivalTotals(
        iterations=iterations,
        dropped_iterations=dropped,
        start_lag=lag,
        seconds=seconds,
        seconds_dropping=seconds_dropping,
        first_dropping=tuple(first_dropping),
    )
