"""Load stages from a flag or a plan: "30s:10,1m:50@5,30s:0" as (duration, users, spawn rate).

Each stage ramps linearly from the users the previous one ended with (0 at
the start) to its own count over its duration, as k6's stages do; "@RATE"
caps how many users start or stop per second in that stage (default: as
many as the ramp needs, at least 1). A spike is two short stages, a soak
one long flat one. The engine turns them into a Locust LoadTestShape
(loadgate.engine.stage_shape).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from loadgate.duration import parse_duration
from loadgate.errors import ConfigError

_STAGE = re.compile(r"(?P<duration>[^:@]+):(?P<users>[^:@]+)(?:@(?P<rate>[^:@]+))?")


@dataclass(frozen=True, kw_only=True)
class Stage:
    """Reach `users` at the end of `duration_s`, starting or stopping at most `spawn_rate`/s."""

    duration_s: int
    users: int
    spawn_rate: float | None = None


@dataclass(frozen=True, kw_only=True)
class StageTarget:
    """Where the stages say the load should be at one moment."""

    users: int
    spawn_rate: float


def parse_stages(text: str, *, name: str = "--stages") -> tuple[Stage, ...]:
    """Every stage of `text`; ConfigError naming each bad stage.

    `name` is how the message names the value: the flag on the command line,
    a form's field ("stages:") on the dashboard.
    """
    stages: list[Stage] = []
    problems: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        match = _STAGE.fullmatch(part)
        if not part or match is None:
            problems.append(f"{part!r} is not DURATION:USERS or DURATION:USERS@RATE")
            continue
        try:
            stages.append(_stage(match))
        except (ConfigError, ValueError) as exc:
            problems.append(f"{part!r}: {exc}")
    if problems:
        raise ConfigError(
            f"{name} {text!r}: " + "; ".join(problems) + ' (example: "30s:10,1m:50,30s:0")'
        )
    return tuple(stages)


def _stage(match: re.Match[str]) -> Stage:
    duration_s = parse_duration(match["duration"], name="the duration")
    users_text = match["users"].strip()
    if not users_text.isdigit():
        raise ValueError(f"the users must be a whole number, 0 or more, not {users_text!r}")
    rate: float | None = None
    if match["rate"] is not None:
        rate = float(match["rate"])
        if not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"the spawn rate must be above 0, not {match['rate']!r}")
    return Stage(duration_s=duration_s, users=int(users_text), spawn_rate=rate)


def total_duration_s(stages: Sequence[Stage]) -> int:
    return sum(stage.duration_s for stage in stages)


def target_at(stages: Sequence[Stage], elapsed_s: float) -> StageTarget | None:
    """The users the stages ask for `elapsed_s` into the run; None once they are over."""
    start_s, previous_users = 0.0, 0
    for stage in stages:
        end_s = start_s + stage.duration_s
        if elapsed_s < end_s:
            progress = (elapsed_s - start_s) / stage.duration_s
            users = round(previous_users + (stage.users - previous_users) * progress)
            ramp_per_s = abs(stage.users - previous_users) / stage.duration_s
            rate = stage.spawn_rate or max(1.0, math.ceil(ramp_per_s))
            return StageTarget(users=users, spawn_rate=rate)
        start_s, previous_users = end_s, stage.users
    return None


def format_stages(stages: Sequence[Stage]) -> str:
    return ",".join(
        f"{stage.duration_s}s:{stage.users}"
        + (f"@{stage.spawn_rate:g}" if stage.spawn_rate is not None else "")
        for stage in stages
    )
