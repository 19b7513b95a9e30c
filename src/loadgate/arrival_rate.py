"""Arrival rates for the open model: "200/s", "30s:50/s,1m:200/s", and when each iteration is due.

`--arrival-rate 200/s` starts 200 iterations a second whatever the target
does; `--arrival-stages "30s:50/s,1m:200/s,30s:0/s"` ramps the rate linearly
from where the previous stage ended (0/s at the start) to each stage's rate
over its duration, as `--stages` does with users. The run lasts as long as
the stages.

The schedule is the same for every process of a run: iteration k (0, 1, 2...)
is due at the moment the cumulative count of arrivals since the start reaches
k. A run split over `count` workers gives worker `index` the iterations with
k % count == index, so the workers' shares always add up to the asked rate,
ramps included (loadgate.engine.arrival runs one share).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loadgate.duration import parse_duration
from loadgate.errors import ConfigError
from loadgate.rate import per_second

# The pool's maximum when --max-users is not given (or -u, if that is more).
DEFAULT_MAX_USERS = 1000
RATE_EXPECTED = "a rate such as 200/s or 600/m"
_STAGE = re.compile(r"(?P<duration>[^:]+):(?P<rate>[^:]+)")


@dataclass(frozen=True, kw_only=True)
class ArrivalStage:
    """Reach `rate_per_s` at the end of `duration_s`, linearly from the previous stage's rate."""

    duration_s: int
    rate_per_s: float


@dataclass(frozen=True, kw_only=True)
class _Segment:
    """A stretch of the schedule: from `start_s`, `duration_s` long (None: forever)."""

    start_s: float
    duration_s: float | None
    start_rate_per_s: float
    end_rate_per_s: float
    arrivals_before: float  # the cumulative count at start_s

    @property
    def slope(self) -> float:
        """How fast the rate changes, per second per second."""
        if self.duration_s is None:
            return 0.0
        return (self.end_rate_per_s - self.start_rate_per_s) / self.duration_s

    @property
    def arrivals(self) -> float:
        if self.duration_s is None:
            return math.inf
        return (self.start_rate_per_s + self.end_rate_per_s) / 2 * self.duration_s

    def count_at(self, elapsed_s: float) -> float:
        tau = elapsed_s - self.start_s
        return self.arrivals_before + self.start_rate_per_s * tau + self.slope * tau * tau / 2

    def time_of(self, arrivals: float) -> float:
        """When the cumulative count reaches `arrivals`, within this segment."""
        missing = arrivals - self.arrivals_before
        if missing <= 0:
            return self.start_s
        rate = self.start_rate_per_s
        # The root of slope/2·τ² + rate·τ = missing, in the form that stays exact
        # when the slope is 0 or tiny (no division by it).
        root = math.sqrt(max(0.0, rate * rate + 2 * self.slope * missing))
        return self.start_s + 2 * missing / (rate + root)


def parse_rate(text: str, *, flag: str = "--arrival-rate", zero_ok: bool = False) -> float:
    """Iterations per second in "200/s" or "600/m"; ConfigError naming `flag` otherwise."""
    rate_per_s = per_second(text)
    if rate_per_s is None:
        raise ConfigError(f"{flag} must be {RATE_EXPECTED}, not {text!r}")
    if rate_per_s <= 0 and not zero_ok:
        raise ConfigError(f"{flag} must be above 0 (such as 200/s), not {text!r}")
    return rate_per_s


def parse_arrival_stages(text: str) -> tuple[ArrivalStage, ...]:
    """Every stage of "30s:50/s,1m:200/s,30s:0/s"; one ConfigError naming each bad one."""
    stages: list[ArrivalStage] = []
    problems: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        match = _STAGE.fullmatch(part)
        if not part or match is None:
            problems.append(f"{part!r} is not DURATION:RATE")
            continue
        try:
            duration_s = parse_duration(match["duration"])
            rate_per_s = parse_rate(match["rate"], flag="the rate", zero_ok=True)
        except ConfigError as exc:
            problems.append(f"{part!r}: {exc}")
            continue
        stages.append(ArrivalStage(duration_s=duration_s, rate_per_s=rate_per_s))
    if not problems and not any(stage.rate_per_s > 0 for stage in stages):
        problems.append("every stage's rate is 0/s: no iteration would ever start")
    if problems:
        raise ConfigError(
            f"--arrival-stages {text!r}: " + "; ".join(problems)
            + ' (example: "30s:50/s,1m:200/s,30s:0/s")'
        )  # fmt: skip
    return tuple(stages)


def format_rate(rate_per_s: float) -> str:
    return f"{rate_per_s:g}/s"


def format_arrival_stages(stages: Sequence[ArrivalStage]) -> str:
    return ",".join(f"{stage.duration_s}s:{format_rate(stage.rate_per_s)}" for stage in stages)


