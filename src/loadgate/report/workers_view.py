"""The workers of a distributed run in its outputs: what each sent, which one was saturated, lost.

A worker whose process used about a whole core was the limit of the load it
generated, and its own queueing may be in its latencies; the summary names it
so the user adds workers rather than blames the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from loadgate.model import EventKind, RunEvent, WorkerTotal
from loadgate.report.html import ExtraSection

SATURATED_CPU_PERCENT = 90.0  # Locust's own worker CPU warning threshold
CLOCK_OFFSET_WARNING_MS = 250.0  # seconds are keyed by each worker's clock


_COLUMNS = ("Worker", "Region", "Requests", "req/s", "Users max", "CPU mean", "CPU max", "Clock")


def _cells(worker: WorkerTotal) -> tuple[str, ...]:
    """A worker's row, the same in the terminal and the HTML report."""
    clock = "?" if worker.clock_offset_ms is None else f"{worker.clock_offset_ms:+.0f} ms"
    return (
        worker.worker_id,
        worker.region,
        str(worker.requests),
        f"{worker.rate_per_s:.1f}",
        str(worker.users_max),
        f"{worker.cpu_percent_mean:.0f}%",
        f"{worker.cpu_percent_max:.0f}%",
        clock,
    )


def saturated(workers: Sequence[WorkerTotal]) -> list[WorkerTotal]:
    return [w for w in workers if w.cpu_percent_max >= SATURATED_CPU_PERCENT]


def clock_warnings(workers: Sequence[WorkerTotal]) -> list[str]:
    """A line per worker whose clock is off the master's by more than CLOCK_OFFSET_WARNING_MS."""
    return [
        f"clock of worker {w.worker_id} is {abs(w.clock_offset_ms):.0f} ms "
        f"{'ahead of' if w.clock_offset_ms > 0 else 'behind'} the master's: its seconds are "
        "keyed that far off; synchronise the machines' clocks (NTP)"
        for w in workers
        if w.clock_offset_ms is not None and abs(w.clock_offset_ms) > CLOCK_OFFSET_WARNING_MS
    ]


def print_workers(workers: Sequence[WorkerTotal], console: Console) -> None:
    """A table of the workers, and a line naming the saturated ones (nothing for one process)."""
    if not workers:
        return
    table = Table(title="Workers", title_justify="left")
    for column in _COLUMNS:
        table.add_column(column, justify="left" if column in ("Worker", "Region") else "right")
    for worker in workers:
        table.add_row(*(Text(cell) for cell in _cells(worker)))
    console.print(table)
    for line in clock_warnings(workers):
        console.print(Text(line, style="yellow"))
    busy = saturated(workers)
    if busy:
        names = ", ".join(f"{w.worker_id} (CPU {w.cpu_percent_max:.0f}%)" for w in busy)
        console.print(
            Text(
                f"saturated workers: {names}; the load they generated was limited by their CPU "
                "and their latencies may include their own queueing: add workers",
                style="yellow",
            )
        )


def workers_to_dict(workers: Sequence[WorkerTotal]) -> list[dict[str, Any]]:
    """`workers` in the JSON summary (an empty list for a single-process run)."""
    return [
        {
            "worker_id": w.worker_id,
            "region": w.region,
            "requests": w.requests,
            "failures": w.failures,
            "rps": round(w.rate_per_s, 3),
            "users_max": w.users_max,
            "cpu_percent_mean": round(w.cpu_percent_mean, 1),
            "cpu_percent_max": round(w.cpu_percent_max, 1),
            "saturated": w.cpu_percent_max >= SATURATED_CPU_PERCENT,
            "clock_offset_ms": None if w.clock_offset_ms is None else round(w.clock_offset_ms, 1),
        }
        for w in workers
    ]


def event_line(event: RunEvent) -> str:
    at = datetime.fromtimestamp(event.second, UTC).strftime("%H:%M:%S")
    if event.kind is EventKind.WORKER_LOST:
        region = event.detail.get("region") or "?"
        return (
            f"{at} UTC worker lost: {event.subject} (region {region}) stopped reporting "
            f"while holding {event.detail.get('users', 0)} users; the run went on without it"
        )
    if event.kind is EventKind.WORKER_LEFT:
        region = event.detail.get("region") or "?"
        return (
            f"{at} UTC worker left: {event.subject} (region {region}) was stopped while "
            f"holding {event.detail.get('users', 0)} users; the master gave them to the others"
        )
    return f"{at} UTC {event.kind.value}: {event.subject}"


def print_events(events: Sequence[RunEvent], console: Console) -> None:
    if not events:
        return
    console.print(Text("Events", style="bold"))
    for event in events:
        console.print(Text(event_line(event), style="yellow"))


def events_to_dict(events: Sequence[RunEvent]) -> list[dict[str, Any]]:
    """`events` in the JSON summary."""
    return [
        {
            "second": event.second,
            "at": datetime.fromtimestamp(event.second, UTC).isoformat(),
            "kind": event.kind.value,
            "subject": event.subject,
            **dict(event.detail),
        }
        for event in events
    ]


def workers_sections(
    workers: Sequence[WorkerTotal], events: Sequence[RunEvent]
) -> list[ExtraSection]:
    """The workers, their warnings and the run's events as a section of the HTML report."""
    if not workers and not events:
        return []
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in _cells(w)) + "</tr>"
        for w in workers
    )
    head = "".join(f"<th>{column}</th>" for column in _COLUMNS)
    notes = [*clock_warnings(workers), *(event_line(event) for event in events)]
    busy = saturated(workers)
    if busy:
        notes.append("saturated workers: " + ", ".join(w.worker_id for w in busy))
    body = (f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>" if workers
            else "") + "".join(f"<p>{escape(note)}</p>" for note in notes)  # fmt: skip
    return [ExtraSection(section_id="workers", title="Workers and events", body_html=body)]
