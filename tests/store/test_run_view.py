"""A stored run read once into summary and timeline: coarse buckets for long runs, ranges."""

from __future__ import annotations

from datetime import timedelta

import pytest

from loadgate.analysis.findings import find_all
from loadgate.model import EndpointSecond, RunStatus, UsersSample
from loadgate.stats import series as series_module
from loadgate.stats import summarize
from loadgate.stats.fold import fold_seconds
from loadgate.stats.summary import summarize_fold
from loadgate.store import RunStore
from loadgate.store.run_view import RunRange, read_run_series, read_run_view
from tests.builders import START_S, STARTED_AT, endpoint_second, new_run, timeline_of

DURATION_S = 1500  # 25 minutes: 10 s buckets


def _second(offset: int, name: str) -> EndpointSecond:
    slow = 5_000 if 600 <= offset < 660 else 0  # one slow minute
    return endpoint_second(
        START_S + offset, "GET", name, [800 + slow + 7 * (offset % 50), 1_200 + slow]
    )


@pytest.fixture
def long_run(store: RunStore) -> int:
    run_id = store.create_run(new_run())
    for start in range(0, DURATION_S, 100):
        seconds = [_second(o, n) for o in range(start, start + 100) for n in ("/a", "/b")]
        users = [UsersSample(second=START_S + o, users=o // 60) for o in range(start, start + 100)]
        store.append(run_id, seconds, users)
    store.finish_run(run_id, RunStatus.COMPLETED, STARTED_AT + timedelta(seconds=DURATION_S))
    store.store_totals(run_id)
    return run_id


def test_a_long_run_is_charted_in_coarse_buckets_and_summarised_from_its_totals(
    store: RunStore, long_run: int
) -> None:
    run = store.get_run(long_run)
    view = read_run_view(store, run)
    assert not view.from_seconds, "the summary comes from the stored totals"
    assert view.timeline.bucket_s == 10
    assert len(view.timeline.offsets_s) == DURATION_S // 10
    seconds = list(store.iter_endpoint_seconds(long_run))
    users = store.user_samples(long_run)
    assert view.summary == summarize(run, seconds, users)
    assert view.timeline == timeline_of(run, seconds, users)
    slow_minute = view.timeline.total.p50_ms[60:66]
    assert all(p50 is not None and p50 > 5 for p50 in slow_minute)


def test_a_range_is_read_second_by_second_with_its_own_summary(
    store: RunStore, long_run: int
) -> None:
    run = store.get_run(long_run)
    view = read_run_view(store, run, within=RunRange(from_s=590, to_s=700))
    assert view.timeline.bucket_s == 1
    assert view.timeline.offsets_s == tuple(range(590, 700))
    in_range = [
        s for s in list(store.iter_endpoint_seconds(long_run)) if 590 <= s.second - START_S < 700
    ]
    expected = summarize_fold(run, fold_seconds(in_range), users_max=0, duration_s=110.0)
    assert view.summary.endpoints == expected.endpoints
    assert view.summary.total == expected.total
    assert view.summary.duration_s == 110.0
    assert view.summary.users_max == 699 // 60
    assert view.timeline.total.p50_ms[9] is not None and view.timeline.total.p50_ms[9] < 5
    assert view.timeline.total.p50_ms[10] is not None and view.timeline.total.p50_ms[10] > 5


def test_a_range_past_the_end_stops_at_the_end(store: RunStore, long_run: int) -> None:
    run = store.get_run(long_run)
    view = read_run_view(store, run, within=RunRange(from_s=1400, to_s=9000))
    assert view.timeline.offsets_s == tuple(range(1400, DURATION_S))
    assert view.summary.duration_s == 100.0


def test_the_findings_series_without_histograms_equals_the_one_with_them(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    pieces = [
        endpoint_second(START_S, latencies_us=[1_000] * 4, failed={"503": 1}, errors={"e": 1}),
        endpoint_second(START_S, latencies_us=[2_000] * 4, ok={"200": 3, "429": 1}),
        endpoint_second(START_S + 1, latencies_us=[500]),
    ]
    store.append(run_id, pieces[:1], [UsersSample(second=START_S, users=2)])
    store.append(run_id, pieces[1:], [])  # a second piece of START_S, as a worker would
    run = store.get_run(run_id)
    assert all(s.histogram == b"" for s in store.iter_second_counts(run_id))
    users = store.user_samples(run_id)
    counts = read_run_series(store, run, users, latency=False)
    full = read_run_series(store, run, users, latency=True)
    (plain,), (decoded,) = counts.endpoints, full.endpoints
    assert plain.points.keys() == decoded.points.keys() == {START_S, START_S + 1}
    for second in plain.points:
        a, b = plain.points[second], decoded.points[second]
        assert (a.requests, a.failures, a.ok, a.failed, a.errors) == (
            b.requests,
            b.failures,
            b.ok,
            b.failed,
            b.errors,
        )
        assert a.p95_us is None and b.p95_us is not None
    assert plain.points[START_S].requests == 8 and plain.points[START_S].ok == {"200": 6, "429": 1}
    assert read_run_view(store, run).series == counts  # not a ramp: no p95 needed


def test_a_read_longer_than_the_findings_span_keeps_no_series_and_says_so(
    store: RunStore, long_run: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory stays flat: past FINDINGS_MAX_SPAN_S the per-second series is not kept."""
    monkeypatch.setattr(series_module, "FINDINGS_MAX_SPAN_S", 600)
    run = store.get_run(long_run)
    for series in (
        read_run_view(store, run).series,
        read_run_series(store, run, store.user_samples(long_run), latency=False),
    ):
        assert series.endpoints == ()
        assert series.skipped_span_s == DURATION_S
        (finding,) = find_all(series)
        assert finding.kind == "coverage" and "--from/--to" in finding.sentence
    # a range within the span gets its series, and so its findings
    ranged = read_run_view(store, run, within=RunRange(from_s=0, to_s=300)).series
    assert ranged.skipped_span_s == 0 and ranged.endpoints
