"""Options several commands share, defined once."""

from __future__ import annotations

import click

db_option = click.option(
    "--db",
    "db_url",
    metavar="URL",
    envvar="LOADGATE_DB",
    help="Run store: sqlite:///path or postgresql://... (default: LOADGATE_DB, "
    "else a SQLite file in the user's data folder).",
)
