"""`loadgate report`: a stored run (or a range of it) as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

import click

from loadgate.analysis.rate_limit import parse_rate_limit
from loadgate.cli.edge import handles_errors
from loadgate.cli.options import db_option, expect_rate_limit_option
from loadgate.cli.stored_run import read_stored_run
from loadgate.duration import format_duration_s, parse_duration
from loadgate.errors import ConfigError
from loadgate.report.stored_run import write_stored_html
from loadgate.store import RunStore
from loadgate.store.run_view import RunRange, read_run_view


def _offset_s(option: str, text: str | None) -> int | None:
    """Seconds since the run's start, written like a run time (0, 90s, 10m, 1h5m)."""
    if text is None:
        return None
    if text.strip() in ("0", "0s"):
        return 0
    try:
        return parse_duration(text)
    except ConfigError:
        raise ConfigError(
            f"{option} must be a time since the run's start like 0, 90s, 10m or 1h5m, not {text!r}"
        ) from None


def _range(from_text: str | None, to_text: str | None) -> RunRange | None:
    from_s, to_s = _offset_s("--from", from_text), _offset_s("--to", to_text)
    if from_s is None and to_s is None:
        return None
    if to_s is not None and to_s <= (from_s or 0):
        raise ConfigError(
            f"--to ({format_duration_s(to_s)}) must be later than --from "
            f"({format_duration_s(from_s or 0)})"
        )
    return RunRange(from_s=from_s or 0, to_s=to_s)


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
@click.option(
    "--from",
    "from_text",
    metavar="TIME",
    help="Report only from this time since the run's start (90s, 10m, 1h5m).",
)
@click.option(
    "--to",
    "to_text",
    metavar="TIME",
    help="Report only up to this time since the run's start (default: the end).",
)
@db_option
@expect_rate_limit_option
@handles_errors
def report(
    run_ref: str,
    *,
    output_path: Path,
    from_text: str | None,
    to_text: str | None,
    db_url: str | None,
    expect_rate_limit: str | None,
) -> None:
    """Write the HTML report of a stored run (RUN: an id, a run name, or 'last').

    One file with charts over time, latency percentiles, per-endpoint tables,
    statuses, errors, settings and the script; it opens offline. Charts show
    each second for runs up to 12 minutes, and 10 s or 1 min averages (with
    exact percentiles of each) for longer ones; --from/--to report a range of
    the run alone, tables included, second by second when it is 12 minutes
    or shorter.
    """
    within = _range(from_text, to_text)
    if expect_rate_limit is not None:
        parse_rate_limit(expect_rate_limit)  # bad input before any read
    with RunStore.open(db_url) as store:
        run = store.resolve(run_ref)
        # Summary and timeline from the same read, so a run still being written
        # shows the same numbers in its table and its charts.
        view = read_run_view(store, run, within=within)
        if within is None and view.from_seconds:
            # The whole run was folded: an ended run keeps it as its totals.
            store.keep_totals(run, view.fold)
        # The HTML report shows no regions: no read of the seconds by region.
        stored = read_stored_run(
            store, view.summary, view.series, view.parts, expect_rate_limit=expect_rate_limit,
            with_regions=False,
        )  # fmt: skip
    scope = None
    if within is not None:
        end = "the end" if within.to_s is None else format_duration_s(within.to_s)
        scope = (
            f"{format_duration_s(within.from_s)} to {end} after the start "
            "(tables, charts and thresholds cover this range only)"
        )
    write_stored_html(output_path, stored, view.timeline, scope=scope)
    click.echo(f"report of run {run.run_id} written to {output_path}")
