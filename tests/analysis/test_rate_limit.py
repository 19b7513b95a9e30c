"""Rate-limit accuracy on synthetic seconds: holds, overshoots, never reached, not enforced."""

from __future__ import annotations

import pytest

from loadgate.analysis.finding import Severity
from loadgate.analysis.findings import find_all
from loadgate.analysis.rate_limit import parse_rate_limit, rate_limit_findings
from loadgate.errors import ConfigError
from loadgate.model import EndpointSecond
from tests.analysis.series_builders import second, series_of, steady


def limited(
    accepted_per_s: int, offered: int = 40, seconds: int = 20, burst: int = 0
) -> list[EndpointSecond]:
    """`offered` requests a second to /search, `accepted_per_s` of them 200, the rest 429."""
    out = []
    for s in range(seconds):
        ok = min(offered, accepted_per_s + (burst if s == 0 else 0))
        out.append(second(s, offered, name="/search", ok={"200": ok}, failed={"429": offered - ok}))
    return out


def test_parsing_rates_endpoints_and_per_key_limits() -> None:
    assert parse_rate_limit("50/s").rate_per_s == 50
    assert parse_rate_limit("600/min").rate_per_s == 10
    scoped = parse_rate_limit("GET /v1/search: 20/s")
    assert (scoped.endpoint, scoped.rate_per_s) == ("GET /v1/search", 20)
    with pytest.raises(ConfigError, match="need response headers"):
        parse_rate_limit("50/s per X-API-Key")
    with pytest.raises(ConfigError, match="expected a rate such as '50/s'"):
        parse_rate_limit("fifty")


def test_a_limit_that_holds_is_info_and_the_burst_second_is_left_out() -> None:
    (finding,) = rate_limit_findings(series_of(limited(20, burst=20)), parse_rate_limit("20/s"))
    assert finding.kind == "rate_limit" and finding.severity is Severity.INFO
    assert finding.numbers["accepted_per_s"] == 20 and finding.numbers["overshoot"] == 0
    assert finding.numbers["worst_second_accepted"] == 20  # second 0 (40: the burst) left out
    assert "holds" in finding.sentence


def test_local_limits_on_two_processes_overshoot_twice() -> None:
    (finding,) = rate_limit_findings(series_of(limited(40, offered=60)), parse_rate_limit("20/s"))
    assert finding.severity is Severity.CRITICAL
    assert finding.numbers["overshoot"] == 1.0
    assert "overshoots" in finding.sentence and "+100% of the limit" in finding.sentence


def test_rejecting_well_below_the_limit_is_a_warning() -> None:
    (finding,) = rate_limit_findings(series_of(limited(10)), parse_rate_limit("20/s"))
    assert finding.severity is Severity.WARNING and "rejects below the limit" in finding.sentence


def test_below_the_limit_it_was_never_reached_and_above_it_not_enforced() -> None:
    (calm,) = rate_limit_findings(series_of(steady(20, rps=10)), parse_rate_limit("20/s"))
    assert calm.severity is Severity.INFO and "never reached" in calm.sentence
    (open_door,) = rate_limit_findings(series_of(steady(20, rps=40)), parse_rate_limit("20/s"))
    assert open_door.severity is Severity.CRITICAL and "not enforced" in open_door.sentence


def test_an_endpoint_scope_counts_only_that_endpoint() -> None:
    seconds = [*limited(20), *steady(20, rps=100, name="/products")]
    (finding,) = rate_limit_findings(series_of(seconds), parse_rate_limit("GET /search: 20/s"))
    assert finding.severity is Severity.INFO and finding.endpoint == "GET /search"


def test_without_an_expected_limit_there_is_no_finding_and_settings_give_one() -> None:
    series = series_of(limited(20))
    assert [f.kind for f in find_all(series)] == ["errors.rate_limit"]
    from_settings = find_all(series, {"expect_rate_limit": "20/s"})
    assert "rate_limit" in {f.kind for f in from_settings}
    given = find_all(series, {"expect_rate_limit": "5/s"}, expect_rate_limit="20/s")
    (accuracy,) = [f for f in given if f.kind == "rate_limit"]
    assert accuracy.numbers["limit_per_s"] == 20
