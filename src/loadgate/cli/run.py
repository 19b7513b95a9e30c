"""`loadgate run`: a Locust script, unchanged, with exact latency and the run stored."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import click

from loadgate.cli.edge import handles_errors
from loadgate.cli.options import db_option, expect_rate_limit_option
from loadgate.duration import parse_duration
from loadgate.engine.config import RunConfig
from loadgate.errors import ConfigError, ExitCode

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from loadgate.cli.run_outputs import RunOutputs
    from loadgate.engine.interrupt import Interrupts
    from loadgate.plan import Plan


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


def _path_option(flag: str, dest: str, metavar: str, help_text: str) -> Callable[[F], F]:
    return click.option(
        flag,
        dest,
        metavar=metavar,
        type=click.Path(path_type=Path, dir_okay=False),
        help=help_text,
    )


@click.command()
@click.argument("locustfile", required=False, type=click.Path(path_type=Path, dir_okay=True))
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
@db_option
@click.option(
    "--plan",
    "plan_path",
    metavar="FILE.toml",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Run settings, thresholds and baseline from a plan file (flags override it).",
)
@click.option(
    "--threshold",
    "threshold_exprs",
    multiple=True,
    metavar="EXPR",
    help="Pass/fail criterion, e.g. 'p95 < 300ms' or 'GET /v1/products: p99 < 500ms' "
    "(repeatable; exit 99 when one fails).",
)
@click.option(
    "--abort-on-fail",
    is_flag=True,
    help="Stop the run as soon as a threshold fails over its window (10 s by default).",
)
@click.option(
    "--baseline",
    "baseline_name",
    metavar="NAME",
    help="Compare with the baseline run of NAME (exit 98 on a regression).",
)
@expect_rate_limit_option
@_path_option("--json", "json_path", "FILE", "Also write the summary as JSON to FILE.")
@_path_option("--report", "report_path", "FILE.html", "Also write the HTML report to FILE.html.")
@_path_option("--junit", "junit_path", "FILE.xml", "Also write threshold verdicts as JUnit XML.")
@click.option(
    "--csv",
    "csv_prefix",
    metavar="PREFIX",
    type=click.Path(path_type=Path),
    help="Also write Locust-style PREFIX_stats.csv, _stats_history.csv, _failures.csv.",
)
@click.option("-q", "--quiet", is_flag=True, help="No live view while running.")
@handles_errors
def run(
    locustfile: Path | None,
    *,
    users: int | None,
    spawn_rate: float | None,
    run_time: str | None,
    host: str | None,
    tags: tuple[str, ...],
    exclude_tags: tuple[str, ...],
    name: str | None,
    db_url: str | None,
    plan_path: Path | None,
    threshold_exprs: tuple[str, ...],
    abort_on_fail: bool,
    baseline_name: str | None,
    expect_rate_limit: str | None,
    json_path: Path | None,
    report_path: Path | None,
    junit_path: Path | None,
    csv_prefix: Path | None,
    quiet: bool,
) -> None:
    """Run the Locust script LOCUSTFILE headless, store every second of it, print the summary.

    LOCUSTFILE may be left out when --plan names the script.
    """
    _import_engine_first()
    from loadgate.cli.run_outputs import RunOutputs
    from loadgate.plan import RunSettings, load_plan, merge_thresholds

    plan = load_plan(plan_path) if plan_path is not None else None
    flags = RunSettings(
        script=locustfile,
        users=users,
        spawn_rate=spawn_rate,
        run_time=run_time,
        host=host,
        name=name,
        tags=_tag_list(tags) or None,
        exclude_tags=_tag_list(exclude_tags) or None,
    )
    settings = plan.run.overridden_by(flags) if plan is not None else flags
    if settings.script is None:
        raise ConfigError("give a LOCUSTFILE, or a --plan whose [run] section names a script")
    script = settings.script
    thresholds = merge_thresholds(plan, threshold_exprs, abort_on_fail=abort_on_fail)
    config = RunConfig(
        script_path=script,
        name=(settings.name or script.stem).strip() or script.stem,
        users=settings.users,
        spawn_rate_per_s=settings.spawn_rate,
        run_time_s=parse_duration(settings.run_time) if settings.run_time is not None else None,
        host=_checked_host(settings.host),
        tags=settings.tags or (),
        exclude_tags=settings.exclude_tags or (),
        thresholds=tuple(threshold.text for threshold in thresholds),
        expect_rate_limit=_rate_limit(expect_rate_limit, plan),
    )
    outputs = RunOutputs(
        json_path=json_path,
        report_path=report_path,
        junit_path=junit_path,
        csv_prefix=csv_prefix,
        thresholds=thresholds,
        baseline_name=baseline_name or (plan.baseline if plan is not None else None),
    )
    outputs.check_writable()
    try:
        code = _run(config, db_url, outputs, quiet)
    except KeyboardInterrupt:
        click.echo("loadgate: interrupted before the run started", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
    if code is not ExitCode.OK:
        sys.exit(int(code))


def _rate_limit(flag: str | None, plan: Plan | None) -> str | None:
    """--expect-rate-limit, else the plan's; checked before the run starts."""
    from loadgate.analysis.rate_limit import parse_rate_limit

    text = flag if flag is not None else (plan.expect_rate_limit if plan is not None else None)
    return parse_rate_limit(text).text if text is not None else None


def _import_engine_first() -> None:
    """Locust (gevent's monkey-patching) before SQLAlchemy and psycopg, which the outputs import.

    Imported before the patching, psycopg would wait for PostgreSQL in C
    (wait_c), blocking the whole hub instead of one greenlet, and SQLAlchemy's
    pool would hold unpatched locks; tests/engine/test_imports.py checks the order.
    """
    from loadgate.engine import session  # noqa: F401


def _run(config: RunConfig, db_url: str | None, outputs: RunOutputs, quiet: bool) -> ExitCode:
    from loadgate.engine import session  # isort: skip  (imported first: _import_engine_first)
    from loadgate.engine.interrupt import Interrupts
    from rich.console import Console  # isort: skip

    from loadgate.analysis.thresholds_window import AbortCheck
    from loadgate.cli.run_outputs import finish
    from loadgate.report.terminal import summary_console
    from loadgate.store import RunStore

    stderr = Console(stderr=True)
    _setup_logging(stderr)
    with Interrupts(on_exit=_exit_now) as interrupts:
        plan = session.prepare(config)
        for warning in plan.warnings:
            click.echo(f"loadgate: warning: {warning}", err=True)
        abort_check = AbortCheck(outputs.thresholds)
        with RunStore.open(db_url) as store:
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
            )
