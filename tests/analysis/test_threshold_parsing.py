"""Threshold expressions: every metric, op, unit and endpoint form, and every refusal."""

from __future__ import annotations

import pytest

from loadgate.analysis import (
    DEFAULT_WINDOW_S,
    MetricKind,
    Op,
    mark_abortable,
    parse_threshold,
    parse_thresholds,
    parse_window_s,
)
from loadgate.errors import ConfigError, ExitCode


@pytest.mark.parametrize(
    ("spelling", "name", "quantile"),
    [
        ("p50", "p50", 0.5),
        ("p90", "p90", 0.9),
        ("p95", "p95", 0.95),
        ("p99", "p99", 0.99),
        ("p999", "p99.9", 0.999),
        ("p99.9", "p99.9", 0.999),
        ("p9999", "p99.99", 0.9999),
        ("p75", "p75", 0.75),
        ("p99.95", "p99.95", 0.9995),
        ("p0", "p0", 0.0),
        ("p100", "p100", 1.0),
        ("median", "p50", 0.5),
        ("P95", "p95", 0.95),
        ("p50_ms", "p50", 0.5),
        ("p90_ms", "p90", 0.9),
        ("p95_ms", "p95", 0.95),
        ("p99_ms", "p99", 0.99),
        ("p999_ms", "p99.9", 0.999),
    ],
)
def test_percentiles(spelling: str, name: str, quantile: float) -> None:
    threshold = parse_threshold(f"{spelling} < 300ms")
    assert threshold.metric.name == name
    assert threshold.metric.kind is MetricKind.LATENCY
    assert threshold.metric.quantile == quantile
    assert threshold.bound == 300.0


@pytest.mark.parametrize(
    ("spelling", "name", "kind", "statuses"),
    [
        ("max", "max", MetricKind.LATENCY, None),
        ("max_ms", "max", MetricKind.LATENCY, None),
        ("min", "min", MetricKind.LATENCY, None),
        ("min_ms", "min", MetricKind.LATENCY, None),
        ("mean", "mean", MetricKind.LATENCY, None),
        ("mean_ms", "mean", MetricKind.LATENCY, None),
        ("avg", "mean", MetricKind.LATENCY, None),
        ("rps", "rps", MetricKind.RATE, None),
        ("requests", "requests", MetricKind.COUNT, None),
        ("bytes_received", "bytes_received", MetricKind.COUNT, None),
        ("out_of_range", "out_of_range", MetricKind.COUNT, None),
        ("failures", "failures", MetricKind.COUNT_OR_SHARE, "failures"),
        ("expected", "expected", MetricKind.COUNT_OR_SHARE, "expected"),
        ("unexpected", "unexpected", MetricKind.COUNT_OR_SHARE, "unexpected"),
        ("unexpected_status_counts", "unexpected", MetricKind.COUNT_OR_SHARE, "unexpected"),
        ("status_429", "status_429", MetricKind.COUNT_OR_SHARE, "429"),
        ("status_5xx", "status_5xx", MetricKind.COUNT_OR_SHARE, "5xx"),
        ("status_4XX", "status_4xx", MetricKind.COUNT_OR_SHARE, "4xx"),
        ("status_0", "status_0", MetricKind.COUNT_OR_SHARE, "0"),
        ("users_max", "users_max", MetricKind.RUN_COUNT, None),
        ("duration_s", "duration_s", MetricKind.RUN_DURATION, None),
    ],
)
def test_named_metrics(spelling: str, name: str, kind: MetricKind, statuses: str | None) -> None:
    threshold = parse_threshold(f"{spelling} > 1")
    assert (threshold.metric.name, threshold.metric.kind) == (name, kind)
    assert threshold.metric.statuses == statuses


def test_error_rate_is_a_ratio() -> None:
    assert parse_threshold("error_rate < 1%").metric.kind is MetricKind.RATIO


