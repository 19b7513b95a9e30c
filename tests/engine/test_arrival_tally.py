"""The open model's per-second counts: iterations, drops, and start lag by HDR bucket."""

from __future__ import annotations

from loadgate.engine.arrival_tally import ArrivalTally
from loadgate.stats import LatencyHistogram


class Clock:
    def __init__(self, now_s: float = 1_000.0) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


def test_start_lags_are_stored_as_recording_each_would() -> None:
    clock = Clock(1000.2)
    tally = ArrivalTally(clock)
    lags_s = [0.0, 0.0000004, 0.002049, 0.0305, 1.5, 4_000.0]
    for lag_s in lags_s:
        tally.started(lag_s)
    tally.dropped(3)
    clock.now_s = 1001.1
    tally.started(0.001)

    (first,) = tally.take_finished(1001)
    stored = first.to_arrival_second()

    direct = LatencyHistogram()
    for lag_s in lags_s:
        direct.record_us(round(lag_s * 1_000_000))
    assert (stored.second, stored.iterations, stored.dropped_iterations) == (1000, 6, 3)
    assert stored.out_of_range == direct.out_of_range == 1
    assert LatencyHistogram.decode(stored.start_lag).recorded_values() == direct.recorded_values()
    (last,) = tally.take_all()
    assert (last.second, last.iterations) == (1001, 1)
