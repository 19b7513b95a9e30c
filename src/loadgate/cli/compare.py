"""`loadgate compare` and `loadgate baseline`: is a run worse than another, beyond noise?"""

from __future__ import annotations

from pathlib import Path

import click

from loadgate.analysis.compare_types import CompareSettings
from loadgate.cli.edge import handles_errors
from loadgate.cli.options import db_option
from loadgate.errors import ExitCode, InputError
from loadgate.report.compare_view import (
    comparison_to_json,
    print_comparison,
    write_comparison_html,
)
from loadgate.report.terminal import summary_console
from loadgate.run_comparing import compare_stored
from loadgate.store import RunStore


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
