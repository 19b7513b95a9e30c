"""Appending measured batches to a run, each batch at most once (applied_batches)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loadgate.model import MeasuredBatch
from loadgate.store import codec
from loadgate.store.schema import (
    applied_batches,
    arrival_seconds,
    endpoint_second_parts,
    endpoint_seconds,
    generator_seconds,
    run_events,
    runs,
    users_samples,
)


def append_batches(
    conn: Connection, run_id: int, batches: Sequence[MeasuredBatch]
) -> list[MeasuredBatch] | None:
    """Append the batches not applied to the run yet; those appended, or None for no such run.

    A batch without an id is always appended (callers that never retry).
    """
    # The claims first: each is a write, so on SQLite the first one takes the
    # write lock before anything is read (a read first could not upgrade to a
    # write once another connection had written: SQLITE_BUSY, without waiting).
    fresh = [b for b in batches if not b.batch_id or _claim(conn, run_id, b.batch_id)]
    seconds = [s for b in fresh for s in b.seconds]
    totals = conn.execute(
        sa.update(runs)
        .where(runs.c.run_id == run_id)
        .values(
            requests=runs.c.requests + sum(s.requests for s in seconds),
            failures=runs.c.failures + sum(s.failures for s in seconds),
            heartbeat_at=datetime.now(UTC),
        )
    )
    if totals.rowcount == 0:
        return None
    _insert_rows(conn, run_id, fresh)
    return fresh


def _claim(conn: Connection, run_id: int, batch_id: str) -> bool:
    """Record the batch as applied to the run; False if it already was, or there is no run.

    One INSERT ... SELECT: the unique key catches a concurrent claim of the
    same id (an error, and that transaction's rows are not written).
    """
    applied = sa.exists().where(
        applied_batches.c.run_id == run_id, applied_batches.c.batch_id == batch_id
    )
    row = sa.select(runs.c.run_id, sa.literal(batch_id, sa.String)).where(
        runs.c.run_id == run_id, ~applied
    )
    insert = sa.insert(applied_batches).from_select(["run_id", "batch_id"], row)
    # RETURNING, not rowcount: PostgreSQL reported -1 for this INSERT ... SELECT in our tests.
    return conn.execute(insert.returning(applied_batches.c.batch_id)).first() is not None


def _insert_rows(conn: Connection, run_id: int, batches: Sequence[MeasuredBatch]) -> None:
    seconds = [codec.endpoint_second_row(run_id, s) for b in batches for s in b.seconds]
    if seconds:
        conn.execute(sa.insert(endpoint_seconds), seconds)
    parts = [row for b in batches for s in b.seconds for row in codec.part_rows(run_id, s)]
    if parts:
        conn.execute(sa.insert(endpoint_second_parts), parts)
    users = [codec.users_sample_row(run_id, u) for b in batches for u in b.users]
    if users:
        conn.execute(sa.insert(users_samples), users)
    generator = [{"run_id": run_id, "second": g.second, "stall_ms": g.stall_ms}
                 for b in batches for g in b.generator]  # fmt: skip
    if generator:
        conn.execute(sa.insert(generator_seconds), generator)
    arrivals = [codec.arrival_second_row(run_id, a) for b in batches for a in b.arrivals]
    if arrivals:
        conn.execute(sa.insert(arrival_seconds), arrivals)
    events = [codec.run_event_row(run_id, e) for b in batches for e in b.events]
    if events:
        conn.execute(sa.insert(run_events), events)


def applied_to(conn: Connection, batch_id: str) -> int | None:
    """The run a batch id was applied to, if any (a spill file's id: which run imported it)."""
    query = sa.select(applied_batches.c.run_id).where(applied_batches.c.batch_id == batch_id)
    return conn.execute(query.limit(1)).scalar_one_or_none()
