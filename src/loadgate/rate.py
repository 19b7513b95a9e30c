"""Rates as users write them, one grammar for every flag and setting that takes one.

"200/s", "600/m", "600/min", "20/sec", "1.5 / second", ".5/s": a number, a
slash and a unit of seconds or minutes, any case. Used by `--arrival-rate`,
`--arrival-stages` and `--expect-rate-limit`, so a rate that one accepts
the others accept too.
"""

from __future__ import annotations

import math
import re

SECONDS_PER_UNIT = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0}
_RATE = re.compile(
    r"(?P<number>\d+(?:\.\d*)?|\.\d+)\s*/\s*(?P<unit>" + "|".join(SECONDS_PER_UNIT) + ")"
)


def per_second(text: str) -> float | None:
    """The rate in `text` per second; None when `text` is not a rate (or not a finite one)."""
    match = _RATE.fullmatch(text.strip().lower())
    if match is None:
        return None
    rate_per_s = float(match["number"]) / SECONDS_PER_UNIT[match["unit"]]
    return rate_per_s if math.isfinite(rate_per_s) else None
