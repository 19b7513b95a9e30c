"""Which runs a list shows: the filter of the dashboard's runs page, as one SQL query.

Newest first by run id, a page at a time by keyset (`before_id`: the last id
of the page before), so page 100 costs what page 1 does; the primary key, the
(name, run_id) and (status, run_id) indexes serve the filters.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from loadgate.model import RunStatus
from loadgate.store.schema import runs


@dataclass(frozen=True, kw_only=True)
class RunFilter:
    """Runs to list: all by default; `text` is found in the name, script path or host, any case."""

    name: str | None = None
    status: RunStatus | None = None
    text: str | None = None
    before_id: int | None = None


def stored_status(status: RunStatus) -> RunStatus:
    """The status stored for runs shown as `status`: a LOST run is stored as RUNNING."""
    return RunStatus.RUNNING if status is RunStatus.LOST else status


def listing_query(where: RunFilter, limit: int) -> sa.Select[tuple[object, ...]]:
    """The newest `limit` runs matching `where` (LOST and RUNNING both select stored RUNNING)."""
    query = sa.select(runs).order_by(runs.c.run_id.desc()).limit(limit)
    if where.name:
        query = query.where(runs.c.name == where.name)
    if where.status is not None:
        query = query.where(runs.c.status == stored_status(where.status).value)
    if where.text:
        needle = where.text.lower()
        query = query.where(
            sa.or_(
                *(
                    sa.func.lower(column).contains(needle, autoescape=True)
                    for column in (runs.c.name, runs.c.script_path, runs.c.host)
                )
            )
        )
    if where.before_id is not None:
        query = query.where(runs.c.run_id < where.before_id)
    return query
