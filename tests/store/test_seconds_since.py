"""Reading a running run's seconds from S on, as the dashboard's live view does each tick."""

from __future__ import annotations

from loadgate.model import EndpointSecond
from loadgate.store import RunStore
from tests.builders import START_S, endpoint_second, new_run


def _since(store: RunStore, run_id: int, first: int) -> list[tuple[int, str, int]]:
    seconds = store.iter_endpoint_seconds(run_id, from_second=first)
    return [(s.second - START_S, s.name, s.requests) for s in seconds]


def _appended(offsets_s: range, name: str = "/items") -> list[EndpointSecond]:
    return [endpoint_second(START_S + offset_s, "GET", name) for offset_s in offsets_s]


def test_seconds_from_s_on_are_exactly_the_new_ones_pieces_merged(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    store.append(run_id, _appended(range(10)))
    assert _since(store, run_id, START_S + 7) == [(7, "/items", 3), (8, "/items", 3),
                                                  (9, "/items", 3)]  # fmt: skip
    # The next tick: two more seconds, a second piece of second 9 (another
    # worker's), and a new endpoint.
    store.append(run_id, _appended(range(9, 12)) + _appended(range(11, 12), "/new"))
    assert _since(store, run_id, START_S + 9) == [
        (9, "/items", 6),
        (10, "/items", 3),
        (11, "/items", 3),
        (11, "/new", 3),
    ]
    assert _since(store, run_id, START_S + 12) == []
    # Every second, read from the start, is what the ticks read.
    assert len(_since(store, run_id, START_S)) == 13


def test_pieces_before_a_second_count_the_rows_of_earlier_seconds(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    store.append(run_id, _appended(range(10)) + _appended(range(5), "/other"))
    assert store.pieces_before(run_id, START_S + 3) == 6
    assert store.pieces_before(run_id, START_S) == 0
    # A late piece of second 1 (a slow worker's): the count moves, later seconds' do not matter.
    store.append(run_id, _appended(range(1, 2)) + _appended(range(12, 13)))
    assert store.pieces_before(run_id, START_S + 3) == 7
    assert store.pieces_before(run_id, START_S + 100) == 17
