"""The open model's stored pieces added up: counts summed, start lags merged, drops listed."""

from __future__ import annotations

from loadgate.model import ArrivalSecond
from loadgate.stats import LatencyHistogram
from loadgate.stats.arrivals import LISTED_SECONDS, add_up


def _piece(second: int, iterations: int, dropped: int, lag_us: int) -> ArrivalSecond:
    lag = LatencyHistogram()
    lag.record_us(lag_us, iterations)
    return ArrivalSecond(second=second, iterations=iterations, dropped_iterations=dropped,
                         start_lag=lag.encode())  # fmt: skip


def test_pieces_of_a_second_from_two_workers_add_up() -> None:
    totals = add_up([_piece(10, 50, 0, 500), _piece(10, 50, 2, 900), _piece(11, 100, 0, 700)])
    assert (totals.iterations, totals.dropped_iterations, totals.asked) == (200, 2, 202)
    assert totals.seconds == 2
    assert (totals.seconds_dropping, totals.first_dropping) == (1, ((10, 2),))
    assert totals.start_lag.count == 200
    assert totals.start_lag_ms(1.0) == 0.9


def test_every_dropping_second_is_counted_and_the_first_ones_listed() -> None:
    pieces = [_piece(s, 1, 3, 100) for s in range(100, 150) for _worker in range(2)]
    totals = add_up(pieces)
    assert totals.seconds == totals.seconds_dropping == 50
    assert totals.dropped_iterations == 300
    assert totals.first_dropping == tuple((s, 6) for s in range(100, 100 + LISTED_SECONDS))


def test_no_pieces_is_a_closed_model_run() -> None:
    assert not add_up([]).is_open_model


def test_a_masters_pieces_of_one_second_are_stored_as_one() -> None:
    from loadgate.store.merging import merge_arrival_seconds

    pieces = [_piece(11, 40, 0, 300), _piece(10, 50, 1, 500), _piece(10, 50, 0, 900)]
    merged = merge_arrival_seconds(pieces)
    assert [(m.second, m.iterations, m.dropped_iterations) for m in merged] == [
        (10, 100, 1),
        (11, 40, 0),
    ]
    assert merged[1] is pieces[0], "a second in one piece is kept as it came"
    merged_totals, piece_totals = add_up(merged), add_up(sorted(pieces, key=lambda p: p.second))
    assert merged_totals.asked == piece_totals.asked
    for quantile in (0.5, 0.9, 1.0):
        assert merged_totals.start_lag_ms(quantile) == piece_totals.start_lag_ms(quantile)
