"""The open model in a run's outputs: iterations, dropped ones, start lag, and whether it kept up.

An open-model run (`--arrival-rate`) is only honest if the generator started
every iteration on time. Two things say it did not: dropped iterations (due,
but every user was busy and the pool at --max-users: the target got less
load than asked) and a start lag p99 over START_LAG_WARNING_MS (iterations
started late, so the load arrived in clumps rather than at the rate). Either
one gets a warning line in the terminal, `fell_behind` in the JSON and the
report's "Open model" section. Nothing is shown for closed-model runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from rich.console import Console
from rich.text import Text

from loadgate.report.html import ExtraSection
from loadgate.stats.arrivals import ArrivalTotals

START_LAG_WARNING_MS = 10.0
LAG_QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))


def fell_behind(totals: ArrivalTotals) -> bool:
    if not totals.is_open_model:
        return False
    lag_ms = totals.start_lag_ms(0.99)
    return totals.dropped_iterations > 0 or lag_ms > START_LAG_WARNING_MS


def summary_line(totals: ArrivalTotals, settings: Mapping[str, Any]) -> str:
    arrival = settings.get("arrival") or {}
    lag = ", ".join(
        f"{name} {totals.start_lag_ms(quantile):.1f} ms" for name, quantile in LAG_QUANTILES
    )
    return (
        f"open model {arrival.get('rate', '')}: {totals.iterations:,} iterations started, "
        f"{totals.dropped_iterations:,} dropped; start lag {lag}"
    )


def warning_line(totals: ArrivalTotals, settings: Mapping[str, Any]) -> str | None:
    """Why the generator did not keep up with the schedule, or None if it did."""
    if not fell_behind(totals):
        return None
    arrival = settings.get("arrival") or {}
    parts: list[str] = []
    if totals.dropped_iterations:
        share = 100.0 * totals.dropped_iterations / totals.asked
        parts.append(
            f"{totals.dropped_iterations:,} of {totals.asked:,} due iterations ({share:.1f}%) "
            f"were dropped in {totals.seconds_dropping} seconds (every user busy, the pool "
            f"at --max-users {arrival.get('max_users', '?')}): the target got less load than asked"
        )
    lag_ms = totals.start_lag_ms(0.99)
    if lag_ms > START_LAG_WARNING_MS:
        parts.append(
            f"start lag p99 {lag_ms:.1f} ms is over {START_LAG_WARNING_MS:g} ms: iterations "
            "started late, the load came in clumps"
        )
    return "the load generator fell behind the schedule: " + "; ".join(parts)


def print_arrivals(totals: ArrivalTotals, settings: Mapping[str, Any], console: Console) -> None:
    if not totals.is_open_model:
        return
    console.print(Text(summary_line(totals, settings)))
    warning = warning_line(totals, settings)
    if warning is not None:
        console.print(Text(warning, style="yellow"))


def arrivals_to_dict(totals: ArrivalTotals) -> dict[str, Any] | None:
    """`arrival` in the JSON summary; None for a closed-model run."""
    if not totals.is_open_model:
        return None
    return {
        "iterations": totals.iterations,
        "dropped_iterations": totals.dropped_iterations,
        "start_lag_ms": {
            name: round(totals.start_lag_ms(quantile), 3) for name, quantile in LAG_QUANTILES
        },
        "start_lag_warning_ms": START_LAG_WARNING_MS,
        "fell_behind": fell_behind(totals),
        "seconds_dropping": totals.seconds_dropping,
        "first_seconds_dropping": [
            {"second": second, "dropped_iterations": dropped}
            for second, dropped in totals.first_dropping
        ],
    }


def arrival_sections(totals: ArrivalTotals, settings: Mapping[str, Any]) -> list[ExtraSection]:
    """The report's "Open model" section (none for a closed-model run)."""
    if not totals.is_open_model:
        return []
    paragraphs = [f"<p>{escape(summary_line(totals, settings))}</p>"]
    warning = warning_line(totals, settings)
    if warning is not None:
        paragraphs.append(f'<p class="warning">{escape(warning)}</p>')
    return [
        ExtraSection(section_id="open-model", title="Open model", body_html="".join(paragraphs))
    ]
