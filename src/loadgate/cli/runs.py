"""`loadgate runs` and `loadgate show`: stored runs, read back from the store alone."""

from __future__ import annotations

import click
from rich.table import Table

from loadgate.analysis.rate_limit import parse_rate_limit
from loadgate.cli.edge import handles_errors
from loadgate.cli.options import db_option, expect_rate_limit_option
from loadgate.model import RunStatus
from loadgate.report.stored_run import print_stored_run, stored_run_to_json
from loadgate.report.terminal import STATUS_STYLES, format_duration, plain, summary_console
from loadgate.run_reading import read_whole_run
from loadgate.store import RunStore


@click.command()
@db_option
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@handles_errors
def runs(db_url: str | None, limit: int) -> None:
    """List stored runs, newest first.

    A run shown as `lost` is stored as running but its process has not written
    for LOADGATE_LOST_AFTER_S seconds (default 30): it was killed, or its machine
    went down. What it measured until then is kept and can be shown and reported.
    """
    with RunStore.open(db_url) as store:
        listings = store.list_runs(limit=limit)
        console = summary_console()
        caption = f"store: {store.url}"
        if any(listing.run.status is RunStatus.LOST for listing in listings):
            caption += (
                f"\nlost: stored as running, but not heard from for over "
                f"{store.lost_after_s:g} s (the process died); what it measured is kept"
            )
        table = Table(caption=caption, caption_justify="left")
        for heading in ("ID", "Name", "Script", "Started (UTC)", "Duration"):
            table.add_column(heading, no_wrap=heading != "Script")
        for heading in ("Requests", "Errors"):
            table.add_column(heading, justify="right")
        table.add_column("Status")
        for listing in listings:
            run = listing.run
            status = f"[{STATUS_STYLES[run.status]}]{run.status.value}[/]"
            table.add_row(
                str(run.run_id),
                plain(run.name),
                plain(run.script_path),
                f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                format_duration(run.elapsed_s),
                f"{listing.requests:,}",
                f"{listing.error_rate:.2%}",
                status + (" ★" if run.is_baseline else ""),
            )
        console.print(table)


@click.command()
@click.argument("run_ref", metavar="RUN")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the JSON summary instead.")
@expect_rate_limit_option
@handles_errors
def show(run_ref: str, db_url: str | None, as_json: bool, expect_rate_limit: str | None) -> None:
    """Print the summary of a stored run (RUN: an id, a run name, or 'last').

    With its findings (error classes, saturation, rate-limit accuracy, cache,
    gateway time), computed again from the stored seconds. --expect-rate-limit
    replaces the limit the run was started with, if any.
    """
    if expect_rate_limit is not None:
        parse_rate_limit(expect_rate_limit)  # bad input before any read
    with RunStore.open(db_url) as store:
        run = store.resolve(run_ref)
        stored = read_whole_run(store, run, expect_rate_limit=expect_rate_limit)
    if as_json:
        click.echo(stored_run_to_json(stored), nl=False)
    else:
        print_stored_run(stored, summary_console())
