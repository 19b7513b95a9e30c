"""Schema migrations: plain named functions, each applied once, in its own transaction.

A migration is frozen once released: it spells out its own tables rather than
importing schema.py, so that later changes to schema.py (which come with a new
migration) cannot change what an old migration does. Applied names are recorded
in `schema_migrations`. Concurrent openers (a run and the dashboard) are
serialised by an exclusive lock: BEGIN IMMEDIATE on SQLite, a transaction-level
advisory lock on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from loadgate.errors import StoreError
from loadgate.store.connection import SQLITE_BEGIN_OPTION
from loadgate.store.schema import schema_migrations

Migration = Callable[[Connection], None]

# any constant: identifies loadgate's migration lock among advisory locks
_PG_MIGRATION_LOCK_KEY = 0x10AD6A7E
# Row ids: BIGINT, but SQLite autoincrements only an INTEGER PRIMARY KEY.
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def m001_initial_schema(conn: Connection) -> None:
    """Runs, their per-endpoint seconds and their user counts."""
    md = sa.MetaData()
    sa.Table(
        "runs",
        md,
        sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
        *(sa.Column(name, sa.Text, nullable=False) for name in _RUN_TEXT_COLUMNS),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("is_baseline", sa.Boolean, nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("failures", sa.BigInteger, nullable=False),
        sa.Index("ix_runs_name_run_id", "name", "run_id"),
        sqlite_autoincrement=True,
    )
    sa.Table(
        "endpoint_seconds",
        md,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        _run_id_column(),
        sa.Column("second", sa.BigInteger, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in _SECOND_COUNT_COLUMNS),
        sa.Column("histogram", sa.LargeBinary, nullable=False),
        *(sa.Column(name, sa.Text, nullable=False) for name in _SECOND_JSON_COLUMNS),
        sa.Index("ix_endpoint_seconds_run_id_second", "run_id", "second"),
    )
    sa.Table(
        "users_samples",
        md,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        _run_id_column(),
        sa.Column("second", sa.BigInteger, nullable=False),
        sa.Column("users", sa.Integer, nullable=False),
        sa.Index("ix_users_samples_run_id_second", "run_id", "second"),
    )
    md.create_all(conn, checkfirst=False)


_RUN_TEXT_COLUMNS = ("name", "script_path", "script_text", "host")
_SECOND_COUNT_COLUMNS = ("requests", "failures", "bytes_received", "out_of_range")
_SECOND_JSON_COLUMNS = ("ok_status_counts", "failed_status_counts", "errors")


def _run_id_column() -> sa.Column[int]:
    return sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False
    )


def m002_run_heartbeat(conn: Connection) -> None:
    """runs.heartbeat_at: when the writer last appended, to tell a dead run from a live one."""
    column_type = sa.DateTime(timezone=True).compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE runs ADD COLUMN heartbeat_at {column_type} NULL"))


def m003_endpoint_totals(conn: Connection) -> None:
    """Per-endpoint totals of finished runs, so summaries read one row per endpoint."""
    md = sa.MetaData()
    sa.Table("runs", md, sa.Column("run_id", sa.Integer, primary_key=True))
    sa.Table(
        "endpoint_totals",
        md,
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("method", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in _SECOND_COUNT_COLUMNS),
        sa.Column("first_second", sa.BigInteger, nullable=False),
        sa.Column("last_second", sa.BigInteger, nullable=False),
        sa.Column("histogram", sa.LargeBinary, nullable=False),
        *(sa.Column(name, sa.Text, nullable=False) for name in _SECOND_JSON_COLUMNS),
    )
    md.tables["endpoint_totals"].create(conn, checkfirst=False)


def m004_generator_seconds(conn: Connection) -> None:
    """The generator's longest hub stall per second (loadgate.engine.stall)."""
    md = sa.MetaData()
    # The parent table, for the foreign key only: it is not created here.
    sa.Table("runs", md, sa.Column("run_id", sa.Integer, primary_key=True))
    sa.Table(
        "generator_seconds",
        md,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        _run_id_column(),
        sa.Column("second", sa.BigInteger, nullable=False),
        sa.Column("stall_ms", sa.Float, nullable=False),
        sa.Index("ix_generator_seconds_run_id_second", "run_id", "second"),
    ).create(conn, checkfirst=False)  # fmt: skip


