"""The generator's own stalls in a run's outputs: one terminal line when they could matter, JSON.

A stall of the gevent hub (loadgate.engine.stall) adds up to its length to
every request that finishes during it. It is worth a line when it is long in
absolute terms (over STALL_NOTICE_MS) or against the run's p99 (over 1% of
it: a 3 ms stall is noise beside a 300 ms p99, not beside a 20 ms one), but
never below STALL_FLOOR_MS: a busy loop iteration of the script's own
greenlets takes that long, and a line in every run would be ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import escape
from rich.console import Console
from rich.text import Text

from loadgate.model import GeneratorSecond
from loadgate.report.html import ExtraSection
from loadgate.stats.summary import RunSummary

STALL_NOTICE_MS = 5.0
STALL_NOTICE_SHARE_OF_P99 = 0.01
STALL_FLOOR_MS = 1.0


@dataclass(frozen=True)
class GeneratorStalls:
    """A run's stall samples, one per second (none for runs stored before they existed)."""

    seconds: Sequence[GeneratorSecond]

    @property
    def max_ms(self) -> float:
        return max((s.stall_ms for s in self.seconds), default=0.0)

    def over(self, limit_ms: float) -> list[GeneratorSecond]:
        return [s for s in self.seconds if s.stall_ms > limit_ms]


def notice_limit_ms(summary: RunSummary) -> float:
    """Stalls above this could have touched the run's latencies."""
    share_ms = summary.total.p99_ms * STALL_NOTICE_SHARE_OF_P99
    return min(STALL_NOTICE_MS, max(STALL_FLOOR_MS, share_ms))


def stall_line(stalls: GeneratorStalls, summary: RunSummary) -> str | None:
    """One line when a stall could have touched latencies, else None."""
    if not stalls.seconds or not summary.total.requests:
        return None
    limit_ms = notice_limit_ms(summary)
    over = stalls.over(limit_ms)
    if not over:
        return None
    worst = max(over, key=lambda s: s.stall_ms)
    at = datetime.fromtimestamp(worst.second, UTC).strftime("%H:%M:%S")
    return (
        f"generator stalls: the load generator itself paused up to {worst.stall_ms:.1f} ms "
        f"(at {at} UTC; {len(over)} of {len(stalls.seconds)} seconds over {limit_ms:.1f} ms); "
        "latencies in those seconds may include it"
    )


def print_stall_line(stalls: GeneratorStalls, summary: RunSummary, console: Console) -> None:
    line = stall_line(stalls, summary)
    if line is not None:
        console.print(Text(line, style="yellow"))


def stalls_to_dict(stalls: GeneratorStalls, summary: RunSummary) -> dict[str, Any]:
    """`generator` in the JSON summary: the maximum, and the seconds over the notice limit."""
    limit_ms = notice_limit_ms(summary)
    return {
        "stall_ms_max": round(stalls.max_ms, 3),
        "stall_notice_ms": round(limit_ms, 3),
        "stalled_seconds": [
            {"second": s.second, "stall_ms": round(s.stall_ms, 3)} for s in stalls.over(limit_ms)
        ],
    }


def stall_sections(stalls: GeneratorStalls, summary: RunSummary) -> list[ExtraSection]:
    """The stall line as a section of the HTML report, when there is one to show."""
    line = stall_line(stalls, summary)
    if line is None:
        return []
    body = f"<p>{escape(line)}</p>"
    return [ExtraSection(section_id="generator", title="Load generator", body_html=body)]
