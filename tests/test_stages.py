"""Stages from a flag or a plan: parsed with every problem named, and ramped linearly."""

from __future__ import annotations

import pytest

from loadgate.errors import ConfigError
from loadgate.stages import Stage, format_stages, parse_stages, target_at, total_duration_s


def test_stages_parse_with_units_and_an_optional_rate() -> None:
    stages = parse_stages("30s:10, 1m:50@5,30s:0")
    assert stages == (
        Stage(duration_s=30, users=10),
        Stage(duration_s=60, users=50, spawn_rate=5.0),
        Stage(duration_s=30, users=0),
    )
    assert total_duration_s(stages) == 120
    assert format_stages(stages) == "30s:10,60s:50@5,30s:0"


def test_every_bad_stage_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        parse_stages("30s:ten,0s:5,1m:5@0,oops")
    message = str(error.value)
    for bad in ("'30s:ten'", "'0s:5'", "'1m:5@0'", "'oops'"):
        assert bad in message


def test_the_message_names_the_flag_or_the_field_it_is_given() -> None:
    with pytest.raises(ConfigError, match=r"^--stages '1m:x': '1m:x': the users must be"):
        parse_stages("1m:x")
    with pytest.raises(ConfigError, match=r"^stages: '1m:x': '1m:x': the users must be"):
        parse_stages("1m:x", name="stages:")
    with pytest.raises(ConfigError, match=r"^--stages '1q:3': '1q:3': the duration must be like"):
        parse_stages("1q:3")


def test_each_stage_ramps_linearly_from_where_the_last_one_ended() -> None:
    stages = parse_stages("10s:10,10s:30,10s:0")
    users = [target.users for t in range(30) if (target := target_at(stages, t)) is not None]
    assert users[0] == 0 and users[5] == 5 and users[10] == 10
    assert users[15] == 20 and users[20] == 30 and users[25] == 15
    assert target_at(stages, 30.0) is None
    # As many users a second as the ramp needs: 2/s up to 30, 3/s down to 0.
    assert [target_at(stages, t).spawn_rate for t in (1, 12, 22)] == [1.0, 2.0, 3.0]  # type: ignore[union-attr]


def test_a_flat_stage_holds_its_users() -> None:
    stages = parse_stages("5s:20,1h:20")
    assert {target_at(stages, t).users for t in range(5, 3600, 97)} == {20}  # type: ignore[union-attr]
