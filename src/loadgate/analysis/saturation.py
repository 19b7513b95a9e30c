"""Saturation on a ramp: the load where throughput stops growing while latency rises (the knee).

The run's seconds are grouped into load levels by the users running (a
stepped ramp gives one level per step; a smooth ramp is binned into at most
MAX_LEVELS). Each level gets the median of its seconds' throughput, p95 and
error share (medians, so a level's partial first and last seconds do not
count). Walking the levels upwards, the knee is the last level before one
where throughput grows by less than half of what the added users would give
if it scaled linearly, when it then stays flat while p95 rises. What follows
the knee tells its shape:

- cliff: throughput falls, or p95 jumps several-fold in one step (a pool or
  queue filled);
- error burst: errors become a large share of requests;
- knee: throughput flat, latency rising step by step (queueing);
- gradual: no knee, but p95 grows steadily with the load.

A run with fewer than MIN_LEVELS load levels (a flat load) gives no saturation
finding: there is nothing to compare. Per endpoint, the one whose p95 rises
first (at the lowest load) is named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median

from loadgate.analysis.finding import Chart, Finding, Severity
from loadgate.stats.series import RAMP_MIN_LEVELS, RunSeries

MIN_LEVELS = RAMP_MIN_LEVELS
MAX_LEVELS = 10
MIN_SECONDS_PER_LEVEL = 2
# Throughput "stops growing" when it gains less than this share of the linear gain.
GROWTH_SHARE = 0.5
# Latency "rises" when p95 is at least this factor over the knee's, and this much in ms.
LATENCY_RISE = 1.3
LATENCY_RISE_MS = 1.0
# A cliff: throughput falls below this share of the knee's, or p95 jumps this factor in a step.
CLIFF_THROUGHPUT = 0.8
CLIFF_JUMP = 4.0
ERROR_BURST_SHARE = 0.05
# Gradual: p95 over the ramp at least this factor of the first level's, without a knee.
GRADUAL_RISE = 2.0
GRADUAL_WARNING = 3.0


@dataclass(frozen=True, kw_only=True)
class Level:
    """One load level: the users, its seconds, and the medians over them."""

    users: float
    first_second: int
    last_second: int
    rps: float
    p95_ms: float | None
    error_share: float


def _total_per_second(series: RunSeries) -> dict[int, tuple[int, int, float | None]]:
    """(requests, failures, p95 ms) of every second; p95: the endpoints', weighted by requests."""
    totals: dict[int, list[float]] = {}
    for endpoint in series.endpoints:
        for second, point in endpoint.points.items():
            total = totals.setdefault(second, [0, 0, 0.0, 0])
            total[0] += point.requests
            total[1] += point.failures
            if point.p95_us is not None:
                weight = max(point.requests - point.failures, 1)
                total[2] += point.p95_us / 1000.0 * weight
                total[3] += weight
    return {s: (int(t[0]), int(t[1]), t[2] / t[3] if t[3] else None) for s, t in totals.items()}


def _groups(series: RunSeries) -> list[list[int]]:
    """The seconds with users (and data) grouped by users, ascending; binned when many."""
    by_users: dict[int, list[int]] = {}
    for second, users in series.users.items():
        if users > 0:
            by_users.setdefault(users, []).append(second)
    counts = sorted(by_users)
    if len(counts) <= MAX_LEVELS:
        return [by_users[u] for u in counts]
    low, high = counts[0], counts[-1]
    width = (high - low) / MAX_LEVELS
    bins: list[list[int]] = [[] for _ in range(MAX_LEVELS)]
    for users in counts:
        index = min(int((users - low) / width), MAX_LEVELS - 1)
        bins[index].extend(by_users[users])
    return [sorted(b) for b in bins if b]


def load_levels(series: RunSeries) -> list[Level]:
    """The run's load levels, ascending by users; levels with too few seconds are left out."""
    totals = _total_per_second(series)
    levels: list[Level] = []
    for seconds in _groups(series):
        measured = [s for s in seconds if s in totals]
        if len(measured) < MIN_SECONDS_PER_LEVEL:
            continue
        p95s = [p for s in measured if (p := totals[s][2]) is not None]
        levels.append(
            Level(
                users=sum(series.users[s] for s in measured) / len(measured),
                first_second=min(measured),
                last_second=max(measured),
                rps=median(totals[s][0] for s in measured),
                p95_ms=median(p95s) if p95s else None,
                error_share=median(totals[s][1] / max(totals[s][0], 1) for s in measured),
            )
        )
    return levels


def _grows(before: Level, after: Level) -> bool:
    linear_gain = before.rps * (after.users / before.users - 1.0)
    return after.rps - before.rps >= GROWTH_SHARE * linear_gain


def _rose(base_ms: float | None, later_ms: float | None, factor: float = LATENCY_RISE) -> bool:
    if base_ms is None or later_ms is None:
        return False
    return later_ms >= base_ms * factor and later_ms - base_ms >= LATENCY_RISE_MS


def find_knee(levels: Sequence[Level]) -> int | None:
    """The index of the knee level, or None: throughput flat from there on while p95 rises."""
    for index in range(1, len(levels)):
        knee = levels[index - 1]
        after = levels[index:]
        if knee.rps <= 0 or _grows(knee, levels[index]):
            continue
        if any(_grows(knee, later) for later in after):
            continue  # a dip, not a plateau
        if any(_rose(knee.p95_ms, later.p95_ms) for later in after) or any(
            later.error_share >= ERROR_BURST_SHARE > knee.error_share for later in after
        ):
            return index - 1
    return None


