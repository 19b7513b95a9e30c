"""One grammar of rates: --arrival-rate and --expect-rate-limit accept and refuse the same texts."""

from __future__ import annotations

import pytest

from loadgate.analysis.rate_limit import parse_rate_limit
from loadgate.arrival_rate import parse_rate
from loadgate.errors import ConfigError
from loadgate.rate import per_second

RATES = {
    "200/s": 200.0,
    "600/m": 10.0,
    "600/min": 10.0,
    "20/sec": 20.0,
    "1.5 / second": 1.5,
    "90/minute": 1.5,
    ".5/s": 0.5,
    "3./s": 3.0,
    "10/S": 10.0,
    " 7/Min ": 7.0 / 60,
}
NOT_RATES = ["5", "5/h", "/s", "s/5", "-5/s", "5/s/s", "inf/s", "nan/s", "9" * 400 + "/s", ""]


@pytest.mark.parametrize(("text", "expected_per_s"), RATES.items())
def test_every_rate_flag_reads_a_rate_the_same_way(text: str, expected_per_s: float) -> None:
    assert per_second(text) == pytest.approx(expected_per_s)
    assert parse_rate(text) == pytest.approx(expected_per_s)
    assert parse_rate_limit(text).rate_per_s == pytest.approx(expected_per_s)
    assert parse_rate_limit(f"GET /v1/x: {text} per X-Key").rate_per_s == pytest.approx(
        expected_per_s
    )


@pytest.mark.parametrize("text", NOT_RATES)
def test_every_rate_flag_refuses_what_is_not_a_rate(text: str) -> None:
    assert per_second(text) is None
    with pytest.raises(ConfigError, match="--arrival-rate must be a rate such as 200/s"):
        parse_rate(text)
    with pytest.raises(ConfigError, match="bad rate limit"):
        parse_rate_limit(text)


def test_zero_is_a_rate_only_where_it_means_something() -> None:
    assert per_second("0/s") == 0.0
    assert parse_rate("0/s", zero_ok=True) == 0.0  # an --arrival-stages stage ramps down to it
    with pytest.raises(ConfigError, match="above 0"):
        parse_rate("0/s")
    with pytest.raises(ConfigError, match="bad rate limit"):
        parse_rate_limit("0/s")
