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


expect_rate_limit_option = click.option(
    "--expect-rate-limit",
    "expect_rate_limit",
    metavar="RATE",
    help="The rate limit the target should hold, e.g. '50/s' or 'GET /v1/search: 20/s': "
    "the findings compare the accepted rate per second with it.",
)
