"""Values per second from successive scrapes: rates (with resets), gauges, quantiles, the cap."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary, generate_latest

from loadgate.scrape import Deriver, read_exposition
from loadgate.scraped import SeriesKey, SeriesKind

URL = "http://127.0.0.1:9/metrics"


def key(name: str, kind: SeriesKind, **labels: str) -> SeriesKey:
    return SeriesKey(url=URL, name=name, labels=tuple(sorted(labels.items())), kind=kind)


def exposition(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()


def test_a_counter_becomes_its_increase_per_second_over_the_time_measured() -> None:
    registry = CollectorRegistry()
    counter = Counter("jobs_total", "jobs", ["queue"], registry=registry)
    counter.labels("a").inc(5)
    deriver = Deriver(URL)
    first = deriver.derive(read_exposition(exposition(registry)), at_s=100.0, second=1000)
    assert key("jobs_total", SeriesKind.RATE, queue="a") not in first.values  # needs two
    counter.labels("a").inc(30)
    second = deriver.derive(read_exposition(exposition(registry)), at_s=102.0, second=1002)
    # 30 more over 2 s: 15 per second, whatever the seconds keyed.
    assert second.values[key("jobs_total", SeriesKind.RATE, queue="a")] == pytest.approx(15.0)
    assert second.second == 1002 and second.url == URL and second.error == ""
    # prometheus-client's own _created series are not kept.
    assert not any(k.name.endswith("_created") for k in second.values)


def test_a_counter_reset_counts_from_zero_rather_than_going_negative() -> None:
    deriver = Deriver(URL)
    deriver.derive(read_exposition("# TYPE x_total counter\nx_total 1000\n"), 10.0, 1)
    after = deriver.derive(read_exposition("# TYPE x_total counter\nx_total 4\n"), 11.0, 2)
    assert after.values[key("x_total", SeriesKind.RATE)] == pytest.approx(4.0)


def test_gauges_and_summary_quantiles_are_kept_as_read_from_the_first_scrape() -> None:
    registry = CollectorRegistry()
    Gauge("in_flight", "now", registry=registry).set(7)
    text = exposition(registry) + '# TYPE rpc summary\nrpc{quantile="0.9"} 0.25\nrpc_count 3\n'
    values = Deriver(URL).derive(read_exposition(text), 1.0, 5).values
    assert values[key("in_flight", SeriesKind.GAUGE)] == 7.0
    assert values[key("rpc", SeriesKind.QUANTILE, quantile="0.9")] == 0.25


def test_a_histogram_gives_the_quantiles_of_the_seconds_observations_and_its_count_rate() -> None:
    registry = CollectorRegistry()
    latency = Histogram("lat_seconds", "l", ["route"], buckets=(0.1, 0.2, 1.0), registry=registry)
    for _ in range(100):  # before the second: all fast
        latency.labels("r").observe(0.05)
    deriver = Deriver(URL)
    deriver.derive(read_exposition(exposition(registry)), 1.0, 1)
    for _ in range(10):  # in the second: all between 0.2 and 1.0
        latency.labels("r").observe(0.5)
    values = deriver.derive(read_exposition(exposition(registry)), 2.0, 2).values
    p50 = values[key("lat_seconds", SeriesKind.QUANTILE, route="r", quantile="0.5")]
    p99 = values[key("lat_seconds", SeriesKind.QUANTILE, route="r", quantile="0.99")]
    # The run-long histogram's median would be under 0.1; this second's is in (0.2, 1.0].
    assert 0.2 < p50 <= p99 <= 1.0
    assert values[key("lat_seconds_count", SeriesKind.RATE, route="r")] == pytest.approx(10.0)
    # A second without observations has no quantile (a gap, not a zero).
    quiet = deriver.derive(read_exposition(exposition(registry)), 3.0, 3).values
    assert key("lat_seconds", SeriesKind.QUANTILE, route="r", quantile="0.5") not in quiet


def test_series_over_the_cap_are_dropped_and_counted() -> None:
    text = "".join(f'# TYPE g{i} gauge\ng{i}{{n="{i}"}} {i}\n' for i in range(10))
    deriver = Deriver(URL, max_series=4)
    first = deriver.derive(read_exposition(text), 1.0, 1)
    assert len(first.values) == 4
    assert first.series_dropped == 6
    assert first.dropped_example.startswith("g") and "{n=" in first.dropped_example
    # The same four are kept scrape after scrape: the cap holds which series, not a count.
    later = deriver.derive(read_exposition(text), 2.0, 2)
    assert set(later.values) == set(first.values)


def test_an_untyped_total_is_a_counter_and_other_untyped_samples_are_gauges() -> None:
    deriver = Deriver(URL)
    deriver.derive(read_exposition("hits_total 10\ntemperature 21\n"), 1.0, 1)
    values = deriver.derive(read_exposition("hits_total 12\ntemperature 22\n"), 2.0, 2).values
    assert values[key("hits_total", SeriesKind.RATE)] == pytest.approx(2.0)
    assert values[key("temperature", SeriesKind.GAUGE)] == 22.0


def test_text_that_is_not_prometheus_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        read_exposition("<html><body>not metrics</body></html>\n")


def test_summaries_are_parsed_with_prometheus_clients_own_types() -> None:
    registry = CollectorRegistry()
    Summary("work_seconds", "w", registry=registry).observe(1.0)
    reading = read_exposition(exposition(registry))
    assert ("work_seconds_count", ()) in reading.counters
