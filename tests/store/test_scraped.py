"""Scraped metrics stored with a run and read back, on SQLite and PostgreSQL."""

from __future__ import annotations

from loadgate.scraped import ChartBuckets, ScrapeSecond, SeriesKey, SeriesKind
from loadgate.store import RunStore
from tests.builders import new_run

URL = "http://127.0.0.1:9/metrics"
RATE = SeriesKey(url=URL, name="req_total", labels=(("route", "a'b\"<c>"),), kind=SeriesKind.RATE)
GAUGE = SeriesKey(url=URL, name="breaker_state", labels=(), kind=SeriesKind.GAUGE)
START = 1_700_000_000


def test_samples_gaps_and_stats_come_back_as_written(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    ids = store.append_scrapes(
        run_id,
        [
            ScrapeSecond(url=URL, second=START, values={RATE: 10.0, GAUGE: 0.0}),
            ScrapeSecond(url=URL, second=START + 1, error="connection refused"),
        ],
    )
    assert set(ids) == {RATE, GAUGE}
    # Known series are not created again: no new ids, and still one series each.
    later = store.append_scrapes(
        run_id,
        [ScrapeSecond(url=URL, second=START + 2, values={RATE: 30.0, GAUGE: 2.0})],
        ids,
    )
    assert later == {}
    scraped = store.scraped(run_id, lambda key: key.kind is SeriesKind.RATE)
    (target,) = scraped.targets
    assert (target.url, target.scrapes, target.series) == (URL, 3, 2)
    assert target.gap_seconds == (START + 1,)
    assert target.first_error == "connection refused"
    stats = {s.key: s for s in scraped.series}
    assert set(stats) == {RATE, GAUGE}  # labels with quotes and markup kept as they were
    assert (stats[RATE].samples, stats[RATE].min_value, stats[RATE].max_value) == (2, 10.0, 30.0)
    assert stats[RATE].mean_value == 20.0
    # Values only of the series asked for.
    assert scraped.samples == {RATE: {START: 10.0, START + 2: 30.0}}


def test_dropped_series_are_counted_with_an_example(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    store.append_scrapes(
        run_id,
        [
            ScrapeSecond(
                url=URL,
                second=START,
                values={GAUGE: 1.0},
                series_dropped=40,
                dropped_example='big_family{n="7"}',
            )
        ],
    )
    (target,) = store.scraped(run_id).targets
    assert (target.series_dropped, target.dropped_example) == (40, 'big_family{n="7"}')


def test_a_run_without_scrapes_reads_as_not_scraped(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    scraped = store.scraped(run_id, lambda key: True)
    assert not scraped.scraped
    assert scraped.series == () and scraped.samples == {}


def test_each_run_reads_only_its_own_scrapes(store: RunStore) -> None:
    first = store.create_run(new_run())
    second = store.create_run(new_run())
    store.append_scrapes(first, [ScrapeSecond(url=URL, second=START, values={GAUGE: 1.0})])
    store.append_scrapes(second, [ScrapeSecond(url=URL, second=START, values={GAUGE: 5.0})])
    assert store.scraped(second, lambda key: True).samples == {GAUGE: {START: 5.0}}


def test_charted_series_are_read_as_means_per_bucket_of_the_axis(store: RunStore) -> None:
    run_id = store.create_run(new_run())
    store.append_scrapes(
        run_id,
        [
            ScrapeSecond(url=URL, second=START + offset, values={RATE: float(offset), GAUGE: 1.0})
            for offset in range(25)
        ],
    )
    buckets = ChartBuckets(first_second=START, bucket_s=10, count=2)
    scraped = store.scraped(run_id, charted=lambda key: key == RATE, buckets=buckets)
    # 0..9 and 10..19 averaged; 20..24 are past the axis; the gauge was not asked for.
    assert scraped.chart_samples == {RATE: {START: 4.5, START + 10: 14.5}}
    assert scraped.samples == {}
