"""Writing runs and reading them back, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from loadgate.errors import RunNotFoundError
from loadgate.model import ArrivalSecond, MeasuredBatch, RunStatus, UsersSample, WorkerTotal
from loadgate.stats import LatencyHistogram
from loadgate.store import RunStore
from tests.builders import STARTED_AT, endpoint_second, histogram_of, new_run

# A start with microseconds: the store must keep them, and the time zone.
STARTED_WITH_MICROSECONDS = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_a_new_run_is_running_with_its_script_and_settings(store: RunStore) -> None:
    new = new_run(started_at=STARTED_WITH_MICROSECONDS)
    run = store.get_run(store.create_run(new))
    assert run.status is RunStatus.RUNNING
    assert (run.name, run.script_path, run.script_text, run.host) == (
        new.name,
        new.script_path,
        new.script_text,
        new.host,
    )
    assert run.started_at == STARTED_WITH_MICROSECONDS
    assert run.started_at.tzinfo is not None
    assert run.started_at.utcoffset() == timedelta(0)
    assert run.ended_at is None
    assert run.settings == new.settings
    assert run.is_baseline is False


def test_round_trip_keeps_histograms_and_counts_exactly(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    values_us = [1, 7, 250, 999, 1000, 1001, 12_345, 250_000, 3_000_000]
    histogram = histogram_of(values_us)
    written = endpoint_second(
        1_700_000_000,
        latencies_us=values_us,
        bytes_received=123_456_789_012,
        ok={"200": 6, "429": 1},
        failed={"500": 1, "0": 1},
        errors={"ConnectionRefusedError(111, 'refused')": 1, "HTTPError('500 Server Error')": 1},
        out_of_range=3,
    )
    store.append(run_id, [written], [UsersSample(second=1_700_000_000, users=20)])

    [read] = list(store.iter_endpoint_seconds(run_id))
    assert read == written
    decoded = LatencyHistogram.decode(read.histogram)
    assert decoded.recorded_values() == histogram.recorded_values()
    assert decoded.count == len(values_us)
    for quantile in (0.0, 0.25, 0.5, 0.9, 0.99, 1.0):
        assert decoded.quantile_us(quantile) == histogram.quantile_us(quantile)
    assert store.user_samples(run_id) == [UsersSample(second=1_700_000_000, users=20)]


def test_finish_run_records_status_time_and_reason(store: RunStore) -> None:
    run_id = store.create_run(new_run(started_at=STARTED_WITH_MICROSECONDS))
    ended_at = datetime(2026, 3, 1, 13, 30, 0, 654321, tzinfo=timezone(timedelta(hours=-2)))
    store.finish_run(run_id, RunStatus.ABORTED, ended_at, reason="interrupted (SIGINT)")
    run = store.get_run(run_id)
    assert run.status is RunStatus.ABORTED
    assert run.status_reason == "interrupted (SIGINT)"
    assert run.ended_at == ended_at
    assert run.ended_at is not None and run.ended_at.tzinfo == UTC
    assert run.duration_s == pytest.approx((ended_at - STARTED_WITH_MICROSECONDS).total_seconds())


def test_naive_datetimes_are_refused(store: RunStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.create_run(new_run(started_at=datetime(2026, 3, 1, 12, 0)))


def test_duplicate_seconds_are_merged_for_readers(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    early = endpoint_second(
        100,
        latencies_us=[100, 200],
        ok={"200": 1},
        failed={"503": 1},
        errors={"e": 1},
        bytes_received=200,
    )
    other = endpoint_second(100, name="/cart", latencies_us=[5000])
    late = endpoint_second(
        100,
        latencies_us=[300, 40_000],
        out_of_range=2,
        errors={"e": 2, "f": 1},
        bytes_received=400,
    )
    store.append(run_id, [early, other])
    store.append(run_id, [endpoint_second(101, latencies_us=[1])])
    store.append(run_id, [late])

    merged = list(store.iter_endpoint_seconds(run_id))
    assert [(s.second, s.name) for s in merged] == [
        (100, "/cart"),
        (100, "/items"),
        (101, "/items"),
    ]
    items = merged[1]
    assert items.requests == 6  # 2 + 2 measured + 2 out of range
    assert items.failures == 1
    assert items.bytes_received == 600
    assert items.ok_status_counts == {"200": 3}
    assert items.failed_status_counts == {"503": 1}
    assert items.errors == {"e": 3, "f": 1}
    assert items.out_of_range == 2
    expected = histogram_of([100, 200, 300, 40_000])
    assert LatencyHistogram.decode(items.histogram).recorded_values() == (
        expected.recorded_values()
    )
    assert merged[0] == other


def test_endpoint_seconds_are_ordered_by_second_name_method(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    store.append(
        run_id,
        [
            endpoint_second(6, name="/b", method="POST"),
            endpoint_second(5, name="/b"),
            endpoint_second(6, name="/B"),
            endpoint_second(6, name="/b", method="GET"),
            endpoint_second(5, name="/a"),
        ],
    )
    keys = [(s.second, s.name, s.method) for s in list(store.iter_endpoint_seconds(run_id))]
    assert keys == [
        (5, "/a", "GET"),
        (5, "/b", "GET"),
        (6, "/B", "GET"),
        (6, "/b", "GET"),
        (6, "/b", "POST"),
    ]
    assert [s.second for s in store.iter_endpoint_seconds(run_id, from_second=6)] == [6, 6, 6]


def test_user_samples_keep_the_last_written_per_second(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    store.append(run_id, [], [UsersSample(second=2, users=5), UsersSample(second=1, users=1)])
    store.append(run_id, [], [UsersSample(second=2, users=7)])
    assert store.user_samples(run_id) == [
        UsersSample(second=1, users=1),
        UsersSample(second=2, users=7),
    ]


def test_unknown_runs_are_reported_with_the_store(store: RunStore) -> None:
    for call in (
        lambda: store.get_run(42),
        lambda: store.append(42, [endpoint_second(1)]),
        lambda: store.finish_run(42, RunStatus.COMPLETED, STARTED_AT),
        lambda: store.set_baseline(42),
        lambda: list(store.iter_endpoint_seconds(42)),
        lambda: store.summary(42),
    ):
        with pytest.raises(RunNotFoundError, match=f"no run 42 in {store.url}"):
            call()


def test_resolve_by_id_last_and_name(store: RunStore) -> None:
    with pytest.raises(RunNotFoundError, match="no runs yet"):
        store.resolve("last")
    first = store.create_run(new_run("smoke"))
    second = store.create_run(new_run("soak"))
    third = store.create_run(new_run("smoke"))
    assert store.resolve(str(second)).run_id == second
    assert store.resolve("last").run_id == third
    assert store.resolve(" smoke ").run_id == third
    assert store.resolve("soak").run_id == second
    assert first < second < third
    with pytest.raises(RunNotFoundError, match="'nightly'"):
        store.resolve("nightly")
    with pytest.raises(RunNotFoundError, match="no run 999"):
        store.resolve("999")


def test_list_runs_newest_first_with_totals(store: RunStore) -> None:
    quiet = store.create_run(new_run("quiet"))
    busy = store.create_run(new_run("busy"))
    store.append(busy, [endpoint_second(1, latencies_us=[1, 2, 3], failed={"500": 1})])
    store.append(busy, [endpoint_second(1, latencies_us=[4]), endpoint_second(2, name="/x")])
    listings = store.list_runs()
    assert [listing.run.run_id for listing in listings] == [busy, quiet]
    assert (listings[0].requests, listings[0].failures) == (7, 1)
    assert listings[0].error_rate == pytest.approx(1 / 7)
    assert (listings[1].requests, listings[1].failures) == (0, 0)
    assert [listing.run.run_id for listing in store.list_runs(limit=1)] == [busy]


def test_baselines(store: RunStore) -> None:
    assert store.latest_baseline() is None
    old = store.create_run(new_run("api"))
    other = store.create_run(new_run("web"))
    new = store.create_run(new_run("api"))
    store.set_baseline(old)
    store.set_baseline(other)
    assert store.get_run(old).is_baseline
    baseline = store.latest_baseline("api")
    assert baseline is not None and baseline.run_id == old
    latest = store.latest_baseline()
    assert latest is not None and latest.run_id == other
    store.set_baseline(new)
    store.set_baseline(other, is_baseline=False)
    assert not store.get_run(other).is_baseline
    latest = store.latest_baseline()
    assert latest is not None and latest.run_id == new
    assert store.latest_baseline("nope") is None


def test_summary_reads_the_stored_run(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    store.append(
        run_id,
        [
            endpoint_second(10, latencies_us=[1000] * 9 + [9000], failed={"500": 1}),
            endpoint_second(11, name="/cart", method="POST", latencies_us=[500]),
            endpoint_second(11, latencies_us=[1000] * 10),
        ],
        [UsersSample(second=10, users=3), UsersSample(second=11, users=5)],
    )
    store.finish_run(run_id, RunStatus.COMPLETED, STARTED_AT + timedelta(seconds=4))
    summary = store.summary(run_id)
    assert summary.run.status is RunStatus.COMPLETED
    assert summary.duration_s == pytest.approx(4.0)
    assert summary.users_max == 5
    assert [(e.method, e.name) for e in summary.endpoints] == [("POST", "/cart"), ("GET", "/items")]
    items = summary.endpoints[1]
    assert (items.requests, items.failures) == (20, 1)
    assert items.rps == pytest.approx(5.0)
    assert items.p50_ms == pytest.approx(1.0)
    assert summary.total.requests == 21


def test_empty_append_is_a_no_op(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    store.append(run_id, [])
    assert list(store.iter_endpoint_seconds(run_id)) == []
    assert store.user_samples(run_id) == []


def test_list_runs_needs_a_positive_limit(store: RunStore) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        store.list_runs(limit=0)


def test_a_runs_workers_read_back_in_order_and_replace_what_was_stored(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    workers = [
        WorkerTotal(worker_id="w2", region="eu", requests=10, failures=1, first_second=5,
                    last_second=9, cpu_percent_mean=40.5, cpu_percent_max=80.0, users_max=3,
                    clock_offset_ms=-1.5),
        WorkerTotal(worker_id="w1", region="", requests=0, failures=0, first_second=None,
                    last_second=None, cpu_percent_mean=0.0, cpu_percent_max=0.0, users_max=0),
    ]  # fmt: skip
    store.store_workers(run_id, workers[1:])
    store.store_workers(run_id, workers)
    assert store.workers(run_id) == workers


def test_arrival_seconds_come_back_in_second_order_pieces_kept(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    lag = histogram_of([150, 900, 12_000]).encode()
    pieces = [
        ArrivalSecond(second=1_772_366_411, iterations=3, dropped_iterations=0, start_lag=lag),
        ArrivalSecond(second=1_772_366_410, iterations=3, dropped_iterations=5, start_lag=lag),
        ArrivalSecond(second=1_772_366_410, iterations=3, dropped_iterations=0, start_lag=lag,
                      out_of_range=1),
    ]  # fmt: skip
    store.append_batches(run_id, [MeasuredBatch(batch_id="b1", arrivals=pieces)])
    stored = list(store.iter_arrival_seconds(run_id))
    assert stored == [pieces[1], pieces[2], pieces[0]]
    assert LatencyHistogram.decode(stored[0].start_lag).quantile_us(1.0) == 12_007
    assert list(store.iter_arrival_seconds(store.create_run(new_run()))) == []
