"""Run times as Locust writes them."""

from __future__ import annotations

import pytest

from loadgate.duration import format_duration_s, parse_duration
from loadgate.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30", 30),
        ("30s", 30),
        ("5m", 300),
        ("1h", 3600),
        ("1h30m", 5400),
        ("1h2m3s", 3723),
        ("90m", 5400),
        (" 2M ", 120),
    ],
)
def test_valid_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "x", "5x", "1m30", "30s5m", "1.5h", "-3s", "s", "1 h"])
def test_invalid_durations_name_the_value(text: str) -> None:
    with pytest.raises(ConfigError, match="the run time must be like 30s, 5m or 1h30m, not"):
        parse_duration(text)


def test_the_message_names_the_value_as_told() -> None:
    with pytest.raises(ConfigError, match=r"^run_time: must be like 30s, 5m or 1h30m, not 'soon'$"):
        parse_duration("soon", name="run_time:")
    with pytest.raises(ConfigError, match=r"^run_time: must be at least 1s, not '0'$"):
        parse_duration("0", name="run_time:")


@pytest.mark.parametrize("text", ["0", "0s", "0h0m"])
def test_zero_is_not_a_run_time(text: str) -> None:
    with pytest.raises(ConfigError, match="at least 1s"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"), [(30, "30s"), (60, "1m"), (90, "1m30s"), (3600, "1h"), (3723, "1h2m3s")]
)
def test_formatting_round_trips(seconds: int, text: str) -> None:
    assert format_duration_s(seconds) == text
    assert parse_duration(text) == seconds
