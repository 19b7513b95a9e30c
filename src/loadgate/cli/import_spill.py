"""`loadgate import`: measurements a run could not store (a spill file) into a run store."""

from __future__ import annotations

from pathlib import Path

import click

from loadgate.cli.edge import handles_errors
from loadgate.cli.options import db_option
from loadgate.store import RunStore
from loadgate.store.spill import import_spill, read_spill


@click.command(name="import")
@click.argument("spill_path", metavar="FILE", type=click.Path(path_type=Path, dir_okay=False))
@db_option
@handles_errors
def import_command(spill_path: Path, db_url: str | None) -> None:
    """Add a spill FILE to the run store: the seconds a run measured but could not store.

    `loadgate run` writes one when the store stops answering mid-run, or when a
    second Ctrl-C leaves no time to wait for it, and names it in its error. The
    seconds go to the same run if this store has it, else to a new run made
    from the file's header; the run gets the status the file records, and its
    per-endpoint totals are stored as `loadgate run` stores them. Batches the
    run already has (stored as the run ended) are skipped, and a file already
    imported, under any name, is refused.
    """
    spill = read_spill(spill_path)
    with RunStore.open(db_url) as store:
        result = import_spill(store, spill, spill_path)
        run = store.get_run(result.run_id)
    for note in result.notes:
        click.echo(f"loadgate: note: {note}", err=True)
    scrapes = f" and {result.scrapes:,} scrapes of the target's metrics" if result.scrapes else ""
    click.echo(
        f"imported {result.seconds} seconds ({result.requests:,} requests){scrapes} into run "
        f"{result.run_id} of {store.url}, now {run.status.value}"
    )
