"""`loadgate dashboard`: the web dashboard over the run store, served by uvicorn."""

from __future__ import annotations

import click

from loadgate.cli.edge import handles_errors
from loadgate.cli.options import db_option
from loadgate.store import RunStore
from loadgate.web import DashboardSettings, checked_settings, create_app
from loadgate.web.settings import TOKEN_ENV


@click.command()
@click.option(
    "--host",
    "bind_host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but the loopback requires --token.",
)
@click.option("--port", default=8089, show_default=True, type=int, help="Port to listen on.")
@db_option
@click.option(
    "--token",
    envvar=TOKEN_ENV,
    metavar="T",
    help=f"Every request must carry it (Authorization: Bearer T, or the login form); "
    f"{TOKEN_ENV} also sets it. At least 16 characters.",
)
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    metavar="H",
    help="A host runs started here may target, besides the loopback (repeatable).",
)
@handles_errors
def dashboard(
    bind_host: str, port: int, db_url: str | None, token: str | None, allowed_hosts: tuple[str, ...]
) -> None:
    """Serve the web dashboard: stored runs, run pages, comparisons.

    It reads the run store only; it never loads Locust.
    """
    import uvicorn

    settings = checked_settings(
        DashboardSettings(
            bind_host=bind_host,
            port=port,
            db_url=db_url,
            token=token or None,
            allowed_hosts=allowed_hosts,
        )
    )
    with RunStore.open(db_url) as store:
        app = create_app(settings, store)
        click.echo(f"loadgate dashboard on http://{bind_host}:{port}/ (store: {store.url})")
        uvicorn.run(app, host=bind_host, port=port, log_level="warning", server_header=False)