class ArrivalSchedule:
    """When each iteration is due, in seconds since the start of the schedule."""

    def __init__(self, segments: Sequence[_Segment]) -> None:
        self._segments = tuple(segments)

    @classmethod
    def constant(cls, rate_per_s: float) -> ArrivalSchedule:
        return cls([_Segment(start_s=0.0, duration_s=None, start_rate_per_s=rate_per_s,
                             end_rate_per_s=rate_per_s, arrivals_before=0.0)])  # fmt: skip

    @classmethod
    def staged(cls, stages: Sequence[ArrivalStage]) -> ArrivalSchedule:
        segments: list[_Segment] = []
        start_s, rate_per_s, before = 0.0, 0.0, 0.0
        for stage in stages:
            segment = _Segment(start_s=start_s, duration_s=float(stage.duration_s),
                               start_rate_per_s=rate_per_s, end_rate_per_s=stage.rate_per_s,
                               arrivals_before=before)  # fmt: skip
            segments.append(segment)
            start_s += stage.duration_s
            rate_per_s = stage.rate_per_s
            before += segment.arrivals
        return cls(segments)

    @property
    def end_s(self) -> float | None:
        """When the schedule ends; None for a constant rate (it never does)."""
        last = self._segments[-1]
        return None if last.duration_s is None else last.start_s + last.duration_s

    def rate_at(self, elapsed_s: float) -> float:
        """The asked rate at one moment (0 after the end)."""
        segment = self._segment_at(elapsed_s)
        if segment is None:
            return 0.0
        return segment.start_rate_per_s + segment.slope * (elapsed_s - segment.start_s)

    def count_at(self, elapsed_s: float) -> float:
        """Arrivals due from the start to `elapsed_s`: the schedule's integral (a real number)."""
        if elapsed_s <= 0:
            return 0.0
        segment = self._segment_at(elapsed_s)
        if segment is None:
            last = self._segments[-1]
            return last.arrivals_before + last.arrivals
        return segment.count_at(elapsed_s)

    def due_through(self, elapsed_s: float) -> int:
        """How many iterations (0, 1, ...) are due at or before `elapsed_s`."""
        if elapsed_s < 0:
            return 0
        last = self._segments[-1]
        total = last.arrivals_before + last.arrivals
        due = math.floor(self.count_at(elapsed_s)) + 1
        return due if math.isinf(total) else min(due, math.ceil(total))

    def time_of(self, iteration: int) -> float | None:
        """When iteration `iteration` (0-based) is due; None if the schedule ends before it."""
        for segment in self._segments:
            if segment.arrivals_before + segment.arrivals > iteration:
                return segment.time_of(float(iteration))
        return None

    def _segment_at(self, elapsed_s: float) -> _Segment | None:
        for segment in self._segments:
            if segment.duration_s is None or elapsed_s < segment.start_s + segment.duration_s:
                return segment
        return None


def first_owned(iteration: int, index: int, count: int) -> int:
    """The first iteration at or after `iteration` that worker `index` of `count` runs."""
    return iteration + (index - iteration) % count


def owned_before(iteration: int, end: int, index: int, count: int) -> int:
    """How many iterations in [iteration, end) worker `index` of `count` runs."""
    first = first_owned(iteration, index, count)
    return 0 if first >= end else (end - 1 - first) // count + 1


@dataclass(frozen=True, kw_only=True)
class ArrivalPlan:
    """An open-model run: a constant rate or stages, and the most users the pool may grow to."""

    rate_per_s: float | None = None
    stages: tuple[ArrivalStage, ...] = ()
    max_users: int

    @property
    def duration_s(self) -> int | None:
        """The stages' total (the run's length); None for a constant rate."""
        return None if self.rate_per_s is not None else sum(s.duration_s for s in self.stages)

    def schedule(self) -> ArrivalSchedule:
        if self.rate_per_s is not None:
            return ArrivalSchedule.constant(self.rate_per_s)
        return ArrivalSchedule.staged(self.stages)

    def describe(self) -> str:
        """As the flags spell it, for the stored settings."""
        if self.rate_per_s is not None:
            return format_rate(self.rate_per_s)
        return format_arrival_stages(self.stages)

    def to_wire(self) -> dict[str, object]:
        """Plain values (msgpack, JSON): what a master sends its workers."""
        return {
            "rate_per_s": self.rate_per_s,
            "stages": [[stage.duration_s, stage.rate_per_s] for stage in self.stages],
            "max_users": self.max_users,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> ArrivalPlan:
        rate = data.get("rate_per_s")
        return cls(
            rate_per_s=None if rate is None else float(rate),
            stages=tuple(
                ArrivalStage(duration_s=int(duration_s), rate_per_s=float(rate_per_s))
                for duration_s, rate_per_s in data.get("stages", ())
            ),
            max_users=int(data["max_users"]),
        )
