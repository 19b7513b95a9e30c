"""Engines for the two backends (SQLite pragmas, connect timeouts) and translating driver errors."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from loadgate.errors import StoreError

CONNECT_TIMEOUT_S = 5
# PostgreSQL: how a server that stops answering becomes an error within seconds.
# libpq's TCP settings catch a dead host or network (no ACKs): keepalives on an
# idle connection after 5 s, then every 2 s, 3 probes: gone after about 11 s;
# data left unacknowledged for 10 s (tcp_user_timeout) ends the connection.
# A server that is alive but stuck (a lock, a stopped process whose kernel
# still ACKs) is bounded by statement_timeout on the server's side, and by the
# run's writer thread on ours (loadgate.engine.writer_thread.STORE_STALL_LIMIT_S).
# Readers of long runs may scan for a while: 30 s leaves them room.
PG_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
                 "keepalives_count": 3}  # fmt: skip
PG_TCP_USER_TIMEOUT_MS = 10_000
PG_STATEMENT_TIMEOUT_MS = 30_000
SQLITE_BUSY_TIMEOUT_S = 10.0
WAL_RETRY_S = 0.01  # between tries to turn a new SQLite file into WAL
# Connection execution option naming how SQLite transactions BEGIN (DEFERRED or IMMEDIATE).
SQLITE_BEGIN_OPTION = "loadgate_sqlite_begin"


def create_store_engine(url: URL, display_url: str) -> Engine:
    """An engine for `url`, connected once so that a bad URL fails here, fast."""
    try:
        engine = (
            _sqlite_engine(url, display_url)
            if url.get_backend_name() == "sqlite"
            else (_postgresql_engine(url))
        )
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"cannot open the run store {display_url}: {describe(exc)}") from exc
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(
            f"cannot open the run store {display_url}: {describe(exc, url.password)}"
        ) from exc
    return engine


def _sqlite_engine(url: URL, display_url: str) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).absolute().parent
        if not folder.is_dir():
            raise StoreError(
                f"cannot open the run store {display_url}: the folder {folder} does not exist"
            )
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _into_wal(cursor: Any) -> None:
    """PRAGMA journal_mode=WAL, waiting for the lock it needs as long as a busy store is waited for.

    Turning a new file into WAL takes an exclusive lock, and SQLite answers
    "database is locked" at once, without its busy handler, while another
    connection holds the file (processes opening a new store together).
    """
    deadline_s = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline_s:
                raise
            time.sleep(WAL_RETRY_S)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module's own transaction handling does not BEGIN before DDL,
    # which would make migrations non-atomic: we BEGIN ourselves (_begin_sqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # WAL: readers (dashboard, `loadgate show`) never block the run writing.
        _into_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        # NORMAL is crash-safe in WAL mode (only a power loss may lose the last
        # commits) and saves an fsync per flush, which runs every second.
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _begin_sqlite(conn: Connection) -> None:
    mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
    if mode not in ("DEFERRED", "IMMEDIATE"):
        raise ValueError(f"{SQLITE_BEGIN_OPTION} must be DEFERRED or IMMEDIATE, not {mode!r}")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _postgresql_engine(url: URL) -> Engine:
    # pre-ping: a dashboard keeps its engine for hours, across server restarts.
    return sa.create_engine(url, connect_args=postgresql_connect_args(url), pool_pre_ping=True)


def postgresql_connect_args(url: URL) -> dict[str, Any]:
    """libpq parameters bounding every wait on the server; the URL's own values win."""
    defaults: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT_S,
        **PG_KEEPALIVES,
        "tcp_user_timeout": PG_TCP_USER_TIMEOUT_MS,
        "options": f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS}",
    }
    return {name: value for name, value in defaults.items() if name not in url.query}


def describe(exc: BaseException, password: str | None = None) -> str:
    """The driver's own message, on one line, without SQLAlchemy's boilerplate or a password."""
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    text = lines[0] if lines else type(cause).__name__
    if password:
        text = text.replace(password, "***")
    return text


@contextmanager
def translated_errors(display_url: str, action: str) -> Iterator[None]:
    """Turn database errors inside the block into one-line StoreErrors naming the store."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise StoreError(
            f"{action} in the run store {display_url} failed: {describe(exc)}"
        ) from exc
