"""Reading a run's measurements in bounded memory: seconds streamed in order, totals, spans.

Every query here runs inside a caller's transaction (RunStore's). Seconds come
back one at a time, ordered by second, with the pieces of each (second,
method, name) merged, so a fold over them holds one second at a time however
long the run is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import groupby
from operator import attrgetter
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loadgate.model import EndpointSecond, EndpointTotals, PartSecond, RunStatus
from loadgate.store import codec
from loadgate.store.merging import merge_endpoint_seconds, merge_part_seconds
from loadgate.store.schema import (
    endpoint_second_parts,
    endpoint_seconds,
    endpoint_totals,
    runs,
    users_samples,
)

# Rows fetched per round trip: PostgreSQL streams them from a server-side cursor.
ROWS_PER_FETCH = 2000

_Piece = TypeVar("_Piece", EndpointSecond, PartSecond)


def stream_seconds(
    conn: Connection,
    run_id: int,
    from_second: int | None,
    to_second: int | None,
    by_region: bool = False,
) -> Iterator[EndpointSecond]:
    """The run's endpoint-seconds from `from_second` to `to_second` (both included, if given).

    Ordered by second, then name, then method, pieces merged: what
    merge_endpoint_seconds gives for the whole run, one second at a time;
    `by_region` keeps each region's apart (a distributed run's).
    """
    query = sa.select(endpoint_seconds).where(endpoint_seconds.c.run_id == run_id)
    query = _within(query, endpoint_seconds.c.second, from_second, to_second)
    # By id within a second: pieces merge in the order they were written.
    query = query.order_by(endpoint_seconds.c.second, endpoint_seconds.c.id)
    # On the statement, not the connection: the connection's options would
    # stream every later statement of the transaction too.
    rows = conn.execute(query.execution_options(yield_per=ROWS_PER_FETCH))
    seconds = (codec.endpoint_second(row) for row in rows)
    for group in _per_second(seconds):
        yield from merge_endpoint_seconds(group, by_region=by_region)


def stream_part_seconds(
    conn: Connection, run_id: int, from_second: int | None, to_second: int | None
) -> Iterator[PartSecond]:
    """The run's part-seconds (cache hits, upstream time...), ordered by second, pieces merged.

    Regions are merged: the parts are read for the whole run's findings.
    """
    table = endpoint_second_parts
    query = _within(sa.select(table).where(table.c.run_id == run_id), table.c.second,
                    from_second, to_second)  # fmt: skip
    query = query.order_by(table.c.second, table.c.id)
    rows = conn.execute(query.execution_options(yield_per=ROWS_PER_FETCH))
    for group in _per_second(codec.part_second(row) for row in rows):
        yield from merge_part_seconds(group)


def _per_second(pieces: Iterable[_Piece]) -> Iterator[list[_Piece]]:
    """Pieces ordered by second, one list per second: one second held at a time."""
    for _second, group in groupby(pieces, key=attrgetter("second")):
        yield list(group)


def _within(
    query: sa.Select[Any], second: sa.ColumnElement[int], first: int | None, last: int | None
) -> sa.Select[Any]:
    """`query` limited to seconds from `first` to `last` (both included, if given)."""
    if first is not None:
        query = query.where(second >= first)
    if last is not None:
        query = query.where(second <= last)
    return query


def stream_second_counts(conn: Connection, run_id: int) -> Iterator[EndpointSecond]:
    """The run's endpoint-seconds without their histograms (empty bytes), ordered by second.

    Pieces of one (second, method, name) come one by one, not merged: a
    reader that only adds counts adds them itself. Leaving the histogram
    column out saves fetching and copying the largest part of each row.
    """
    columns = [c for c in endpoint_seconds.c if c.name != "histogram"]
    query = (
        sa.select(*columns)
        .where(endpoint_seconds.c.run_id == run_id)
        .order_by(endpoint_seconds.c.second, endpoint_seconds.c.id)
    )
    for row in conn.execute(query.execution_options(yield_per=ROWS_PER_FETCH)):
        yield codec.endpoint_second_counts(row)


def second_span(conn: Connection, run_id: int, with_users: bool) -> tuple[int, int] | None:
    """The first and last second with measurements (or user samples); None for none."""
    bounds: list[int] = []
    for table in (endpoint_seconds, users_samples) if with_users else (endpoint_seconds,):
        low, high = conn.execute(
            sa.select(sa.func.min(table.c.second), sa.func.max(table.c.second)).where(
                table.c.run_id == run_id
            )
        ).one()
        bounds.extend(int(value) for value in (low, high) if value is not None)
    return (min(bounds), max(bounds)) if bounds else None


def pieces_before(conn: Connection, run_id: int, before_second: int) -> int:
    """How many endpoint-second rows (pieces) the run has for seconds before `before_second`."""
    query = sa.select(sa.func.count()).where(
        endpoint_seconds.c.run_id == run_id, endpoint_seconds.c.second < before_second
    )
    return int(conn.execute(query).scalar_one())


def users_max(conn: Connection, run_id: int, from_second: int | None, to_second: int | None) -> int:
    query = sa.select(sa.func.max(users_samples.c.users)).where(users_samples.c.run_id == run_id)
    query = _within(query, users_samples.c.second, from_second, to_second)
    most = conn.execute(query).scalar_one_or_none()
    return int(most) if most is not None else 0


def stored_totals(conn: Connection, run_id: int) -> list[EndpointTotals] | None:
    """The totals written when the run ended, if they still account for every request.

    None when there are none (older runs, runs never finished) or when
    seconds were appended after them: then the caller folds the seconds.
    """
    rows = conn.execute(sa.select(endpoint_totals).where(endpoint_totals.c.run_id == run_id)).all()
    requests = conn.execute(
        sa.select(runs.c.requests).where(runs.c.run_id == run_id)
    ).scalar_one_or_none()
    totals = [codec.endpoint_totals(row) for row in rows]
    if not totals or requests != sum(t.requests for t in totals):
        return None
    return totals


def replace_totals(conn: Connection, run_id: int, totals: Iterable[EndpointTotals]) -> None:
    """Store a run's per-endpoint totals, replacing any it had."""
    conn.execute(sa.delete(endpoint_totals).where(endpoint_totals.c.run_id == run_id))
    rows: list[dict[str, Any]] = [codec.endpoint_totals_row(run_id, t) for t in totals]
    if rows:
        conn.execute(sa.insert(endpoint_totals), rows)


def keep_totals(conn: Connection, run_id: int, totals: Sequence[EndpointTotals]) -> bool:
    """Store totals a reader folded, if the run has ended and has none that still hold.

    For readers that fold a run with no usable totals (ended by a second
    Ctrl-C or a store failure, imported): the next one reads one row per
    endpoint. Written only when the run is stored as ended and the totals
    account for every request it has now; False when nothing was written.
    Safe beside a writer: the run's row is locked first (PostgreSQL; on
    SQLite the caller's transaction holds the write lock), so an append
    lands wholly before the check or after the commit, and the primary key
    (run_id, method, name) refuses a second reader's copy.
    """
    run = conn.execute(
        sa.select(runs.c.status, runs.c.requests).where(runs.c.run_id == run_id).with_for_update()
    ).one_or_none()
    if (
        not totals
        or run is None
        or run.status == RunStatus.RUNNING.value
        or run.requests != sum(t.requests for t in totals)
        or stored_totals(conn, run_id) is not None  # another reader's, already current
    ):
        return False
    replace_totals(conn, run_id, totals)  # stale ones (seconds appended after them) go
    return True