@pytest.mark.parametrize(
    ("op", "expected"),
    [("<", Op.LT), ("<=", Op.LE), (">", Op.GT), (">=", Op.GE), ("==", Op.EQ), ("!=", Op.NE)],
)
def test_every_op_with_and_without_spaces(op: str, expected: Op) -> None:
    assert parse_threshold(f"p95 {op} 300ms").op is expected
    assert parse_threshold(f"p95{op}300ms").op is expected


@pytest.mark.parametrize(
    ("op", "measured", "bound", "holds"),
    [
        ("<", 1.0, 2.0, True),
        ("<", 2.0, 2.0, False),
        ("<=", 2.0, 2.0, True),
        ("<=", 3.0, 2.0, False),
        (">", 3.0, 2.0, True),
        (">", 2.0, 2.0, False),
        (">=", 2.0, 2.0, True),
        (">=", 1.0, 2.0, False),
        ("==", 0.1 * 3, 0.3, True),
        ("==", 1.0, 0.0, False),
        ("!=", 1.0, 0.0, True),
        ("!=", 0.0, 0.0, False),
    ],
)
def test_op_holds(op: str, measured: float, bound: float, holds: bool) -> None:
    assert Op(op).holds(measured, bound) is holds


@pytest.mark.parametrize(
    ("expression", "bound"),
    [
        ("p95 < 300", 300.0),
        ("p95 < 300ms", 300.0),
        ("p95 < 300 ms", 300.0),
        ("p95 < 0.3s", 300.0),
        ("p95 < 1.5s", 1500.0),
        ("p95 < 250us", 0.25),
        ("p95 < 250µs", 0.25),
        ("p95 < .5ms", 0.5),
        ("duration_s >= 60", 60.0),
        ("duration_s >= 90s", 90.0),
        ("duration_s >= 1500ms", 1.5),
        ("error_rate < 1%", 0.01),
        ("error_rate < 0.01", 0.01),
        ("error_rate <= 1", 1.0),
        ("rps > 100", 100.0),
        ("rps > 12.5", 12.5),
        ("requests >= 1000", 1000.0),
        ("status_5xx == 0", 0.0),
    ],
)
def test_units_convert_to_the_canonical_unit(expression: str, bound: float) -> None:
    threshold = parse_threshold(expression)
    assert threshold.bound == pytest.approx(bound)
    assert threshold.share is False


@pytest.mark.parametrize("metric", ["status_429", "status_5xx", "failures", "unexpected"])
def test_a_percent_makes_a_count_a_share_of_requests(metric: str) -> None:
    threshold = parse_threshold(f"{metric} < 5%")
    assert threshold.share is True
    assert threshold.bound == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("text", "endpoint", "expression"),
    [
        ("p95 < 300ms", None, "p95 < 300ms"),
        ("GET /v1/products: p99 < 500ms", "GET /v1/products", "p99 < 500ms"),
        ("/v1/search: p95 < 1s", "/v1/search", "p95 < 1s"),
        ("GET /v1/products/:id: p99 < 500ms", "GET /v1/products/:id", "p99 < 500ms"),
        ("/a/:x/b/:y:  error_rate < 1%", "/a/:x/b/:y", "error_rate < 1%"),
        ("Login flow: max < 2s", "Login flow", "max < 2s"),
        ("  GET   /v1/x:  p95 <  3ms ", "GET /v1/x", "p95 < 3ms"),
    ],
)
def test_endpoint_forms(text: str, endpoint: str | None, expression: str) -> None:
    threshold = parse_threshold(text)
    assert threshold.endpoint == endpoint
    assert threshold.expression == expression
    assert threshold.text == " ".join(text.split())


def test_an_endpoint_given_apart_prefixes_the_text() -> None:
    threshold = parse_threshold("p99 < 500ms", endpoint="GET /v1/products/:id")
    assert threshold.endpoint == "GET /v1/products/:id"
    assert threshold.text == "GET /v1/products/:id: p99 < 500ms"
    assert threshold.expression == "p99 < 500ms"


