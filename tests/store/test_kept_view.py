"""A settled run's whole-run read is kept, loaded by later reads, and never served stale."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from loadgate.model import EndpointSecond, Part, RunStatus, UsersSample
from loadgate.store import RunStore
from loadgate.store.kept_view import FoldedView
from loadgate.store.run_view import RunRange, RunView, read_run_view
from tests.builders import START_S, STARTED_AT, endpoint_second, new_run

DURATION_S = 30


def _second(offset_s: int, name: str) -> EndpointSecond:
    return endpoint_second(
        START_S + offset_s, "GET", name, [800 + 40 * offset_s, 1_500, 90_000],
        ok={"200": 2}, failed={"503": 1}, errors={"HTTPError('503')": 1},
        parts={Part.CACHE_HIT: [300], Part.CACHE_MISS: [20_000]},
    )  # fmt: skip


def _store_run(store: RunStore, duration_s: int, *, finish: bool = True) -> int:
    run_id = store.create_run(new_run())
    seconds = [_second(o, n) for o in range(duration_s) for n in ("/a", "/b<i>")]
    # A ramp: the findings' series then holds each second's p95 too.
    users = [UsersSample(second=START_S + o, users=1 + o // 5) for o in range(duration_s)]
    store.append(run_id, seconds, users)
    if finish:
        store.finish_run(run_id, RunStatus.COMPLETED, STARTED_AT + timedelta(seconds=duration_s))
        store.store_totals(run_id)
    return run_id


def folded(view: RunView) -> FoldedView:
    return FoldedView(timeline=view.timeline, series=view.series, parts=view.parts)


@pytest.mark.parametrize("duration_s", [DURATION_S, 1500])  # 1 s buckets; 10 s ones, averaged
def test_a_settled_run_read_whole_keeps_what_was_folded_and_later_reads_load_it(
    store: RunStore, duration_s: int
) -> None:
    run_id = _store_run(store, duration_s)
    run = store.get_run(run_id)
    assert store.kept_view(run_id)[1] is None
    first = read_run_view(store, run)
    data_key, kept = store.kept_view(run_id)
    assert kept == folded(first), "kept as folded: the same values after the round trip"
    assert any(p.p95_us for e in kept.series.endpoints for p in e.points.values())
    assert any(e.buckets for e in kept.parts.endpoints)
    again = read_run_view(store, run)
    assert folded(again) == folded(first)
    assert again.summary == first.summary and not again.from_seconds
    # What a later read shows is the kept document's (not a fold of the seconds again):
    marked = replace(kept.timeline, users=(None,) * len(kept.timeline.users))
    assert store.keep_view(run, data_key, replace(kept, timeline=marked))
    assert read_run_view(store, run).timeline == marked


def test_seconds_appended_after_make_the_kept_view_stale(store: RunStore) -> None:
    run_id = _store_run(store, DURATION_S)
    run = store.get_run(run_id)
    first = read_run_view(store, run)
    late = endpoint_second(START_S + DURATION_S - 1, "GET", "/a", [7_000_000] * 50)
    store.append(run_id, [late])
    store.store_totals(run_id)
    assert store.kept_view(run_id)[1] is None, "the kept view no longer matches the data"
    after = read_run_view(store, run)
    assert after.timeline != first.timeline
    assert after.timeline.total.p99_ms[-1] is not None and after.timeline.total.p99_ms[-1] > 6000
    assert store.kept_view(run_id)[1] == folded(after), "kept again, from the data as it is now"


def test_a_view_folded_before_an_append_is_not_kept(store: RunStore) -> None:
    run_id = _store_run(store, DURATION_S)
    run = store.get_run(run_id)
    data_key, _ = store.kept_view(run_id)
    view = read_run_view(store, run, within=RunRange(from_s=0))  # a range: nothing kept
    store.append(run_id, [endpoint_second(START_S + 3, "GET", "/a", [1_000])])
    assert not store.keep_view(run, data_key, folded(view))
    assert store.kept_view(run_id)[1] is None


def test_running_runs_ranges_and_other_buckets_keep_nothing(store: RunStore) -> None:
    running = _store_run(store, DURATION_S, finish=False)
    read_run_view(store, store.get_run(running))
    assert store.kept_view(running)[1] is None
    settled = _store_run(store, DURATION_S)
    run = store.get_run(settled)
    read_run_view(store, run, within=RunRange(from_s=5, to_s=20))
    read_run_view(store, run, bucket_s=10)
    assert store.kept_view(settled)[1] is None
    # Nor is a kept view of the whole run what a range or other buckets show.
    whole = read_run_view(store, run)
    assert read_run_view(store, run, bucket_s=10).timeline.bucket_s == 10
    assert read_run_view(store, run, within=RunRange(from_s=5)).timeline.offsets_s[0] == 5
    assert whole.timeline.bucket_s == 1
