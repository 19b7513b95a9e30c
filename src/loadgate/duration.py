"""Run times as Locust writes them (30s, 5m, 1h30m, or bare seconds), parsed without Locust."""

from __future__ import annotations

import re

from loadgate.errors import ConfigError

# Locust's own grammar (locust.util.timespan): hours, minutes, seconds, in that order.
_TIMESPAN = re.compile(r"(?:(?P<hours>\d+)h)?(?:(?P<minutes>\d+)m)?(?:(?P<seconds>\d+)s)?")
_SECONDS_PER = {"hours": 3600, "minutes": 60, "seconds": 1}


def parse_duration(text: str, *, name: str = "the run time") -> int:
    """Whole seconds in `text`: "20", "20s", "3m", "2h", "1h30m", "1h2m3s".

    Anything else, and zero, is a ConfigError naming the value; `name` is how
    the message names it (a form's field: "run_time:").
    """
    cleaned = text.strip().lower()
    if cleaned.isdigit():
        duration_s = int(cleaned)
    else:
        match = _TIMESPAN.fullmatch(cleaned)
        if not cleaned or match is None:
            raise ConfigError(f"{name} must be like 30s, 5m or 1h30m, not {text!r}")
        duration_s = sum(
            int(value) * _SECONDS_PER[unit] for unit, value in match.groupdict().items() if value
        )
    if duration_s <= 0:
        raise ConfigError(f"{name} must be at least 1s, not {text!r}")
    return duration_s


def format_duration_s(duration_s: int) -> str:
    """The shortest Locust-style spelling of a whole number of seconds: 90 -> "1m30s"."""
    hours, rest = divmod(duration_s, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    parts.append(f"{seconds}s" if seconds or not (hours or minutes) else "")
    return "".join(parts)
