"""Error-class findings on synthetic stored seconds, and their healthy counterparts."""

from __future__ import annotations

from loadgate.analysis.error_classes import client_error_kinds, error_class_findings
from loadgate.analysis.finding import Finding, Severity
from loadgate.analysis.findings import find_all
from loadgate.model import Part
from tests.analysis.series_builders import count_parts, second, series_of, steady


def _by_kind(findings: list[Finding]) -> dict[str, Finding]:
    return {f.kind: f for f in findings}


def test_a_healthy_run_has_no_error_findings() -> None:
    assert error_class_findings(series_of(steady(), users=[10] * 60)) == []


def test_a_gateway_error_burst_is_found_with_its_first_second_and_range() -> None:
    seconds = steady(60)
    for s in range(20, 26):
        seconds[s] = second(s, 20, failed={"502": 8})
    findings = _by_kind(error_class_findings(series_of(seconds)))
    assert set(findings) == {"errors.gateway"}
    gateway = findings["errors.gateway"]
    assert gateway.severity is Severity.WARNING  # 48 of 1200 requests (4%), in a burst
    assert gateway.numbers["count"] == 48
    assert gateway.numbers["first_s"] == 20
    assert gateway.numbers["bursts"] == 1
    assert (gateway.numbers["burst_from_s"], gateway.numbers["burst_to_s"]) == (20, 25)
    assert (gateway.from_s, gateway.to_s) == (20, 25)
    assert gateway.endpoint == "GET /items"
    assert "502/503/504" in gateway.sentence and "first at 20 s" in gateway.sentence


def test_one_quiet_second_within_a_burst_does_not_split_it_two_do() -> None:
    seconds = steady(60)
    for s in (20, 21, 23, 24, 40, 41):  # 22 quiet: one burst; 25..39 quiet: another
        seconds[s] = second(s, 20, failed={"502": 8})
    (gateway,) = error_class_findings(series_of(seconds))
    assert gateway.numbers["bursts"] == 2
    assert (gateway.numbers["burst_from_s"], gateway.numbers["burst_to_s"]) == (20, 24)


def test_rare_scattered_server_errors_are_info_not_a_warning() -> None:
    seconds = steady(100)
    for s in (10, 50, 90):
        seconds[s] = second(s, 20, failed={"500": 1})
    (server,) = error_class_findings(series_of(seconds))
    assert server.kind == "errors.server"
    assert server.severity is Severity.INFO  # 3 of 2000, no burst: never cry wolf
    assert server.numbers["bursts"] == 0


def test_accepted_429s_are_throttling_and_failed_429s_are_rate_limit_failures() -> None:
    accepted = [second(s, 20, ok={"200": 10, "429": 10}) for s in range(30)]
    (throttling,) = error_class_findings(series_of(accepted))
    assert throttling.kind == "errors.throttling"
    assert throttling.severity is Severity.INFO
    assert "not failures" in throttling.sentence
    failing = [second(s, 20, failed={"429": 10}) for s in range(30)]
    (limited,) = error_class_findings(series_of(failing))
    assert limited.kind == "errors.rate_limit"
    assert limited.severity is Severity.CRITICAL
    assert limited.numbers["share"] == 0.5


def test_the_rate_limiting_line_says_how_many_429s_had_no_retry_hint() -> None:
    accepted = series_of([second(s, 20, ok={"200": 10, "429": 10}) for s in range(20)])
    (bare,) = error_class_findings(accepted, count_parts({Part.UNHINTED_429: 4}))
    assert "200 responses (80 without a Retry-After or RateLimit-* header) (" in bare.sentence
    assert bare.numbers["unhinted_429"] == 80 and bare.severity is Severity.INFO
    (hinted,) = error_class_findings(accepted, count_parts({Part.KEYS: 2}))
    assert "Retry-After" not in hinted.sentence and "unhinted_429" not in hinted.numbers
    # Accepted and failed 429s on two lines: the count cannot be split, so neither says it.
    mixed = series_of([second(s, 10, ok={"429": 5}, failed={"429": 5}) for s in range(20)])
    lines = error_class_findings(mixed, count_parts({Part.UNHINTED_429: 4}))
    assert len(lines) == 2 and all("Retry-After" not in f.sentence for f in lines)


def test_accepted_5xx_still_count_as_failures() -> None:
    seconds = [second(s, 20, ok={"200": 10, "503": 10}) for s in range(10)]
    (gateway,) = error_class_findings(series_of(seconds))
    assert gateway.kind == "errors.gateway"
    assert gateway.severity is Severity.CRITICAL


def test_auth_rejections_the_script_did_not_expect_are_found() -> None:
    seconds = steady(30)
    seconds[5] = second(5, 20, failed={"401": 20})
    (auth,) = error_class_findings(series_of(seconds))
    assert auth.kind == "errors.auth" and auth.severity is Severity.WARNING
    assert auth.numbers["first_s"] == 5


def test_client_side_errors_are_split_by_their_messages() -> None:
    messages = {
        "ConnectionRefusedError(111, 'Connection refused')": 3,
        "RemoteDisconnected('Remote end closed connection without response')": 2,
        "ReadTimeout: timed out": 5,
    }
    seconds = steady(30)
    seconds[7] = second(7, 20, failed={"0": 10}, errors=messages)
    (client,) = error_class_findings(series_of(seconds))
    assert client.kind == "errors.client"
    assert (client.numbers["client_refused"], client.numbers["client_reset"]) == (3, 2)
    assert client.numbers["client_timeout"] == 5
    assert "3 refused, 2 reset, 5 timeout" in client.sentence


def test_client_kinds_ignore_other_messages() -> None:
    assert client_error_kinds({"HTTPError('500 Server Error')": 4}) == {
        "refused": 0,
        "reset": 0,
        "timeout": 0,
    }


def test_classes_on_two_endpoints_name_neither_but_say_where_most_were() -> None:
    seconds = [*steady(20, name="/a"), *steady(20, name="/b")]
    seconds.append(second(3, 5, name="/a", failed={"504": 5}))
    seconds.append(second(4, 5, name="/b", failed={"504": 1}, ok={"200": 4}))
    (gateway,) = error_class_findings(series_of(seconds))
    assert gateway.endpoint is None
    assert gateway.numbers["most_on"] == "GET /a"


def test_find_all_orders_the_most_severe_first() -> None:
    seconds = steady(60)
    seconds[1] = second(1, 20, failed={"500": 1})  # info
    for s in range(30, 40):
        seconds[s] = second(s, 20, failed={"503": 15})  # critical
    kinds = [f.kind for f in find_all(series_of(seconds))]
    assert kinds == ["errors.gateway", "errors.server"]
