"""Rate-limit accuracy on synthetic seconds: holds, overshoots, never reached, not enforced."""

from __future__ import annotations

import pytest

from loadgate.analysis.finding import Severity
from loadgate.analysis.findings import find_all
from loadgate.analysis.rate_limit import parse_rate_limit, rate_limit_findings
from loadgate.errors import ConfigError
from loadgate.model import EndpointSecond, Part
from tests.analysis.series_builders import count_parts, second, series_of, steady


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
    keyed = parse_rate_limit("GET /v1/search: 50/s  per X-API-Key")
    assert (keyed.endpoint, keyed.rate_per_s, keyed.key_header) == (
        "GET /v1/search",
        50,
        "X-API-Key",
    )
    assert parse_rate_limit("50/s").key_header is None
    with pytest.raises(ConfigError, match="a request header's name after 'per'"):
        parse_rate_limit("50/s per X API Key")
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


def test_a_per_key_limit_is_judged_against_the_rate_times_the_keys_active() -> None:
    per_key = parse_rate_limit("20/s per X-API-Key")
    two_keys = count_parts({Part.KEYS: 2})
    (holds,) = rate_limit_findings(series_of(limited(40, offered=60)), per_key, two_keys)
    assert holds.severity is Severity.INFO, holds.sentence
    assert "holds per key" in holds.sentence and "40.0/s for 2.0 active keys" in holds.sentence
    assert holds.numbers["active_keys"] == 2 and holds.numbers["overshoot"] == 0
    # The same accepted rate with one key active is twice the limit.
    one_key = count_parts({Part.KEYS: 1})
    (over,) = rate_limit_findings(series_of(limited(40, offered=60)), per_key, one_key)
    assert over.severity is Severity.CRITICAL and "overshoots per key" in over.sentence


def test_keys_read_in_wider_buckets_are_spread_over_their_seconds() -> None:
    # 2 keys in every second, read in 5 s buckets: 10 per bucket, 2 a second.
    wide = count_parts({Part.KEYS: 2}, bucket_s=5)
    assert wide.endpoints[0].buckets[Part.KEYS].requests[0] == 10
    per_key = parse_rate_limit("20/s per X-API-Key")
    (finding,) = rate_limit_findings(series_of(limited(40, offered=60)), per_key, wide)
    assert finding.numbers["active_keys"] == 2 and finding.severity is Severity.INFO


def test_a_per_key_limit_without_counted_keys_is_not_judged() -> None:
    per_key = parse_rate_limit("20/s per X-API-Key")
    (finding,) = rate_limit_findings(series_of(limited(40, offered=60)), per_key)
    assert finding.severity is Severity.INFO
    assert "not judged" in finding.sentence and "no X-API-Key values" in finding.sentence
    # Under a per-key limit, two keys below twice the limit never reached it.
    (calm,) = rate_limit_findings(
        series_of(steady(20, rps=35)), per_key, count_parts({Part.KEYS: 2})
    )
    assert "never reached" in calm.sentence and calm.severity is Severity.INFO


def test_429s_without_a_retry_hint_are_a_warning_and_a_few_are_not() -> None:
    limit = parse_rate_limit("20/s")
    # 20 rejected a second; 10 of them said nothing of when to retry.
    (bare,) = rate_limit_findings(
        series_of(limited(20)), limit, count_parts({Part.UNHINTED_429: 10})
    )
    assert bare.severity is Severity.WARNING and "holds" in bare.sentence
    assert bare.numbers["unhinted_429"] == 200
    assert "200 of them (50%) carried no Retry-After or RateLimit-* header" in bare.sentence
    (few,) = rate_limit_findings(series_of(limited(20)), limit, count_parts({Part.UNHINTED_429: 0}))
    assert few.severity is Severity.INFO and "Retry-After" not in few.sentence


def test_5xx_in_the_seconds_the_limit_is_active_are_a_warning() -> None:
    limit = parse_rate_limit("20/s")
    # A 5xx counts as accepted (it passed the limiter, or was its answer): 20 a second here.
    seconds = [
        second(s, 30, name="/search", ok={"200": 10}, failed={"429": 10, "503": 10})
        for s in range(20)
    ]
    (finding,) = rate_limit_findings(series_of(seconds), limit)
    assert finding.severity is Severity.WARNING and "holds" in finding.sentence
    assert finding.numbers["server_errors_while_limiting"] == 200
    assert "rejections should be 429, not 5xx" in finding.sentence
    # 5xx outside the seconds it limits are the error-classes finding's business.
    quiet = [*limited(20, seconds=10), *(second(10 + s, 5, name="/search",
             failed={"503": 5}) for s in range(10))]  # fmt: skip
    (calm,) = rate_limit_findings(series_of(quiet), limit)
    assert "5xx" not in calm.sentence and calm.numbers["server_errors_while_limiting"] == 0


def test_a_limiter_answering_503_is_not_enforced_and_the_finding_says_5xx() -> None:
    seconds = [second(s, 40, name="/search", failed={"503": 20}) for s in range(20)]
    (finding,) = rate_limit_findings(series_of(seconds), parse_rate_limit("20/s"))
    assert finding.severity is Severity.CRITICAL and "not enforced" in finding.sentence
    assert "400 answers in them were 5xx (rejections should be 429" in finding.sentence
    (plain,) = rate_limit_findings(series_of(steady(20, rps=40)), parse_rate_limit("20/s"))
    assert "5xx" not in plain.sentence


def test_seconds_whose_accepted_requests_carried_no_key_are_not_judged() -> None:
    per_key = parse_rate_limit("20/s per X-API-Key")
    # Keys counted in the first 10 seconds only (2 a second); 40 accepted a second throughout.
    first_half = count_parts({Part.KEYS: 2}, seconds=10)
    (limited_run,) = rate_limit_findings(series_of(limited(40, offered=60)), per_key, first_half)
    assert limited_run.severity is Severity.INFO and limited_run.numbers["active_keys"] == 2
    (calm,) = rate_limit_findings(series_of(steady(20, rps=35)), per_key, first_half)
    assert "never reached" in calm.sentence and calm.severity is Severity.INFO
