"""Saturation findings on synthetic stepped ramps: knee, cliff, error burst, gradual, healthy."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from loadgate.analysis.finding import Severity
from loadgate.analysis.saturation import load_levels, saturation_findings
from loadgate.model import EndpointSecond
from tests.analysis.series_builders import second, series_of, steady

STEP_S = 5
STEPS = (1, 2, 3, 4, 5, 6)
Shape = Callable[[int, int], tuple[int, int, int]]  # (users, second) -> requests, latency, failed


def ramp(
    shape: Shape, name: str = "/items", steps: tuple[int, ...] = STEPS
) -> tuple[list[EndpointSecond], dict[int, int]]:
    """A stepped ramp: STEP_S seconds at each user count, traffic from `shape`."""
    seconds: list[EndpointSecond] = []
    users: dict[int, int] = {}
    for index, count in enumerate(steps):
        for s in range(index * STEP_S, (index + 1) * STEP_S):
            requests, latency_us, failures = shape(count, s)
            failed = {"503": failures} if failures else None
            seconds.append(second(s, requests, name=name, latency_us=latency_us, failed=failed))
            users[s] = count
    return seconds, users


def capped(users: int, _second: int) -> tuple[int, int, int]:
    """A pool of 2 connections, 100 ms a request, zero think time: 20 req/s at most."""
    return min(10 * users, 20), 100_000 * max(1, users) // 2 if users > 2 else 100_000, 0


def linear(users: int, _second: int) -> tuple[int, int, int]:
    return 10 * users, 100_000, 0


def test_a_capped_pool_gives_a_knee_where_the_cap_is_reached() -> None:
    seconds, users = ramp(capped)
    (finding,) = saturation_findings(series_of(seconds, users))
    assert finding.kind == "saturation" and finding.severity is Severity.WARNING
    assert finding.numbers["shape"] == "knee"
    assert finding.numbers["knee_users"] == 2
    assert finding.numbers["knee_rps"] == 20
    assert finding.numbers["knee_p95_ms"] == pytest.approx(100.0, rel=1e-3)  # HDR's precision
    assert finding.numbers["max_users_p95_ms"] == pytest.approx(300.0, rel=1e-3)
    assert (finding.from_s, finding.to_s) == (2 * STEP_S, len(STEPS) * STEP_S - 1)
    assert "throughput stops growing at about 20 req/s, reached at 2 users" in finding.sentence


def test_throughput_falling_after_the_knee_is_a_cliff() -> None:
    def collapse(users: int, s: int) -> tuple[int, int, int]:
        if users <= 3:
            return min(10 * users, 30), 100_000, 0
        return 8, 900_000, 0

    seconds, users = ramp(collapse)
    (finding,) = saturation_findings(series_of(seconds, users))
    assert finding.numbers["shape"] == "cliff" and finding.severity is Severity.CRITICAL
    assert finding.numbers["knee_users"] == 3


def test_errors_past_the_knee_are_an_error_burst() -> None:
    def failing(users: int, s: int) -> tuple[int, int, int]:
        requests = min(10 * users, 20)
        return requests, 100_000, requests // 2 if users > 2 else 0

    seconds, users = ramp(failing)
    (finding,) = saturation_findings(series_of(seconds, users))
    assert finding.numbers["shape"] == "error burst" and finding.severity is Severity.CRITICAL
    assert "50% errors" in finding.sentence


def test_latency_growing_with_throughput_is_gradual_degradation() -> None:
    def slower(users: int, s: int) -> tuple[int, int, int]:
        return 10 * users, 20_000 * users, 0

    seconds, users = ramp(slower)
    (finding,) = saturation_findings(series_of(seconds, users))
    assert finding.numbers["shape"] == "gradual"
    assert finding.severity is Severity.WARNING  # 6× over the ramp
    assert finding.numbers["first_p95_ms"] == pytest.approx(20.0, rel=1e-3)
    assert finding.numbers["max_users_p95_ms"] == pytest.approx(120.0, rel=1e-3)


def test_a_healthy_ramp_gives_nothing_even_with_jitter() -> None:
    def jittery(users: int, s: int) -> tuple[int, int, int]:
        wobble = (-1, 1, 0, 1, -1)[s % 5]
        return 10 * users + wobble * users, 100_000 + wobble * 8_000, 0

    for shape in (linear, jittery):
        seconds, users = ramp(shape)
        assert saturation_findings(series_of(seconds, users)) == []


def test_a_level_that_stalls_then_grows_again_is_a_dip_not_a_knee() -> None:
    def dip(users: int, _second: int) -> tuple[int, int, int]:
        # At 3 users: no more req/s than at 2 and a slower p95; from 4 on, linear again.
        return (20, 300_000, 0) if users == 3 else (10 * users, 100_000, 0)

    seconds, users = ramp(dip)
    assert saturation_findings(series_of(seconds, users)) == []


def test_a_flat_load_gives_nothing() -> None:
    assert saturation_findings(series_of(steady(60), users=[10] * 60)) == []
    # Flat users, even with latency rising: not a ramp, so no saturation claim.
    seconds = [second(s, 20, latency_us=1000 * (s + 1)) for s in range(30)]
    assert saturation_findings(series_of(seconds, users=[5] * 30)) == []


def test_the_endpoint_that_degrades_first_is_named() -> None:
    def slow_late(users: int, s: int) -> tuple[int, int, int]:
        return 10 * users, 100_000 * (2 if users >= 5 else 1), 0

    fast, users = ramp(capped, name="/checkout")
    other, _ = ramp(slow_late, name="/browse")
    (finding,) = saturation_findings(series_of([*fast, *other], users))
    # The total still grows (the other endpoint scales): latency degrades, no knee of the whole.
    assert finding.numbers["shape"] == "gradual"
    assert finding.numbers["first_degraded"] == "GET /checkout"
    assert finding.numbers["first_degraded_users"] == 3
    assert "GET /checkout degrades first (at 3 users)" in finding.sentence


def test_a_smooth_ramp_is_binned_into_levels() -> None:
    seconds = [second(s, min(s + 1, 20), latency_us=100_000) for s in range(40)]
    levels = load_levels(series_of(seconds, users=[s + 1 for s in range(40)]))
    assert len(levels) == 10
    assert [round(level.users) for level in levels][:2] == [2, 6]
