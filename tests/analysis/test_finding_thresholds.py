"""`no finding [KIND] >= SEVERITY`: parsed, judged on findings, never an abort check."""

from __future__ import annotations

import pytest

from loadgate.analysis.finding import Finding, Severity
from loadgate.analysis.thresholds import MetricKind, parse_threshold
from loadgate.analysis.thresholds_eval import evaluate
from loadgate.errors import ConfigError
from tests.analysis.builders import shop_summary


def _finding(kind: str, severity: Severity, endpoint: str | None = None) -> Finding:
    return Finding(kind=kind, severity=severity, sentence="s", from_s=0, to_s=1, endpoint=endpoint)


def test_the_form_is_parsed_with_an_optional_kind_and_endpoint() -> None:
    plain = parse_threshold("no finding >= warning")
    assert plain.metric.kind is MetricKind.FINDING and plain.bound == 1
    assert not plain.can_abort
    narrowed = parse_threshold("GET /v1/products: no finding errors.gateway >= critical")
    assert narrowed.endpoint == "GET /v1/products"
    assert narrowed.metric.finding_kind == "errors.gateway" and narrowed.bound == 2


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no finding > warning", "expected '>='"),
        ("no finding >= loud", "unknown severity 'loud'"),
        ("no finding", "expected 'no finding >= SEVERITY'"),
    ],
)
def test_bad_forms_name_what_was_expected(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_threshold(text)


def test_judged_against_the_findings() -> None:
    summary = shop_summary()
    findings = [
        _finding("errors.server", Severity.INFO),
        _finding("errors.gateway", Severity.WARNING, "GET /v1/products/:id"),
    ]
    texts = {
        "no finding >= warning": False,
        "no finding >= critical": True,
        "no finding errors.server >= info": False,
        "no finding saturation >= info": True,
        "no finding errors >= warning": False,
        "GET /v1/products: no finding >= warning": True,
        "GET /v1/products/:id: no finding >= warning": False,
    }
    verdicts = evaluate([parse_threshold(t) for t in texts], summary, findings)
    assert {v.label: v.passed for v in verdicts} == texts
    assert verdicts[0].measured == "1, worst warning errors.gateway"


def test_without_computed_findings_the_threshold_fails_saying_why() -> None:
    (verdict,) = evaluate([parse_threshold("no finding >= info")], shop_summary())
    assert not verdict.passed and verdict.measured == "findings were not computed"
