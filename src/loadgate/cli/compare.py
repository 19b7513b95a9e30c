"""`loadgate compare` and `loadgate baseline`: is a run worse than another, beyond noise?"""

from __future__ import annotations

from pathlib import Path

import click

from loadgate.analysis.compare import RunOutline, compare_runs
from loadgate.analysis.compare_types import CompareSettings, Comparison
from loadgate.cli.edge import handles_errors
from loadgate.cli.options import db_option
from loadgate.errors import ExitCode, InputError
from loadgate.model import RunInfo, RunStatus
from loadgate.report.compare_view import (
    comparison_to_json,
    print_comparison,
    write_comparison_html,
)
from loadgate.report.terminal import summary_console
from loadgate.store import RunStore

# How far back `find_baseline` looks for an earlier run of the same name.
RECENT_RUNS_SEARCHED = 1000


def compare_stored(
    store: RunStore,
    base: RunInfo,
    candidate: RunInfo,
    settings: CompareSettings | None = None,
) -> Comparison:
    """Compare two stored runs; req/s over each run's recorded duration.

    Each run's seconds are folded as they are read (one second in memory).
    """
    base_outline, candidate_outline = (_outline(store, run) for run in (base, candidate))
    return compare_runs(
        store.iter_endpoint_seconds(base.run_id) if base_outline else (),
        store.iter_endpoint_seconds(candidate.run_id) if candidate_outline else (),
        base_duration_s=base.duration_s or None,
        candidate_duration_s=candidate.duration_s or None,
        settings=settings,
        base_outline=base_outline,
        candidate_outline=candidate_outline,
    )


def _outline(store: RunStore, run: RunInfo) -> RunOutline | None:
    """The run's span and, when it has stored totals, its endpoints' merged histograms."""
    span = store.second_span(run.run_id, with_users=False)
    if span is None:
        return None
    stored = store.stored_fold(run.run_id)
    histograms = (
        None
        if stored is None
        else {key: endpoint.histogram for key, endpoint in stored.endpoints.items()}
    )
    return RunOutline(first_second=span[0], last_second=span[1], histograms=histograms)


def find_baseline(store: RunStore, name: str, before_run_id: int) -> RunInfo | None:
    """What `run --baseline NAME` compares with.

    The run of that name marked with `loadgate baseline`, else the newest
    completed run of that name created before `before_run_id`; None if neither.
    """
    marked = store.latest_baseline(name)
    if marked is not None and marked.run_id != before_run_id:
        return marked
    for listing in store.list_runs(limit=RECENT_RUNS_SEARCHED):
        run = listing.run
        if run.name == name and run.run_id < before_run_id and run.status == RunStatus.COMPLETED:
            return run
    return None


def _settings(min_change_pct: float, latency_floor_ms: float) -> CompareSettings:
    return CompareSettings(
        min_relative_change=min_change_pct / 100.0, min_latency_delta_ms=latency_floor_ms
    )


@click.command()
@click.argument("base_ref", metavar="BASE")
@click.argument("candidate_ref", metavar="CANDIDATE")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON instead.")
@click.option(
    "--report",
    "report_path",
    metavar="FILE.html",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write a self-contained HTML comparison (tables, percentile curves).",
)
@click.option(
    "--min-change",
    "min_change_pct",
    metavar="PERCENT",
    type=click.FloatRange(min=0.0),
    default=10.0,
    show_default=True,
    help="Smallest relative change called a regression or an improvement.",
)
@click.option(
    "--latency-floor",
    "latency_floor_ms",
    metavar="MS",
    type=click.FloatRange(min=0.0),
    default=2.0,
    show_default=True,
    help="Smallest latency change (ms) called a regression or an improvement.",
)
@handles_errors
def compare(
    *,
    base_ref: str,
    candidate_ref: str,
    db_url: str | None,
    as_json: bool,
    report_path: Path | None,
    min_change_pct: float,
    latency_floor_ms: float,
) -> None:
    """Compare CANDIDATE with BASE: p50/p95/p99, req/s and error rate per endpoint.

    BASE and CANDIDATE are run ids, run names (the newest run of that name) or
    'last'. A change is called a regression or an improvement only when it is
    larger than the runs' own second-to-second noise (a block bootstrap over
    the stored per-second histograms) and than the minimum change. Exits with
    98 when any metric regressed, 0 otherwise.
    """
    settings = _settings(min_change_pct, latency_floor_ms)
    with RunStore.open(db_url) as store:
        base = store.resolve(base_ref)
        candidate = store.resolve(candidate_ref)
        if base.run_id == candidate.run_id:
            raise InputError(
                f"BASE {base_ref!r} and CANDIDATE {candidate_ref!r} are the same run "
                f"({base.run_id}); give two different runs"
            )
        comparison = compare_stored(store, base, candidate, settings)
    if as_json:
        click.echo(comparison_to_json(comparison, base, candidate), nl=False)
    else:
        print_comparison(comparison, base, candidate, summary_console())
    if report_path is not None:
        write_comparison_html(report_path, comparison, base, candidate)
        # stderr when printing JSON, so that stdout stays one document.
        click.echo(f"comparison report written to {report_path}", err=as_json)
    if comparison.has_regression:
        click.get_current_context().exit(int(ExitCode.REGRESSION))


@click.command()
@click.argument("run_ref", metavar="RUN")
@db_option
@click.option("--unset", is_flag=True, help="Unmark the run instead.")
@handles_errors
def baseline(run_ref: str, db_url: str | None, unset: bool) -> None:
    """Mark RUN as the baseline of its name (RUN: an id, a run name, or 'last').

    `loadgate run --baseline NAME` compares with the baseline of that name, or
    with the newest earlier completed run of that name when none is marked.
    A name has one baseline: marking a run unmarks the others of its name.
    """
    with RunStore.open(db_url) as store:
        run = store.resolve(run_ref)
        store.set_baseline(run.run_id, False)
        if not unset:
            # latest_baseline returns the newest marked run, so clear every mark first.
            while (other := store.latest_baseline(run.name)) is not None:
                store.set_baseline(other.run_id, False)
                click.echo(f"run {other.run_id} is no longer the baseline of {run.name!r}")
            store.set_baseline(run.run_id, True)
    state = "no longer" if unset else "now"
    click.echo(f"run {run.run_id} is {state} the baseline of {run.name!r}")