@pytest.mark.parametrize(
    ("text", "abort", "window_s"),
    [
        ("p95 < 300ms", False, DEFAULT_WINDOW_S),
        ("p95 < 300ms abort", True, DEFAULT_WINDOW_S),
        ("p95 < 300ms ABORT", True, DEFAULT_WINDOW_S),
        ("error_rate < 1% abort@30s", True, 30),
        ("GET /x: rps > 5 abort@2m", True, 120),
        ("status_5xx == 0 abort@1s", True, 1),
        ("status_429 <= 10 abort", True, DEFAULT_WINDOW_S),
        ("requests < 100000 abort", True, DEFAULT_WINDOW_S),
    ],
)
def test_abort_flag(text: str, abort: bool, window_s: int) -> None:
    threshold = parse_threshold(text)
    assert (threshold.abort, threshold.window_s) == (abort, window_s)


def test_abort_on_fail_marks_what_can_abort_and_keeps_windows() -> None:
    thresholds = parse_thresholds(
        ["p95 < 300ms", "error_rate < 1% abort@30s", "requests > 100", "users_max >= 5"]
    )
    marked = mark_abortable(thresholds)
    assert [(t.abort, t.window_s) for t in marked] == [
        (True, DEFAULT_WINDOW_S),
        (True, 30),
        (False, DEFAULT_WINDOW_S),
        (False, DEFAULT_WINDOW_S),
    ]
    assert mark_abortable(thresholds, window_s=5)[0].abort is True
    assert mark_abortable(thresholds, window_s=5)[0].window_s == 5


def test_window_parsing() -> None:
    assert parse_window_s("10s") == 10
    assert parse_window_s("1m") == 60
    assert parse_window_s(" 5s ") == 5
    for bad in ("0s", "10", "1h", "1.5s", "s", ""):
        assert parse_window_s(bad) is None


