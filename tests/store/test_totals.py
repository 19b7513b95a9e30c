"""Per-endpoint totals written when a run ends, and the fold of seconds where there are none."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa

from loadgate.model import EndpointSecond, RunStatus, UsersSample
from loadgate.stats import RunSummary, summarize
from loadgate.stats.fold import fold_seconds
from loadgate.store import RunStore
from loadgate.store.merging import merge_endpoint_seconds
from loadgate.store.schema import endpoint_totals
from tests.builders import START_S, STARTED_AT, endpoint_second, new_run

QUANTILES = (0.0, 0.5, 0.9, 0.99, 0.999, 1.0)


def _seconds() -> list[EndpointSecond]:
    seconds = []
    for offset in range(12):
        seconds.append(
            endpoint_second(
                START_S + offset,
                "GET",
                "/items",
                [300 + 41 * i + 500 * offset for i in range(30)],
                ok={"200": 29},
                failed={"503": 1},
                errors={"HTTPError('503')": 1},
                bytes_received=300,
            )
        )
        seconds.append(
            endpoint_second(START_S + offset, "POST", "/cart", [2_000 + offset], out_of_range=1)
        )
    return seconds


def _second_piece() -> EndpointSecond:
    """A second piece of a second _seconds() already has."""
    return endpoint_second(START_S + 5, "GET", "/items", [90_000])


def _store_run(store: RunStore, *, finish: bool) -> int:
    run_id = store.create_run(new_run())
    seconds = _seconds()
    # Written as the engine does, a second at a time, one of them in two pieces.
    for second in seconds:
        store.append(run_id, [second], [UsersSample(second=second.second, users=3)])
    store.append(run_id, [_second_piece()])
    if finish:
        store.finish_run(run_id, RunStatus.COMPLETED, STARTED_AT + timedelta(seconds=12))
        store.store_totals(run_id)
    return run_id


def _numbers(summary: RunSummary) -> list[object]:
    rows: list[object] = [summary.duration_s, summary.users_max, summary.errors]
    for endpoint in (*summary.endpoints, summary.total):
        rows += [endpoint, endpoint.histogram.quantiles_us(QUANTILES)]
    return rows


def _from_seconds(store: RunStore, run_id: int) -> RunSummary:
    return summarize(
        store.get_run(run_id), list(store.iter_endpoint_seconds(run_id)), store.user_samples(run_id)
    )


def test_stored_totals_equal_the_fold_of_the_seconds(store: RunStore) -> None:
    run_id = _store_run(store, finish=True)
    assert store.stored_fold(run_id) is not None, "one row per endpoint was written"
    summary = store.summary(run_id)
    assert _numbers(summary) == _numbers(_from_seconds(store, run_id))
    assert summary.total.requests == 12 * (30 + 2) + 1
    assert summary.total.out_of_range == 12


def test_runs_without_totals_are_summarised_from_their_seconds(store: RunStore) -> None:
    running = _store_run(store, finish=False)
    assert store.stored_fold(running) is None
    ended = store.create_run(new_run())
    store.finish_run(ended, RunStatus.FAILED, STARTED_AT, "boom")
    assert store.stored_fold(ended) is None, "finish_run alone stays instant: no fold"
    assert _numbers(store.summary(running)) == _numbers(_from_seconds(store, running))

    older = _store_run(store, finish=True)
    expected = _numbers(store.summary(older))
    # A run stored before totals existed has none.
    with store._engine.begin() as conn:  # simulating an older store
        conn.execute(sa.delete(endpoint_totals).where(endpoint_totals.c.run_id == older))
    assert store.stored_fold(older) is None
    assert _numbers(store.summary(older)) == expected


def test_seconds_appended_after_the_totals_are_not_missed(store: RunStore) -> None:
    run_id = _store_run(store, finish=True)
    store.append(run_id, [endpoint_second(START_S + 20, "GET", "/late", [5_000])])
    assert store.stored_fold(run_id) is None, "the totals no longer account for every request"
    summary = store.summary(run_id)
    assert [e.name for e in summary.endpoints] == ["/cart", "/items", "/late"]
    assert _numbers(summary) == _numbers(_from_seconds(store, run_id))


def test_streamed_seconds_are_the_merged_seconds_in_order(store: RunStore) -> None:
    run_id = _store_run(store, finish=False)
    expected = merge_endpoint_seconds([*_seconds(), _second_piece()])
    assert list(store.iter_endpoint_seconds(run_id)) == expected
    ranged = list(
        store.iter_endpoint_seconds(run_id, from_second=START_S + 5, to_second=START_S + 6)
    )
    assert {s.second for s in ranged} == {START_S + 5, START_S + 6}
    merged = [s for s in ranged if s.second == START_S + 5 and s.name == "/items"]
    assert len(merged) == 1 and merged[0].requests == 31, "the two pieces are one second"
    assert store.second_span(run_id) == (START_S, START_S + 11)


def test_totals_from_a_fold_already_made_are_stored_as_given(store: RunStore) -> None:
    run_id = _store_run(store, finish=False)
    store.finish_run(run_id, RunStatus.COMPLETED, STARTED_AT + timedelta(seconds=12))
    store.store_totals(run_id, fold_seconds(store.iter_endpoint_seconds(run_id)))
    assert _numbers(store.summary(run_id)) == _numbers(_from_seconds(store, run_id))
    assert store.stored_fold(run_id) is not None


def _totals_rows(store: RunStore, run_id: int) -> int:
    query = sa.select(sa.func.count()).where(endpoint_totals.c.run_id == run_id)
    with store._engine.begin() as conn:
        return int(conn.execute(query).scalar_one())


def test_an_ended_run_without_totals_gets_them_from_its_first_summary(store: RunStore) -> None:
    # Ended as a second Ctrl-C or a failing store leaves it: finish_run, no store_totals.
    run_id = _store_run(store, finish=False)
    store.finish_run(run_id, RunStatus.ABORTED, STARTED_AT + timedelta(seconds=12))
    assert store.stored_fold(run_id) is None
    folded = _numbers(store.summary(run_id))
    assert store.stored_fold(run_id) is not None, "the fold the summary made was stored"
    assert _totals_rows(store, run_id) == 2
    assert _numbers(store.summary(run_id)) == folded == _numbers(_from_seconds(store, run_id))


def test_running_and_lost_runs_get_no_totals_from_readers(store: RunStore, store_url: str) -> None:
    running = _store_run(store, finish=False)
    store.summary(running)
    assert _totals_rows(store, running) == 0
    with RunStore.open(store_url, lost_after_s=1e-6) as lost_view:
        run = lost_view.get_run(running)
        assert run.status is RunStatus.LOST
        lost_view.summary(running)
        assert not lost_view.keep_totals(
            run, fold_seconds(lost_view.iter_endpoint_seconds(running))
        )
    assert _totals_rows(store, running) == 0


def test_a_fold_that_misses_later_seconds_is_not_kept(store: RunStore) -> None:
    run_id = _store_run(store, finish=False)
    store.finish_run(run_id, RunStatus.COMPLETED, STARTED_AT + timedelta(seconds=12))
    run = store.get_run(run_id)
    stale = fold_seconds(store.iter_endpoint_seconds(run_id))
    store.append(run_id, [endpoint_second(START_S + 11, "GET", "/late", [5_000])])
    assert not store.keep_totals(run, stale)
    assert _totals_rows(store, run_id) == 0
    fresh = fold_seconds(store.iter_endpoint_seconds(run_id))
    assert store.keep_totals(run, fresh)
    assert store.stored_fold(run_id) is not None


def test_two_readers_keep_one_copy_of_the_totals(store: RunStore, store_url: str) -> None:
    run_id = _store_run(store, finish=False)
    store.finish_run(run_id, RunStatus.FAILED, STARTED_AT + timedelta(seconds=12), "store down")
    run = store.get_run(run_id)
    fold = fold_seconds(store.iter_endpoint_seconds(run_id))
    barrier = threading.Barrier(2)

    def keep() -> bool:
        with RunStore.open(store_url) as reader:
            barrier.wait(timeout=10)
            return reader.keep_totals(run, fold)

    with ThreadPoolExecutor(max_workers=2) as pool:
        kept = list(pool.map(lambda _: keep(), range(2)))
    assert sorted(kept) == [False, True], "one reader wrote them, the other found them"
    assert _totals_rows(store, run_id) == 2
    assert not store.keep_totals(run, fold), "totals that still hold are not written again"