def m005_applied_batches(conn: Connection) -> None:
    """The ids of batches already appended, so that storing a batch twice adds it once."""
    md = sa.MetaData()
    sa.Table("runs", md, sa.Column("run_id", sa.Integer, primary_key=True))
    sa.Table(
        "applied_batches",
        md,
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("batch_id", sa.String(64), primary_key=True),
        sa.Index("ix_applied_batches_batch_id", "batch_id"),
    ).create(conn, checkfirst=False)  # fmt: skip


def m006_run_workers(conn: Connection) -> None:
    """What each worker of a distributed run sent its master (loadgate.engine.worker_merge)."""
    md = sa.MetaData()
    sa.Table("runs", md, sa.Column("run_id", sa.Integer, primary_key=True))
    sa.Table(
        "run_workers",
        md,
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("worker_id", sa.String(200), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("failures", sa.BigInteger, nullable=False),
        sa.Column("first_second", sa.BigInteger, nullable=True),
        sa.Column("last_second", sa.BigInteger, nullable=True),
        sa.Column("cpu_percent_mean", sa.Float, nullable=False),
        sa.Column("cpu_percent_max", sa.Float, nullable=False),
        sa.Column("users_max", sa.Integer, nullable=False),
    ).create(conn, checkfirst=False)


def m007_run_events(conn: Connection) -> None:
    """Events of a run (a lost worker), each stored second's region, workers' clock offsets."""
    md = sa.MetaData()
    sa.Table("runs", md, sa.Column("run_id", sa.Integer, primary_key=True))
    sa.Table(
        "run_events",
        md,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        _run_id_column(),
        sa.Column("second", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Index("ix_run_events_run_id_second", "run_id", "second"),
    ).create(conn, checkfirst=False)  # fmt: skip
    conn.execute(sa.text("ALTER TABLE endpoint_seconds ADD COLUMN region TEXT NOT NULL DEFAULT ''"))
    float_type = sa.Float().compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE run_workers ADD COLUMN clock_offset_ms {float_type} NULL"))


def m008_scraped_metrics(conn: Connection) -> None:
    """A target's own metrics scraped during a run: series, values per second, each scrape."""
    md = sa.MetaData()
    sa.Table("runs", md, sa.Column("run_id", sa.Integer, primary_key=True))
    sa.Table(
        "scrape_series",
        md,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        _run_id_column(),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Index("ix_scrape_series_run_id", "run_id"),
    )
    sa.Table(
        "scrape_samples",
        md,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        _run_id_column(),
        # No foreign key: the run's own cascade removes samples and series together.
        sa.Column("series_id", sa.BigInteger, nullable=False),
        sa.Column("second", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Index("ix_scrape_samples_run_id_series_id_second", "run_id", "series_id", "second"),
    )
    sa.Table(
        "scrapes",
        md,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        _run_id_column(),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("second", sa.BigInteger, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("series", sa.Integer, nullable=False),
        sa.Column("series_dropped", sa.Integer, nullable=False),
        sa.Column("dropped_example", sa.Text, nullable=False),
        sa.Index("ix_scrapes_run_id_second", "run_id", "second"),
    )
    for name in ("scrape_series", "scrape_samples", "scrapes"):
        md.tables[name].create(conn, checkfirst=False)


def m009_run_listing(conn: Connection) -> None:
    """What the dashboard lists of a run besides its counts, and an index to filter runs by status.

    The percentiles and `threshold_outcome` are written once the run has ended
    (NULL until then, and for older runs until a reader computes them), so
    lists and trends decode no histogram.
    """
    float_type = sa.Float().compile(dialect=conn.dialect)
    text_type = sa.String(8).compile(dialect=conn.dialect)
    for column in ("p50_ms", "p95_ms", "p99_ms"):
        conn.execute(sa.text(f"ALTER TABLE runs ADD COLUMN {column} {float_type} NULL"))
    conn.execute(sa.text(f"ALTER TABLE runs ADD COLUMN threshold_outcome {text_type} NULL"))
    md = sa.MetaData()
    table = sa.Table(
        "runs",
        md,
        sa.Column("run_id", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(16)),
    )
    sa.Index("ix_runs_status_run_id", table.c.status, table.c.run_id).create(conn)


def m010_saved_tests(conn: Connection) -> None:
    """The dashboard's saved tests (`script_text` set when uploaded) and their schedules."""
    md = sa.MetaData()
    sa.Table(
        "saved_tests",
        md,
        sa.Column("test_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("script_path", sa.Text, nullable=False),
        sa.Column("script_text", sa.Text, nullable=False),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("users", sa.Integer, nullable=False),
        sa.Column("spawn_rate", sa.Float, nullable=False),
        sa.Column("stages", sa.Text, nullable=False),
        sa.Column("run_time", sa.Text, nullable=False),
        sa.Column("thresholds", sa.Text, nullable=False),
        sa.Column("baseline", sa.Text, nullable=False),
        sa.Column("cron", sa.Text, nullable=False),
        sa.Column("schedule_handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("schedule_note", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_saved_tests_name", "name", unique=True),
    ).create(conn, checkfirst=False)


def m011_arrival_seconds(conn: Connection) -> None:
    """The open model's scheduler per second: iterations started, dropped, their start lag."""
    md = sa.MetaData()
    sa.Table("runs", md, sa.Column("run_id", sa.Integer, primary_key=True))
    sa.Table(
        "arrival_seconds",
        md,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        _run_id_column(),
        sa.Column("second", sa.BigInteger, nullable=False),
        sa.Column("iterations", sa.BigInteger, nullable=False),
        sa.Column("dropped_iterations", sa.BigInteger, nullable=False),
        sa.Column("start_lag", sa.LargeBinary, nullable=False),
        sa.Column("out_of_range", sa.BigInteger, nullable=False),
        sa.Index("ix_arrival_seconds_run_id_second", "run_id", "second"),
    ).create(conn, checkfirst=False)  # fmt: skip


def m012_endpoint_second_parts(conn: Connection) -> None:
    """Latencies of parts of each endpoint-second: cache hits and misses, upstream and gateway."""
    md = sa.MetaData()
    sa.Table("runs", md, sa.Column("run_id", sa.Integer, primary_key=True))
    sa.Table(
        "endpoint_second_parts",
        md,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        _run_id_column(),
        sa.Column("second", sa.BigInteger, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("part", sa.String(20), nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("histogram", sa.LargeBinary, nullable=False),
        sa.Index("ix_endpoint_second_parts_run_id_second", "run_id", "second"),
    ).create(conn, checkfirst=False)


def m013_run_views(conn: Connection) -> None:
    """A settled run's folded whole-run read (timeline, series, parts), keyed to its data."""
    md = sa.MetaData()
    sa.Table("runs", md, sa.Column("run_id", sa.Integer, primary_key=True))
    sa.Table(
        "run_views",
        md,
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("data_key", sa.Text, nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
    ).create(conn, checkfirst=False)


# In order; append new ones at the end, never edit or reorder released ones.
MIGRATIONS: tuple[Migration, ...] = (
    m001_initial_schema,
    m002_run_heartbeat,
    m003_endpoint_totals,
    m004_generator_seconds,
    m005_applied_batches,
    m006_run_workers,
    m007_run_events,
    m008_scraped_metrics,
    m009_run_listing,
    m010_saved_tests,
    m011_arrival_seconds,
    m012_endpoint_second_parts,
    m013_run_views,
)


def migrate(engine: Engine, display_url: str) -> list[str]:
    """Apply the pending migrations; returns the names applied now."""
    with engine.connect() as conn:
        if not _pending(conn, display_url):
            return []
        applied_now: list[str] = []
        for migration in MIGRATIONS:
            with _exclusive_transaction(conn):
                schema_migrations.create(conn, checkfirst=True)
                if migration.__name__ in _applied(conn):
                    continue  # another process got there first
                migration(conn)
                conn.execute(
                    sa.insert(schema_migrations).values(
                        name=migration.__name__, applied_at=datetime.now(UTC)
                    )
                )
                applied_now.append(migration.__name__)
        return applied_now


def applied_migrations(conn: Connection) -> set[str]:
    """The names recorded as applied (empty for a new database)."""
    if not sa.inspect(conn).has_table(schema_migrations.name):
        return set()
    return _applied(conn)


def _applied(conn: Connection) -> set[str]:
    return set(conn.execute(sa.select(schema_migrations.c.name)).scalars())


def _pending(conn: Connection, display_url: str) -> list[str]:
    # An unlocked look first, so opening an up-to-date store never takes the write lock.
    with conn.begin():
        applied = applied_migrations(conn)
    known = {migration.__name__ for migration in MIGRATIONS}
    unknown = sorted(applied - known)
    if unknown:
        raise StoreError(
            f"the run store {display_url} was written by a newer loadgate "
            f"(unknown migrations: {', '.join(unknown)}); upgrade loadgate to use it"
        )
    return sorted(known - applied)


@contextmanager
def _exclusive_transaction(conn: Connection) -> Iterator[None]:
    if conn.dialect.name == "sqlite":
        conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    try:
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK_KEY)))
            yield
    finally:
        if conn.dialect.name == "sqlite":
            conn.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
