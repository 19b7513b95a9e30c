"""A stored run as its outputs show it: the summary and all that is read or judged beside it.

`loadgate run`, `show` and `report` print and write the same things about a
stored run; they take them from one value, so a new kind of run data is read
in one place (loadgate.run_reading) and shown here, once per output.
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
from loadgate.report.arrival_view import arrival_sections, arrivals_to_dict, print_arrivals
from loadgate.report.generator_view import (
    GeneratorStalls,
    print_stall_line,
    stall_sections,
    stalls_to_dict,
)
from loadgate.report.html import ExtraSection, render_report, report_context, write_page
from loadgate.report.html_charts import Chart
from loadgate.report.json_summary import summary_to_dict
from loadgate.report.parts_view import add_parts_to_endpoints, print_parts
from loadgate.report.phases_view import add_phases_to_endpoints, print_phases
from loadgate.report.regions_view import print_regions, regions_to_dict
from loadgate.report.scraped_charts import scraped_charts
from loadgate.report.scraped_view import print_scraped, scraped_to_dict
from loadgate.report.terminal import print_findings, print_summary, print_verdicts
from loadgate.report.workers_view import (
    events_to_dict,
    print_events,
    print_workers,
    workers_sections,
    workers_to_dict,
)
from loadgate.scraped import NOT_SCRAPED, ScrapedRun
from loadgate.stats.arrivals import ArrivalTotals
from loadgate.stats.parts import NO_PARTS, RunParts
from loadgate.stats.series import RunSeries
from loadgate.stats.summary import RunSummary
from loadgate.stats.timeline import Timeline, epoch_second


@dataclass(frozen=True, kw_only=True)
class StoredRun:
    """What the outputs show of a stored run.

    `stalls`: the generator's own pauses; `arrivals`: the open model's
    scheduler (empty for a closed-model run); `workers` and `events`: a
    distributed run's (else empty); `regions`: each region's summary when its
    workers ran in several (else empty); `findings` and `verdicts`: computed
    from the stored seconds and the thresholds stored with the run;
    `scraped`: the target's metrics (NOT_SCRAPED when none), with the values
    of the series charts and findings need; `series`: the per-second numbers
    the findings came from (the upstream chart draws its ratio from them).
    """

    summary: RunSummary
    stalls: GeneratorStalls
    arrivals: ArrivalTotals = field(default_factory=ArrivalTotals)
    workers: Sequence[WorkerTotal] = ()
    events: Sequence[RunEvent] = ()
    regions: Mapping[str, RunSummary] = field(default_factory=dict)
    findings: Sequence[Finding] = ()
    verdicts: Sequence[Verdict] = ()
    scraped: ScrapedRun = NOT_SCRAPED
    series: RunSeries | None = None
    parts: RunParts = NO_PARTS


def print_stored_run(run: StoredRun, console: Console) -> None:
    """The whole run in the terminal, in the order `run` and `show` both print it."""
    print_summary(run.summary, console)
    print_stall_line(run.stalls, run.summary, console)
    print_arrivals(run.arrivals, run.summary.run.settings, console)
    print_workers(run.workers, console)
    print_events(run.events, console)
    print_regions(run.regions, console)
    print_scraped(run.scraped, epoch_second(run.summary.run.started_at), console)
    print_parts(run.parts, console)
    print_phases(run.parts, console)
    print_findings(run.findings, console)
    print_verdicts(run.verdicts, console)


def stored_run_to_dict(run: StoredRun) -> dict[str, Any]:
    """The JSON summary document as plain data."""
    data = summary_to_dict(run.summary, run.findings)
    data["generator"] = stalls_to_dict(run.stalls, run.summary)
    data["arrival"] = arrivals_to_dict(run.arrivals)
    data["workers"] = workers_to_dict(run.workers)
    data["events"] = events_to_dict(run.events)
    data["regions"] = regions_to_dict(run.regions)
    data["scraped"] = scraped_to_dict(run.scraped, epoch_second(run.summary.run.started_at))
    add_parts_to_endpoints(data["endpoints"], run.parts)
    add_phases_to_endpoints(data["endpoints"], run.parts)
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


def stored_sections(run: StoredRun) -> list[ExtraSection]:
    """The report's sections only some runs have: stalls, the open model, workers, events."""
    return [
        *stall_sections(run.stalls, run.summary),
        *arrival_sections(run.arrivals, run.summary.run.settings),
        *workers_sections(run.workers, run.events),
    ]


def stored_charts(run: StoredRun, timeline: Timeline) -> tuple[Chart, ...]:
    """The charts under the client's: the target's scraped metrics, when read for charting."""
    return (
        tuple(scraped_charts(timeline, run.series, run.scraped)) if run.series is not None else ()
    )


def stored_report_context(
    run: StoredRun,
    timeline: Timeline,
    *,
    scope: str | None = None,
    extra_sections: Sequence[ExtraSection] = (),
) -> dict[str, Any]:
    """The report's sections of the run (report_context), as the report and the run page show them.

    `extra_sections` (a comparison) come after the run's own.
    """
    return report_context(
        run.summary,
        timeline,
        verdicts=run.verdicts,
        extra_sections=[*stored_sections(run), *extra_sections],
        scope=scope,
        findings=run.findings,
        extra_charts=stored_charts(run, timeline),
        parts=run.parts,
    )


def render_stored_html(
    run: StoredRun,
    timeline: Timeline,
    *,
    scope: str | None = None,
    extra_sections: Sequence[ExtraSection] = (),
) -> str:
    """The HTML report of the run; `extra_sections` (a comparison) come after its own."""
    return render_report(
        stored_report_context(run, timeline, scope=scope, extra_sections=extra_sections)
    )


def write_stored_html(
    path: Path | str,
    run: StoredRun,
    timeline: Timeline,
    *,
    scope: str | None = None,
    extra_sections: Sequence[ExtraSection] = (),
) -> None:
    """render_stored_html's report written to `path`; an unwritable path is a ConfigError."""
    document = render_stored_html(run, timeline, scope=scope, extra_sections=extra_sections)
    write_page(path, document, "HTML report")
