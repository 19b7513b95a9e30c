"""Telling a dead run from a live one: a RUNNING run not heard from for a while is lost.

A run's writer appends every second, and every append stamps the run's
`heartbeat_at`. A process killed outright (SIGKILL, the OOM killer, a power
cut) never marks its run as ended, so readers derive LOST for a run still
stored as RUNNING whose last heartbeat is older than `lost_after_s`; nothing
is written, and a run that starts appending again is RUNNING again.

Times are both machines' clocks (the writer's for the heartbeat, the reader's
for now): NTP keeps them far closer than the window.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from loadgate.errors import ConfigError
from loadgate.model import RunStatus

# Thirty appends missed in a row: far beyond a slow flush or a GC pause.
LOST_AFTER_S = 30.0
# Overrides LOST_AFTER_S (seconds); tests use it to avoid waiting half a minute.
LOST_AFTER_ENV_VAR = "LOADGATE_LOST_AFTER_S"


def lost_after_s_from_env() -> float:
    """LOADGATE_LOST_AFTER_S if set (a positive number of seconds), else LOST_AFTER_S."""
    text = os.environ.get(LOST_AFTER_ENV_VAR, "").strip()
    if not text:
        return LOST_AFTER_S
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ConfigError(
            f"{LOST_AFTER_ENV_VAR} must be a positive number of seconds, but is {text!r}"
        )
    return value


def derived_status(
    stored: RunStatus,
    last_heard_at: datetime,
    now: datetime,
    lost_after_s: float,
) -> RunStatus:
    """The status to show: LOST for a RUNNING run last heard from over `lost_after_s` ago."""
    if stored is RunStatus.RUNNING and now - last_heard_at > timedelta(seconds=lost_after_s):
        return RunStatus.LOST
    return stored
