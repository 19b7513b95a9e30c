"""Arrival rates and their schedule: parsing, constant rates, linear ramps, a split over workers."""

from __future__ import annotations

import pytest

from loadgate.arrival_rate import (
    ArrivalSchedule,
    ArrivalStage,
    first_owned,
    format_arrival_stages,
    owned_before,
    parse_arrival_stages,
    parse_rate,
)
from loadgate.errors import ConfigError


def test_rates_per_second_and_per_minute() -> None:
    assert parse_rate("200/s") == 200.0
    assert parse_rate(" 600/m ") == 10.0
    assert parse_rate("0.5/s") == 0.5


@pytest.mark.parametrize("text", ["200", "0/s", "-5/s", "ten/s", "5/h", "/s", ""])
def test_a_bad_rate_is_refused_naming_the_flag_and_an_example(text: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_rate(text)
    assert "--arrival-rate" in str(error.value)
    assert "200/s" in str(error.value)


def test_stages_parse_and_format_and_every_bad_one_is_named() -> None:
    stages = parse_arrival_stages("30s:50/s, 1m:200/s,30s:0/s")
    assert stages == (
        ArrivalStage(duration_s=30, rate_per_s=50.0),
        ArrivalStage(duration_s=60, rate_per_s=200.0),
        ArrivalStage(duration_s=30, rate_per_s=0.0),
    )
    assert format_arrival_stages(stages) == "30s:50/s,60s:200/s,30s:0/s"
    with pytest.raises(ConfigError) as error:
        parse_arrival_stages("30s:fast,0s:5/s,oops")
    for bad in ("'30s:fast'", "'0s:5/s'", "'oops'"):
        assert bad in str(error.value)
    with pytest.raises(ConfigError, match="every stage's rate is 0/s"):
        parse_arrival_stages("10s:0/s")


def test_a_constant_rate_is_evenly_spaced_and_never_ends() -> None:
    schedule = ArrivalSchedule.constant(200.0)
    assert schedule.end_s is None
    assert [schedule.time_of(k) for k in range(3)] == [0.0, 0.005, 0.01]
    assert schedule.time_of(200_000) == pytest.approx(1000.0)
    # Iterations 0..200 are due by 1 s: 201 of them, 200 in every second after the first.
    assert schedule.due_through(1.0) == 201
    assert schedule.due_through(11.0) - schedule.due_through(10.0) == 200


def test_a_ramp_is_linear_and_holds_each_rate_after_it() -> None:
    schedule = ArrivalSchedule.staged(parse_arrival_stages("10s:100/s,10s:100/s,10s:0/s"))
    assert schedule.end_s == 30.0
    assert schedule.rate_at(5.0) == pytest.approx(50.0)
    assert schedule.rate_at(15.0) == pytest.approx(100.0)
    assert schedule.rate_at(25.0) == pytest.approx(50.0)
    # The ramp's integral: 0 -> 100/s over 10 s is 500 arrivals, then 1000, then 500.
    assert schedule.count_at(10.0) == pytest.approx(500.0)
    assert schedule.count_at(20.0) == pytest.approx(1500.0)
    assert schedule.count_at(99.0) == pytest.approx(2000.0)
    per_second = [schedule.due_through(t + 1) - schedule.due_through(t) for t in range(30)]
    assert per_second[10:20] == [100] * 10
    # Up the ramp: 5, 15, 25... (the mean rate of each second).
    assert per_second[0:10] == pytest.approx([5, 15, 25, 35, 45, 55, 65, 75, 85, 95], abs=1)
    assert sum(per_second) == 2000 - 1  # iteration 0 is due at 0, counted before the first second
    assert schedule.time_of(1999) is not None and schedule.time_of(2000) is None


def test_time_of_inverts_the_count_on_ramps_up_and_down() -> None:
    schedule = ArrivalSchedule.staged(parse_arrival_stages("7s:300/s,3s:20/s,5s:20/s"))
    for iteration in (1, 17, 400, 1049, 1050, 1400, 1600):
        at_s = schedule.time_of(iteration)
        assert at_s is not None
        assert schedule.count_at(at_s) == pytest.approx(iteration, abs=1e-6)


def test_workers_shares_add_up_to_every_iteration_once() -> None:
    for count in (1, 2, 3, 7):
        owned = [
            k for index in range(count) for k in range(first_owned(5, index, count), 105, count)
        ]
        assert sorted(owned) == list(range(5, 105))
        assert sum(owned_before(5, 105, index, count) for index in range(count)) == 100
    assert first_owned(10, 1, 3) == 10
    assert first_owned(10, 2, 3) == 11
    assert owned_before(10, 11, 2, 3) == 0
