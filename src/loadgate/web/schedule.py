"""When a scheduled test is due: croniter's due times, and what to do about late ones.

A due time the dashboard was not there for (it was down, or busy) is
reported as missed, never run late: only a due time at most GRACE_S old is
run, and each due time is handled once (the store keeps the last one
handled), so a restart never runs a schedule twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter

from loadgate.errors import ConfigError

GRACE_S = 60.0
# How many due times one decision looks at; older ones are counted, not listed.
MAX_DUE_TIMES = 10_000


def check_cron(text: str) -> str:
    """`text` if croniter takes it as a five-field cron expression; else a ConfigError."""
    if len(text.split()) != 5 or not croniter.is_valid(text):
        raise ConfigError(
            f"cron: {text!r} is not a cron expression like '*/15 * * * *' "
            "(minute hour day-of-month month day-of-week)"
        )
    return text


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What a scheduler does now: run (the latest due time, if recent), report missed ones."""

    run_due_at: datetime | None
    missed: int
    handled_until: datetime | None

    @property
    def note(self) -> str:
        if not self.missed or self.handled_until is None:
            return ""
        return (
            f"{self.missed} scheduled run{'s' if self.missed > 1 else ''} missed "
            f"up to {self.handled_until:%Y-%m-%d %H:%M} UTC (the dashboard was not running): "
            "not run late"
        )


def decide(cron: str, handled_until: datetime, now: datetime, grace_s: float = GRACE_S) -> Decision:
    """The due times of `cron` after `handled_until` up to `now`, and what to do with them."""
    times = croniter(cron, handled_until)
    due: list[datetime] = []
    while len(due) < MAX_DUE_TIMES:
        moment: datetime = times.get_next(datetime)
        if moment > now:
            break
        due.append(moment)
    if not due:
        return Decision(run_due_at=None, missed=0, handled_until=None)
    latest = due[-1]
    if now - latest <= timedelta(seconds=grace_s):
        return Decision(run_due_at=latest, missed=len(due) - 1, handled_until=latest)
    return Decision(run_due_at=None, missed=len(due), handled_until=latest)
