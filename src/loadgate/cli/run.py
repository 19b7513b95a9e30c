"""`loadgate run`: a Locust script, unchanged, with exact latency and the run stored."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from loadgate.cli.edge import handles_errors
from loadgate.engine.config import RunConfig
from loadgate.engine.duration import parse_duration
from loadgate.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from loadgate.engine.interrupt import Interrupts

SUMMARY_WIDTH = 160


def _tag_list(values: tuple[str, ...]) -> tuple[str, ...]:
    """`-T a -T b` and `-T a,b` both mean the tags a and b."""
    return tuple(tag.strip() for value in values for tag in value.split(",") if tag.strip())


def _checked_host(host: str | None) -> str | None:
    if host is None:
        return None
    parts = urlsplit(host.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"the host must be a base URL like http://127.0.0.1:8080 or https://api.example.com, "
            f"not {host!r}"
        )
    return host.strip().rstrip("/")


def _checked_json_path(path: Path | None) -> None:
    """Fail before the run, not after it, when the summary could not be written."""
    if path is not None and not path.absolute().parent.is_dir():
        raise ConfigError(f"cannot write the JSON summary to {path}: its folder does not exist")


def _exit_now(interrupts: Interrupts) -> None:
    """A second Ctrl-C: leave at once, without Python's clean-up (the store stays consistent)."""
    where = "" if interrupts.run_id is None else f"; run {interrupts.run_id} is in the store"
    click.echo(f"\nloadgate: interrupted: stopped at once{where}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(ExitCode.INTERRUPTED))


def _summary_console() -> Console:
    from rich.console import Console

    console = Console()
    # Not a terminal (a log, a pipe, CI): rich would assume 80 columns and cut numbers.
    return console if console.is_terminal else Console(width=max(console.width, SUMMARY_WIDTH))


def _setup_logging(console: object) -> None:
    from rich.logging import RichHandler

    # Locust and scripts log through `logging`: warnings and errors (a task's
    # exception, a failing listener) go to stderr, above the live view.
    handler = RichHandler(console=console, show_time=False, show_path=False)  # type: ignore[arg-type]
    logging.basicConfig(level=logging.WARNING, handlers=[handler], format="%(message)s")


@click.command()
@click.argument("locustfile", type=click.Path(path_type=Path, dir_okay=True))
@click.option("-u", "--users", type=click.IntRange(min=0), help="Peak number of users [1].")
@click.option(
    "-r",
    "--spawn-rate",
    type=click.FloatRange(min=0, min_open=True),
    help="Users started per second [1].",
)
@click.option(
    "-t", "--run-time", metavar="TIME", help="Stop after this long: 30s, 5m, 1h30m [until Ctrl-C]."
)
@click.option(
    "-H",
    "--host",
    metavar="URL",
    help="Base URL of the target [the script's host, else the built-in gateway].",
)
@click.option(
    "-T",
    "--tags",
    multiple=True,
    metavar="TAG",
    help="Run only tasks with these tags (a,b or -T a -T b).",
)
@click.option(
    "-E", "--exclude-tags", multiple=True, metavar="TAG", help="Skip tasks with these tags."
)
@click.option("--name", help="Name of the run [the script's file name without .py].")
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    envvar="LOADGATE_DB",
    help="Run store: sqlite:///path or postgresql://... [LOADGATE_DB, else a SQLite file "
    "in the user's data folder].",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Also write the summary as JSON to FILE.",
)
@click.option("-q", "--quiet", is_flag=True, help="No live view while running.")
@handles_errors
def run(
    locustfile: Path,
    *,
    users: int | None,
    spawn_rate: float | None,
    run_time: str | None,
    host: str | None,
    tags: tuple[str, ...],
    exclude_tags: tuple[str, ...],
    name: str | None,
    db_url: str | None,
    json_path: Path | None,
    quiet: bool,
) -> None:
    """Run the Locust script LOCUSTFILE headless, store every second of it, print the summary."""
    config = RunConfig(
        script_path=locustfile,
        name=(name or locustfile.stem).strip() or locustfile.stem,
        users=users,
        spawn_rate_per_s=spawn_rate,
        run_time_s=parse_duration(run_time) if run_time is not None else None,
        host=_checked_host(host),
        tags=_tag_list(tags),
        exclude_tags=_tag_list(exclude_tags),
    )
    _checked_json_path(json_path)
    try:
        _run(config, db_url, json_path, quiet)
    except KeyboardInterrupt:
        click.echo("loadgate: interrupted before the run started", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))


def _run(config: RunConfig, db_url: str | None, json_path: Path | None, quiet: bool) -> None:
    # Locust (and gevent's monkey-patching) only now, and before anything else heavy.
    from loadgate.engine import session  # isort: skip
    from loadgate.engine.interrupt import Interrupts
    from rich.console import Console  # isort: skip

    stderr = Console(stderr=True)
    _setup_logging(stderr)
    with Interrupts(on_exit=_exit_now) as interrupts:
        plan = session.prepare(config)
        for warning in plan.warnings:
            click.echo(f"loadgate: warning: {warning}", err=True)

        from loadgate.report.json_summary import write_json
        from loadgate.report.terminal import print_summary
        from loadgate.store import RunStore

        with RunStore.open(db_url) as store:
            outcome = session.execute(plan, store, None if quiet else stderr, interrupts)
            summary = store.summary(outcome.run_id)
        print_summary(summary, _summary_console())
        if json_path is not None:
            write_json(summary, json_path)
    if outcome.interrupted:
        sys.exit(int(ExitCode.INTERRUPTED))
