"""`loadgate worker`: a Locust worker for a `loadgate run --master`, on this or another machine."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import click

from loadgate.cli.edge import handles_errors
from loadgate.engine.config import DEFAULT_MASTER_PORT
from loadgate.errors import ExitCode
from loadgate.http_client import CLIENT_CHOICES, DEFAULT_CLIENT


@click.command()
@click.argument("locustfile", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--master-host", required=True, metavar="HOST", help="Where the master runs.")
@click.option(
    "--master-port",
    type=click.IntRange(min=1, max=65535),
    default=DEFAULT_MASTER_PORT,
    show_default=True,
    metavar="PORT",
    help="The master's --master-bind-port.",
)
@click.option(
    "--region",
    metavar="LABEL",
    help="Where this worker runs, stored with its seconds [the host name].",
)
@click.option(
    "--client",
    type=click.Choice(CLIENT_CHOICES),
    default=DEFAULT_CLIENT,
    show_default=True,
    envvar="LOADGATE_CLIENT",
    help="The HTTP client of HttpUser scripts, as `loadgate run --client` (give the same).",
)
@click.option(
    "--timings",
    is_flag=True,
    envvar="LOADGATE_TIMINGS",
    help="Record the requests' timing phases, as `loadgate run --timings` (give the same).",
)
@handles_errors
def worker(
    locustfile: Path | None,
    *,
    master_host: str,
    master_port: int,
    region: str | None,
    client: str,
    timings: bool,
) -> None:
    """Run the users a master gives this process, and send it what they measure.

    Without LOCUSTFILE, the master's script is used (sent by the master).
    The master stores the run; the worker never opens the store.
    """
    # Locust (gevent's monkey-patching) first, as `loadgate run` does.
    from loadgate.engine import worker_session

    config = worker_session.WorkerConfig(
        master_host=master_host,
        master_port=master_port,
        region=(region or socket.gethostname()).strip(),
        script_path=locustfile,
        client=client,
        timings=timings,
    )
    try:
        left_master = worker_session.run_worker(config)
    except (KeyboardInterrupt, worker_session.WorkerInterruptedError):
        click.echo("loadgate: worker interrupted", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
    if left_master:
        click.echo("loadgate: worker stopped; its last report was sent to the master", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
