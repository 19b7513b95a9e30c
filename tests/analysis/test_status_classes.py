"""Expected versus unexpected responses."""

from __future__ import annotations

from loadgate.analysis.status_classes import status_breakdown, status_class


def test_accepted_4xx_is_expected_but_5xx_and_no_response_never_are() -> None:
    breakdown = status_breakdown(
        {"200": 90, "302": 1, "429": 5, "503": 2, "0": 1}, {"401": 3, "500": 4}
    )
    assert breakdown.expected == {"200": 90, "302": 1, "429": 5}
    assert breakdown.unexpected == {"0": 1, "401": 3, "500": 4, "503": 2}
    assert breakdown.expected_total == 96
    assert breakdown.unexpected_total == 10


def test_status_class_names() -> None:
    assert [status_class(s) for s in ("200", "429", "503", "0")] == [
        "2xx",
        "4xx",
        "5xx",
        "no response",
    ]
