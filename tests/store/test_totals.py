"""Per-endpoint totals written when a run ends, and the fold of seconds where there are none."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from loadgate.model import EndpointSecond, RunStatus, UsersSample
from loadgate.stats import RunSummary, summarize
from loadgate.stats.fold import fold_seconds
from loadgate.store import RunStore
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


def _store_run(store: RunStore, *, finish: bool) -> int:
    run_id = store.create_run(new_run())
    seconds = _seconds()
    # Written as the engine does, a second at a time, one of them in two pieces.
    for second in seconds:
        store.append(run_id, [second], [UsersSample(second=second.second, users=3)])
    store.append(run_id, [endpoint_second(START_S + 5, "GET", "/items", [90_000])])
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
        store.get_run(run_id), store.endpoint_seconds(run_id), store.user_samples(run_id)
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
    assert list(store.iter_endpoint_seconds(run_id)) == store.endpoint_seconds(run_id)
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