ERRORS = [
    ("", "bad threshold '': expected METRIC OP VALUE, such as 'p95 < 300ms'"),
    (
        "p95 < fast",
        "bad threshold 'p95 < fast': expected a number with an optional unit (ms, s, us, %) "
        "after '<'",
    ),
    (
        "p95 <",
        "bad threshold 'p95 <': expected a number with an optional unit (ms, s, us, %) after '<'",
    ),
    (
        "p95 < 300min",
        "bad threshold 'p95 < 300min': expected a number with an optional unit (ms, s, us, %) "
        "after '<'",
    ),
    (
        "p95 < -3ms",
        "bad threshold 'p95 < -3ms': expected a number with an optional unit (ms, s, us, %) "
        "after '<'",
    ),
    ("p95 = 300ms", "bad threshold 'p95 = 300ms': expected one of < <= > >= == != after 'p95'"),
    ("p95 =< 300ms", "bad threshold 'p95 =< 300ms': expected one of < <= > >= == != after 'p95'"),
    ("p95 300ms", "bad threshold 'p95 300ms': expected one of < <= > >= == != after 'p95'"),
    (
        "< 300ms",
        "bad threshold '< 300ms': expected a metric: p50 p90 p95 p99 p99.9 (any pNN[.N]), max "
        "min mean, rps requests failures error_rate, status_NNN status_Nxx status_0, expected "
        "unexpected, bytes_received out_of_range, users_max duration_s, dropped_iterations "
        "iterations start_lag_p99 (any start_lag_pNN, start_lag_max), or a JSON summary name "
        "such as p95_ms at the start",
    ),
    (
        "latency < 300ms",
        "bad threshold 'latency < 300ms': unknown metric 'latency': expected a metric: p50 p90 "
        "p95 p99 p99.9 (any pNN[.N]), max min mean, rps requests failures error_rate, "
        "status_NNN status_Nxx status_0, expected unexpected, bytes_received out_of_range, "
        "users_max duration_s, dropped_iterations iterations start_lag_p99 (any start_lag_pNN, "
        "start_lag_max), or a JSON summary name such as p95_ms",
    ),
    ("start_lag_rps < 3", "unknown metric 'start_lag_rps'"),
    ("GET /x: dropped_iterations == 0", "dropped_iterations is a metric of the whole run"),
    ("start_lag_p99 < 10ms abort", "start_lag_p99 < cannot abort a run"),
    ("start_lag_p99 < 1%", "start_lag_p99 is a latency: expected a time unit"),
    ("p101 < 3", "unknown metric 'p101'"),
    ("p1000 < 3", "unknown metric 'p1000'"),
    ("status_6xx > 1", "unknown metric 'status_6xx'"),
    ("status_abc > 1", "unknown metric 'status_abc'"),
    ("status_1234 > 1", "unknown metric 'status_1234'"),
    (
        "p95 < 5%",
        "bad threshold 'p95 < 5%': p95 is a latency: expected a time unit (ms, s, us)",
    ),
    (
        "duration_s > 5%",
        "bad threshold 'duration_s > 5%': duration_s is a duration: expected a time unit (s, ms)",
    ),
    (
        "error_rate < 5",
        "bad threshold 'error_rate < 5': error_rate is a share of requests: expected a "
        "percentage such as 1% or a fraction between 0 and 1",
    ),
    (
        "error_rate < 5ms",
        "bad threshold 'error_rate < 5ms': error_rate is a share of requests: expected a "
        "percentage such as 1% or a fraction between 0 and 1",
    ),
    (
        "rps > 100%",
        "bad threshold 'rps > 100%': rps is requests per second: expected a plain number, not '%'",
    ),
    (
        "requests > 5s",
        "bad threshold 'requests > 5s': requests is a count: expected a plain number, not 's'",
    ),
    (
        "status_5xx < 3ms",
        "bad threshold 'status_5xx < 3ms': status_5xx is a count: expected a plain number, "
        "or a % of requests, not 'ms'",
    ),
    (
        "users_max > 5%",
        "bad threshold 'users_max > 5%': users_max is a count: expected a plain number, not '%'",
    ),
    (
        ": p95 < 3ms",
        "bad threshold ': p95 < 3ms': expected an endpoint name before ':'",
    ),
    (
        "GET /x: users_max > 3",
        "bad threshold 'GET /x: users_max > 3': users_max is a metric of the whole run: "
        "expected no endpoint",
    ),
    (
        "p95 < 3ms later",
        "bad threshold 'p95 < 3ms later': unexpected 'later' after the bound: expected nothing, "
        "'abort' or 'abort@WINDOW' such as 'abort@10s'",
    ),
    (
        "p95 < 3ms abort abort",
        "bad threshold 'p95 < 3ms abort abort': unexpected 'abort' after the bound",
    ),
    (
        "p95 < 3ms abort@10",
        "bad threshold 'p95 < 3ms abort@10': bad abort window '10': expected whole seconds or "
        "minutes such as 10s or 1m",
    ),
    (
        "requests > 100 abort",
        "bad threshold 'requests > 100 abort': requests > cannot abort a run: it is only known "
        "at the end of the run (a count aborts only with an upper bound: <, <= or == 0; "
        "users_max, duration_s and the open model's metrics never do)",
    ),
    ("status_5xx == 3 abort", "status_5xx == cannot abort a run"),
    ("users_max < 3 abort", "users_max < cannot abort a run"),
    ("duration_s < 30s abort", "duration_s < cannot abort a run"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_bad_expressions_name_the_expression_and_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_threshold(text)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"bad threshold {' '.join(text.split())!r}: ")
    assert caught.value.exit_code is ExitCode.BAD_INPUT


def test_an_endpoint_list_entry_names_no_endpoint_of_its_own() -> None:
    with pytest.raises(ConfigError, match="names its own endpoint, but it is a check of 'GET /x'"):
        parse_threshold("GET /y: p95 < 3ms", endpoint="GET /x")


def test_parse_thresholds_reports_every_bad_expression() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_thresholds(["p95 < 300ms", "p95 < fast", "rps >> 3", "error_rate < 1%"])
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("bad threshold 'p95 < fast'")
    assert lines[1].startswith("bad threshold 'rps >> 3'")
