"""`loadgate report`: a stored run as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

import click

from loadgate.analysis.thresholds_eval import judge_stored
from loadgate.cli.edge import handles_errors
from loadgate.cli.options import db_option
from loadgate.report.html import write_html
from loadgate.stats.summary import summarize
from loadgate.stats.timeline import build_timeline
from loadgate.store import RunStore


@click.command()
@click.argument("run_ref", metavar="RUN")
@click.option(
    "-o",
    "--output",
    "output_path",
    metavar="FILE.html",
    required=True,
    type=click.Path(path_type=Path),
    help="Where to write the report (folders are created).",
)
@db_option
@handles_errors
def report(run_ref: str, output_path: Path, db_url: str | None) -> None:
    """Write the HTML report of a stored run (RUN: an id, a run name, or 'last').

    One file with charts over time, latency percentiles, per-endpoint tables,
    statuses, errors, settings and the script; it opens offline.
    """
    with RunStore.open(db_url) as store:
        run = store.resolve(run_ref)
        seconds = store.endpoint_seconds(run.run_id)
        users = store.user_samples(run.run_id)
    # Summary and timeline from the same read, so a run still being written
    # shows the same numbers in its table and its charts.
    summary = summarize(run, seconds, users)
    write_html(
        output_path,
        summary,
        build_timeline(run, seconds, users),
        verdicts=judge_stored(summary),
    )
    click.echo(f"report of run {run.run_id} written to {output_path}")
