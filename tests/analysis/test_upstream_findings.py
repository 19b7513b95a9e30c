"""Retry amplification and opened breakers from scraped series, on synthetic runs."""

from __future__ import annotations

from collections.abc import Mapping

from loadgate.analysis.breaker import breaker_findings
from loadgate.analysis.finding import Chart, Severity
from loadgate.analysis.findings import find_all
from loadgate.analysis.retry_amplification import retry_amplification_findings
from loadgate.scraped import ScrapedRun, ScrapeTarget, SeriesKey, SeriesKind
from tests.analysis.series_builders import series_of, steady
from tests.builders import START_S

URL = "http://127.0.0.1:9/metrics"
Samples = dict[int, float]
ATTEMPTS = "loadgate_gateway_upstream_latency_seconds_count"
BREAKER = "loadgate_gateway_circuit_breaker_state"


def key(name: str, kind: SeriesKind, **labels: str) -> SeriesKey:
    return SeriesKey(url=URL, name=name, labels=tuple(sorted(labels.items())), kind=kind)


def scraped(samples: Mapping[SeriesKey, Mapping[int, float]]) -> ScrapedRun:
    target = ScrapeTarget(
        url=URL, scrapes=60, gap_seconds=(), first_error="", series=len(samples), series_dropped=0
    )
    return ScrapedRun(targets=(target,), samples=samples)


def per_offset(values: Mapping[int, float]) -> dict[int, float]:
    return {START_S + offset: value for offset, value in values.items()}


def attempts(rate_of: dict[int, float], upstream: str = "catalog") -> dict[SeriesKey, Samples]:
    return {key(ATTEMPTS, SeriesKind.RATE, upstream=upstream): per_offset(rate_of)}


def test_twice_as_many_upstream_requests_for_a_while_is_a_warning() -> None:
    series = series_of(steady(60, rps=20))
    # 20 client requests a second; the gateway sends 20, then 40 from 20 s to 39 s.
    rates = {s: 40.0 if 20 <= s < 40 else 20.0 for s in range(1, 60)}
    (finding,) = retry_amplification_findings(series, scraped(attempts(rates)))
    assert finding.kind == "retry_amplification"
    assert finding.severity is Severity.WARNING
    assert finding.chart is Chart.UPSTREAM
    assert finding.numbers["peak_ratio"] == 2.0
    # The 3 s windows reach 1.5 one second after the step and leave it two seconds after.
    assert (finding.from_s, finding.to_s) == (21, 40)
    assert 1.3 < float(finding.numbers["run_ratio"]) < 1.4


def test_upstream_requests_split_over_several_series_and_urls_are_added() -> None:
    series = series_of(steady(30, rps=20))
    samples = {
        **attempts({s: 30.0 for s in range(1, 30)}, "catalog"),
        **attempts({s: 30.0 for s in range(1, 30)}, "commerce"),
    }
    (finding,) = retry_amplification_findings(series, scraped(samples))
    assert finding.numbers["peak_ratio"] == 3.0
    assert finding.severity is Severity.CRITICAL


def test_one_upstream_request_per_client_request_is_no_finding() -> None:
    series = series_of(steady(60, rps=20))
    healthy = attempts({s: 20.0 for s in range(1, 60)})
    assert retry_amplification_findings(series, scraped(healthy)) == []


def test_a_short_spike_is_no_finding() -> None:
    series = series_of(steady(60, rps=20))
    # One second at twice the rate: the 3 s windows holding it reach 80/60, under 1.5.
    rates = {s: 20.0 for s in range(1, 60)} | {30: 40.0}
    assert retry_amplification_findings(series, scraped(attempts(rates))) == []


def test_seconds_without_an_upstream_value_are_not_counted_as_zero_or_as_amplification() -> None:
    series = series_of(steady(60, rps=20))
    # Gaps every other second: no window is whole, so no ratio at all.
    gappy = {s: 60.0 for s in range(1, 60, 2)}
    assert retry_amplification_findings(series, scraped(attempts(gappy))) == []


def test_retries_counters_add_to_the_client_requests() -> None:
    series = series_of(steady(30, rps=10))
    retries = {key("envoy_cluster_upstream_rq_retry", SeriesKind.RATE): per_offset(
        {s: 10.0 for s in range(1, 30)}
    )}  # fmt: skip
    (finding,) = retry_amplification_findings(series, scraped(retries))
    assert finding.numbers["peak_ratio"] == 2.0
    assert "Envoy" in finding.sentence


def test_an_open_breaker_is_a_finding_with_when_and_how_often() -> None:
    series = series_of(steady(30, rps=10))
    states = {s: 0.0 for s in range(30)} | {5: 2.0, 6: 2.0, 7: 1.0, 8: 2.0, 20: 2.0}
    samples = {key(BREAKER, SeriesKind.GAUGE, upstream="catalog"): per_offset(states)}
    (finding,) = breaker_findings(series, scraped(samples))
    assert finding.kind == "breaker_opened"
    assert finding.severity is Severity.WARNING
    assert (finding.from_s, finding.to_s) == (5, 20)
    assert finding.numbers["openings"] == 3
    assert finding.numbers["open_s"] == 4
    assert "upstream catalog" in finding.sentence


def test_half_open_and_closed_breakers_are_no_finding() -> None:
    series = series_of(steady(30, rps=10))
    states = {s: float(s % 2) for s in range(30)}  # closed and half-open only
    samples = {key(BREAKER, SeriesKind.GAUGE, upstream="catalog"): per_offset(states)}
    assert breaker_findings(series, scraped(samples)) == []


def test_find_all_includes_the_scraped_findings_and_nothing_without_scrapes() -> None:
    series = series_of(steady(30, rps=10))
    states = {s: 2.0 for s in range(10, 15)}
    samples = {
        key(BREAKER, SeriesKind.GAUGE, upstream="catalog"): per_offset(states),
        **attempts({s: 25.0 for s in range(1, 30)}),
    }
    kinds = {f.kind for f in find_all(series, scraped=scraped(samples))}
    assert kinds == {"retry_amplification", "breaker_opened"}
    assert find_all(series) == ()
