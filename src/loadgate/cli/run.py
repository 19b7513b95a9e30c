"""`loadgate run`: a Locust script, unchanged, with exact latency and the run stored."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import TYPE_CHECKING

import click

from loadgate.cli.edge import handles_errors
from loadgate.engine.config import RunConfig
from loadgate.errors import ExitCode

if TYPE_CHECKING:
    from loadgate.cli.run_outputs import RunOutputs
    from loadgate.engine.interrupt import Interrupts
    from loadgate.engine.locustfile import LoadedScript


def _exit_now(interrupts: Interrupts) -> None:
    """A second Ctrl-C: leave at once, without Python's clean-up (the store stays consistent).

    Called on the interrupt thread while the main thread may be anywhere (in a
    database call, printing): os.write, not click.echo, whose stream lock the
    main thread may hold.
    """
    where = interrupts.exit_note
    if not where and interrupts.run_id is not None:
        where = f"run {interrupts.run_id} is in the store"
    line = "loadgate: interrupted: stopped at once" + (f"; {where}" if where else "")
    with contextlib.suppress(OSError):
        os.write(2, f"\n{line}\n".encode())
    os._exit(int(ExitCode.INTERRUPTED))


def _setup_logging(console: object) -> None:
    from rich.logging import RichHandler

    # Locust and scripts log through `logging`: warnings and errors (a task's
    # exception, a failing listener) go to stderr, above the live view.
    handler = RichHandler(console=console, show_time=False, show_path=False)  # type: ignore[arg-type]
    logging.basicConfig(level=logging.WARNING, handlers=[handler], format="%(message)s")


@click.command(
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
@handles_errors
def run(arguments: tuple[str, ...]) -> None:
    """Run a Locust script headless (Locust's command line), store it, print the summary.

    `loadgate run --help` lists Locust's flags, loadgate's, and the script's own.
    """
    # Locust (gevent's monkey-patching) first: parsing uses Locust's own parser.
    _import_engine_first()
    from loadgate.cli.run_args import parse_run

    request = parse_run(arguments)
    if request is None:  # answered without a run: --help, --list, --print-config, ...
        return
    for warning in request.warnings:
        click.echo(f"loadgate: warning: {warning}", err=True)
    request.outputs.check_writable()
    from loadgate.engine.locust_json import write_when_quitting

    write_when_quitting(to_stdout=request.locust_json_stdout, file_name=request.locust_json_file)
    try:
        code = _run(
            request.config, request.db_url, request.outputs, request.quiet, script=request.script
        )
    except KeyboardInterrupt:
        click.echo("loadgate: interrupted before the run started", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
    if code != 0:
        sys.exit(code)


def _import_engine_first() -> None:
    """Locust (gevent's monkey-patching) before SQLAlchemy and psycopg, which the outputs import.

    Imported before the patching, psycopg would wait for PostgreSQL in C
    (wait_c), blocking the whole hub instead of one greenlet, and SQLAlchemy's
    pool would hold unpatched locks; tests/engine/test_imports.py checks the order.
    """
    from loadgate.engine import session  # noqa: F401


def _run(
    config: RunConfig,
    db_url: str | None,
    outputs: RunOutputs,
    quiet: bool,
    *,
    script: LoadedScript | None = None,
) -> int:
    from loadgate.engine import session  # isort: skip  (imported first: _import_engine_first)
    from loadgate.engine.interrupt import Interrupts
    from rich.console import Console  # isort: skip

    from loadgate.analysis.thresholds_window import AbortCheck
    from loadgate.cli.run_id_file import open_run_store
    from loadgate.cli.run_outputs import RunEnd, finish
    from loadgate.report.terminal import summary_console

    stderr = Console(stderr=True)
    _setup_logging(stderr)
    with Interrupts(on_exit=_exit_now) as interrupts:
        plan = session.prepare(config, script)
        for warning in plan.warnings:
            click.echo(f"loadgate: warning: {warning}", err=True)
        abort_check = AbortCheck(outputs.thresholds)
        with open_run_store(db_url) as store:
            outcome = session.execute(
                plan,
                store,
                None if quiet else stderr,
                interrupts,
                abort_check=abort_check if abort_check else None,
            )
            return finish(
                store,
                outcome.run_id,
                outputs,
                summary_console(),
                stderr,
                interrupted=outcome.interrupted,
                end=RunEnd(
                    interrupted=outcome.interrupted,
                    process_exit_code=outcome.process_exit_code,
                    unhandled_errors=outcome.unhandled_errors,
                ),
            )
