"""A stored run as its outputs show it: the summary and all that is read or judged beside it.

`loadgate run`, `show` and `report` print and write the same things about a
stored run; they take them from one value, so a new kind of run data is read
in one place (cli.stored_run) and shown here, once per output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from loadgate.analysis.finding import Finding
from loadgate.analysis.thresholds_eval import Verdict
from loadgate.errors import ConfigError
from loadgate.model import RunEvent, WorkerTotal
from loadgate.report.generator_view import (
    GeneratorStalls,
    print_stall_line,
    stall_sections,
    stalls_to_dict,
)
from loadgate.report.html import ExtraSection, write_html
from loadgate.report.json_summary import summary_to_dict
from loadgate.report.parts_view import add_parts_to_endpoints, print_parts
from loadgate.report.regions_view import print_regions, regions_to_dict
from loadgate.report.terminal import print_findings, print_summary, print_verdicts
from loadgate.report.workers_view import (
    events_to_dict,
    print_events,
    print_workers,
    workers_sections,
    workers_to_dict,
)
from loadgate.stats.parts import NO_PARTS, RunParts
from loadgate.stats.summary import RunSummary
from loadgate.stats.timeline import Timeline


@dataclass(frozen=True, kw_only=True)
class StoredRun:
    """What the outputs show of a stored run.

    `stalls`: the generator's own pauses; `workers` and `events`: a
    distributed run's (else empty); `regions`: each region's summary when its
    workers ran in several (else empty); `findings` and `verdicts`: computed
    from the stored seconds and the thresholds stored with the run.
    """

    summary: RunSummary
    stalls: GeneratorStalls
    workers: Sequence[WorkerTotal] = ()
    events: Sequence[RunEvent] = ()
    regions: Mapping[str, RunSummary] = field(default_factory=dict)
    findings: Sequence[Finding] = ()
    verdicts: Sequence[Verdict] = ()
    parts: RunParts = NO_PARTS


def print_stored_run(run: StoredRun, console: Console) -> None:
    """The whole run in the terminal, in the order `run` and `show` both print it."""
    print_summary(run.summary, console)
    print_stall_line(run.stalls, run.summary, console)
    print_workers(run.workers, console)
    print_events(run.events, console)
    print_regions(run.regions, console)
    print_parts(run.parts, console)
    print_findings(run.findings, console)
    print_verdicts(run.verdicts, console)


def stored_run_to_dict(run: StoredRun) -> dict[str, Any]:
    """The JSON summary document as plain data."""
    data = summary_to_dict(run.summary, run.findings)
    data["generator"] = stalls_to_dict(run.stalls, run.summary)
    data["workers"] = workers_to_dict(run.workers)
    data["events"] = events_to_dict(run.events)
    data["regions"] = regions_to_dict(run.regions)
    add_parts_to_endpoints(data["endpoints"], run.parts)
    return data


def stored_run_to_json(run: StoredRun) -> str:
    """The JSON summary document."""
    return json.dumps(stored_run_to_dict(run), indent=2) + "\n"


def write_stored_json(run: StoredRun, path: Path | str) -> None:
    """Write stored_run_to_json's document to `path`; an unwritable path is a ConfigError."""
    try:
        Path(path).write_text(stored_run_to_json(run), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the JSON summary to {path}: {exc.strerror}") from exc


def write_stored_html(
    path: Path | str,
    run: StoredRun,
    timeline: Timeline,
    *,
    scope: str | None = None,
    extra_sections: Sequence[ExtraSection] = (),
) -> None:
    """The HTML report of the run; `extra_sections` (a comparison) come after its own."""
    write_html(
        path,
        run.summary,
        timeline,
        verdicts=run.verdicts,
        extra_sections=[
            *stall_sections(run.stalls, run.summary),
            *workers_sections(run.workers, run.events),
            *extra_sections,
        ],
        scope=scope,
        findings=run.findings,
        parts=run.parts,
    )