def _shape(levels: Sequence[Level], knee: int) -> str:
    at, after = levels[knee], levels[knee + 1 :]
    if any(later.error_share >= ERROR_BURST_SHARE > at.error_share for later in after):
        return "error burst"
    if any(later.rps < CLIFF_THROUGHPUT * at.rps for later in after):
        return "cliff"
    steps = [at, *after]
    for before, later in pairwise(steps):
        if _rose(before.p95_ms, later.p95_ms, CLIFF_JUMP):
            return "cliff"
    return "knee"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _first_degraded(series: RunSeries, levels: Sequence[Level]) -> tuple[str, float] | None:
    """The endpoint whose p95 rises first along the levels, and the users there."""
    first: tuple[float, str] | None = None
    for endpoint in series.endpoints:
        p95s: list[float | None] = []
        for level in levels:
            values = [
                p.p95_us / 1000.0
                for s, p in endpoint.points.items()
                if level.first_second <= s <= level.last_second
                and p.p95_us is not None
                and series.users.get(s) is not None
            ]
            p95s.append(median(values) if values else None)
        base = next((p for p in p95s if p is not None), None)
        for level, p95 in zip(levels, p95s, strict=True):
            if _rose(base, p95) and (first is None or level.users < first[0]):
                first = (level.users, endpoint.label)
                break
    return None if first is None else (first[1], first[0])


def saturation_findings(series: RunSeries) -> list[Finding]:
    """At most one finding: the knee and its shape, or gradual degradation; none on a flat load."""
    levels = load_levels(series)
    if len(levels) < MIN_LEVELS:
        return []
    start = series.start_second
    knee = find_knee(levels)
    degraded = _first_degraded(series, levels)
    numbers: dict[str, float | int | str] = {"levels": len(levels)}
    if degraded is not None:
        numbers["first_degraded"], numbers["first_degraded_users"] = degraded[0], degraded[1]
    if knee is None:
        return _gradual(levels, numbers, start)
    at, last = levels[knee], levels[-1]
    shape = _shape(levels, knee)
    numbers |= {
        "shape": shape,
        "knee_users": round(at.users, 1),
        "knee_rps": round(at.rps, 1),
        "knee_p95_ms": round(at.p95_ms, 3) if at.p95_ms is not None else "",
        "max_users": round(last.users, 1),
        "max_users_rps": round(last.rps, 1),
        "max_users_p95_ms": round(last.p95_ms, 3) if last.p95_ms is not None else "",
        "max_users_error_share": round(last.error_share, 4),
    }
    text = (
        f"Saturation ({shape}): throughput stops growing at about {at.rps:.0f} req/s, "
        f"reached at {at.users:.0f} users (p95 {_ms(at.p95_ms)}); at {last.users:.0f} users "
        f"it is {last.rps:.0f} req/s with p95 {_ms(last.p95_ms)}"
    )
    if shape == "error burst":
        text += f" and {last.error_share:.0%} errors"
    text += _degrades_first(numbers)
    return [
        Finding(
            kind="saturation",
            severity=Severity.WARNING if shape == "knee" else Severity.CRITICAL,
            sentence=text + ".",
            numbers=numbers,
            from_s=levels[knee + 1].first_second - start,
            to_s=last.last_second - start,
            chart=Chart.THROUGHPUT,
        )
    ]


def _degrades_first(numbers: Mapping[str, float | int | str]) -> str:
    """The sentence's clause naming the endpoint that degraded first, if one did."""
    if "first_degraded" not in numbers:
        return ""
    users = float(numbers["first_degraded_users"])
    return f"; {numbers['first_degraded']} degrades first (at {users:.0f} users)"


def _gradual(
    levels: Sequence[Level], numbers: dict[str, float | int | str], start: int
) -> list[Finding]:
    first, last = levels[0], levels[-1]
    if not _rose(first.p95_ms, last.p95_ms, GRADUAL_RISE):
        return []
    assert first.p95_ms is not None and last.p95_ms is not None
    factor = last.p95_ms / first.p95_ms
    numbers |= {
        "shape": "gradual",
        "first_users": round(first.users, 1),
        "first_p95_ms": round(first.p95_ms, 3),
        "max_users": round(last.users, 1),
        "max_users_p95_ms": round(last.p95_ms, 3),
        "max_users_rps": round(last.rps, 1),
    }
    text = (
        f"Gradual degradation: p95 grows {factor:.1f}× from {_ms(first.p95_ms)} at "
        f"{first.users:.0f} users to {_ms(last.p95_ms)} at {last.users:.0f} users, "
        f"while throughput still grows (to {last.rps:.0f} req/s)"
    )
    text += _degrades_first(numbers)
    return [
        Finding(
            kind="saturation",
            severity=Severity.WARNING if factor >= GRADUAL_WARNING else Severity.INFO,
            sentence=text + ".",
            numbers=numbers,
            from_s=first.first_second - start,
            to_s=last.last_second - start,
            chart=Chart.LATENCY,
        )
    ]
