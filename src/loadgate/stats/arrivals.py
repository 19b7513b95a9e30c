"""The open model's stored seconds added up: iterations, dropped ones, and the start lag."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from loadgate.model import ArrivalSecond
from loadgate.stats.histogram import LatencyHistogram

US_PER_MS = 1000.0


@dataclass(frozen=True, kw_only=True)
class ArrivalTotals:
    """A run's scheduler counts; `seconds_dropping` lists the seconds that dropped any, in order."""

    iterations: int = 0
    dropped_iterations: int = 0
    start_lag: LatencyHistogram = field(default_factory=LatencyHistogram)
    seconds: int = 0
    seconds_dropping: tuple[tuple[int, int], ...] = ()  # (second, dropped), in second order

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
    """Every piece of every second (several per second from workers) added exactly."""
    iterations = dropped = 0
    lag = LatencyHistogram()
    dropping: dict[int, int] = {}
    seconds: set[int] = set()
    for piece in pieces:
        seconds.add(piece.second)
        iterations += piece.iterations
        dropped += piece.dropped_iterations
        if piece.dropped_iterations:
            dropping[piece.second] = dropping.get(piece.second, 0) + piece.dropped_iterations
        lag.merge(LatencyHistogram.decode(piece.start_lag, piece.out_of_range))
    return ArrivalTotals(
        iterations=iterations,
        dropped_iterations=dropped,
        start_lag=lag,
        seconds=len(seconds),
        seconds_dropping=tuple(sorted(dropping.items())),
    )
