"""Per-second series from synthetic stored seconds: exact values, gaps, alignment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loadgate.model import EndpointSecond, RunInfo, UsersSample
from loadgate.stats import LatencyHistogram
from loadgate.stats.bucket_counts import BucketCounts
from loadgate.stats.timeline import (
    MAX_CHART_POINTS,
    TimelineFold,
    bucket_width_s,
    epoch_second,
)
from tests.builders import START_S, endpoint_second, new_run, run_info, timeline_of

# A run that started a quarter of a second into START_S and lasted 5.5 s.
STARTED_AT = datetime.fromtimestamp(START_S, tz=UTC) + timedelta(milliseconds=250)


def timeline_run(duration_s: float | None = 5.5, started_at: datetime = STARTED_AT) -> RunInfo:
    return run_info(new_run(started_at=started_at), duration_s=duration_s)


SECONDS = [
    endpoint_second(START_S, "GET", "/a", [100, 200, 300, 400], ok={"200": 4}),
    endpoint_second(START_S, "POST", "/b", [500], ok={"201": 1}),
    endpoint_second(START_S + 2, "GET", "/a", [1000, 1500], ok={"429": 1}, failed={"503": 1}),
]
USERS = [UsersSample(second=START_S, users=2), UsersSample(second=START_S + 2, users=4)]


def test_axis_spans_the_run_in_seconds_since_start() -> None:
    timeline = timeline_of(timeline_run(), SECONDS, USERS)
    assert timeline.start_second == START_S
    assert timeline.offsets_s == (0, 1, 2, 3, 4, 5)


def test_users_are_carried_between_samples_and_unknown_outside() -> None:
    timeline = timeline_of(timeline_run(), SECONDS, USERS)
    assert timeline.users == (2, 2, 4, None, None, None)


def test_counts_per_second_are_zero_when_idle() -> None:
    total = timeline_of(timeline_run(), SECONDS, USERS).total
    assert total.label == "Total"
    assert total.ok_per_s == (5, 0, 1, 0, 0, 0)
    assert total.failed_per_s == (0, 0, 1, 0, 0, 0)


def test_percentiles_per_second_with_gaps_not_zeros() -> None:
    total = timeline_of(timeline_run(), SECONDS, USERS).total
    assert total.p50_ms == (0.3, None, 1.0, None, None, None)
    assert total.p95_ms == (0.5, None, 1.5, None, None, None)
    assert total.p99_ms == (0.5, None, 1.5, None, None, None)


def test_endpoints_have_their_own_series_in_summary_order() -> None:
    timeline = timeline_of(timeline_run(), SECONDS, USERS)
    assert [e.label for e in timeline.endpoints] == ["GET /a", "POST /b"]
    get_a, post_b = timeline.endpoints
    assert get_a.p50_ms == (0.2, None, 1.0, None, None, None)
    assert get_a.p99_ms == (0.4, None, 1.5, None, None, None)
    assert post_b.p50_ms == (0.5, None, None, None, None, None)
    assert post_b.ok_per_s == (1, 0, 0, 0, 0, 0)


def test_status_counts_per_second_join_ok_and_failed() -> None:
    timeline = timeline_of(timeline_run(), SECONDS, USERS)
    assert dict(timeline.total.status_per_s) == {
        "200": (4, 0, 0, 0, 0, 0),
        "201": (1, 0, 0, 0, 0, 0),
        "429": (0, 0, 1, 0, 0, 0),
        "503": (0, 0, 1, 0, 0, 0),
    }
    assert list(timeline.endpoints[1].status_per_s) == ["201"]


def test_unfinished_run_ends_with_its_data() -> None:
    timeline = timeline_of(timeline_run(duration_s=None), SECONDS, USERS)
    assert timeline.offsets_s == (0, 1, 2)


def test_empty_run_has_one_second_and_no_endpoints() -> None:
    timeline = timeline_of(timeline_run(duration_s=None), [], [])
    assert timeline.offsets_s == (0,)
    assert timeline.users == (None,)
    assert timeline.endpoints == ()
    assert timeline.total.p50_ms == (None,)
    assert dict(timeline.total.status_per_s) == {}


def test_naive_datetimes_are_utc() -> None:
    naive = STARTED_AT.replace(tzinfo=None)
    assert epoch_second(naive) == START_S
    assert timeline_of(timeline_run(started_at=naive), SECONDS, USERS).start_second == START_S


def test_data_before_the_recorded_start_gets_negative_offsets() -> None:
    early = [endpoint_second(START_S - 1, "GET", "/a", [100], ok={"200": 1}), *SECONDS]
    timeline = timeline_of(timeline_run(), early, USERS)
    assert timeline.offsets_s[:2] == (-1, 0)
    assert timeline.total.ok_per_s[:2] == (1, 5)


def test_a_run_ending_on_a_second_boundary_does_not_cover_the_next_second() -> None:
    started = datetime.fromtimestamp(START_S, tz=UTC)
    timeline = timeline_of(timeline_run(3.0, started_at=started), SECONDS, USERS)
    assert timeline.offsets_s == (0, 1, 2)


def test_bucket_width_keeps_charts_within_their_points() -> None:
    assert [bucket_width_s(s) for s in (1, 600, 720, 721, 3600, 7200, 7201, 4 * 3600)] == [
        1, 1, 1, 10, 10, 10, 60, 60,
    ]  # fmt: skip
    assert bucket_width_s(24 * 3600) == 600
    assert -(-30 * 86_400 // bucket_width_s(30 * 86_400)) <= MAX_CHART_POINTS


def _minute_of_seconds() -> list[EndpointSecond]:
    """One endpoint over 25 s, each second with its own latencies and one 503 every 4th."""
    return [
        endpoint_second(
            START_S + offset,
            "GET",
            "/a",
            [1_000 + 97 * offset + 13 * i for i in range(10 + offset)],
            ok={"200": 10 + offset - (offset % 4 == 0)},
            failed={"503": 1} if offset % 4 == 0 else {},
        )
        for offset in range(25)
    ]


def test_coarse_buckets_hold_exact_percentiles_of_their_seconds_and_rates_per_second() -> None:
    seconds = _minute_of_seconds()
    started = datetime.fromtimestamp(START_S, tz=UTC)
    run = timeline_run(25.0, started_at=started)
    users = [UsersSample(second=START_S + s, users=s) for s in range(25)]
    timeline = timeline_of(run, seconds, users, bucket_s=10)
    assert timeline.bucket_s == 10
    assert timeline.offsets_s == (0, 10, 20)
    assert timeline.users == (9, 19, 24), "the most users in each bucket"
    for index, bucket in enumerate((seconds[0:10], seconds[10:20], seconds[20:25])):
        merged = LatencyHistogram.merged(LatencyHistogram.decode(s.histogram) for s in bucket)
        assert timeline.total.p99_ms[index] == merged.quantile_us(0.99) / 1000
        assert timeline.total.p50_ms[index] == merged.quantile_us(0.5) / 1000
        # The last bucket has 5 seconds: per-second rates divide by 5, not 10.
        assert timeline.total.ok_per_s[index] == sum(s.requests - s.failures for s in bucket) / len(
            bucket
        )
        assert timeline.total.status_per_s["503"][index] == sum(s.failures for s in bucket) / len(
            bucket
        )


def test_pieces_of_a_second_are_merged_before_its_percentiles() -> None:
    latencies = [100 * i for i in range(1, 200)]
    whole = endpoint_second(START_S, "GET", "/a", latencies)
    pieces = [
        endpoint_second(START_S, "GET", "/a", latencies[:50]),
        endpoint_second(START_S, "GET", "/a", latencies[50:]),
    ]
    run = timeline_run(1.0, started_at=datetime.fromtimestamp(START_S, tz=UTC))
    assert timeline_of(run, pieces, []) == timeline_of(run, [whole], [])


def test_a_fold_refuses_seconds_out_of_order() -> None:
    fold = TimelineFold(range(START_S, START_S + 30), bucket_s=10)
    seconds = _minute_of_seconds()
    for late in (seconds[15], seconds[24]):  # the second one closes the bucket of 10..19
        fold.add(late, BucketCounts.decode(late.histogram))
    early = seconds[12]
    with pytest.raises(ValueError, match="ascending"):
        fold.add(early, BucketCounts.decode(early.histogram))
