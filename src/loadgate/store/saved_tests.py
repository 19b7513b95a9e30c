"""The dashboard's saved tests in the store: one row each (schema.saved_tests)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loadgate.errors import ConfigError, TestNotFoundError
from loadgate.model import SavedTest
from loadgate.store import codec
from loadgate.store.schema import saved_tests


def insert_test(conn: Connection, test: SavedTest) -> int:
    """Store a new test; its name must be new (ConfigError otherwise). Returns its id."""
    taken = conn.execute(
        sa.select(saved_tests.c.test_id).where(saved_tests.c.name == test.name)
    ).first()
    if taken is not None:
        raise ConfigError(f"a test named {test.name!r} exists already: give another name")
    values: dict[str, Any] = {
        "name": test.name,
        "script_path": test.script_path,
        "script_text": test.script_text,
        "host": test.host,
        "users": test.users,
        "spawn_rate": test.spawn_rate,
        "stages": test.stages,
        "run_time": test.run_time,
        "thresholds": json.dumps(list(test.thresholds)),
        "baseline": test.baseline,
        "cron": test.cron,
        "schedule_handled_at": None,
        "schedule_note": "",
        "created_at": codec.to_db_time(datetime.now(UTC)),
    }
    result = conn.execute(sa.insert(saved_tests).values(values).returning(saved_tests.c.test_id))
    return int(result.scalar_one())


def _test(row: Any) -> SavedTest:
    return SavedTest(
        test_id=row.test_id,
        name=row.name,
        script_path=row.script_path,
        script_text=row.script_text,
        host=row.host,
        users=row.users,
        spawn_rate=row.spawn_rate,
        stages=row.stages,
        run_time=row.run_time,
        thresholds=tuple(json.loads(row.thresholds)),
        baseline=row.baseline,
        cron=row.cron,
        created_at=codec.from_db_time(row.created_at),
        schedule_handled_at=codec.from_db_time(row.schedule_handled_at),
        schedule_note=row.schedule_note,
    )


def all_tests(conn: Connection) -> list[SavedTest]:
    """Every saved test, by name."""
    rows = conn.execute(sa.select(saved_tests).order_by(saved_tests.c.name)).all()
    return [_test(row) for row in rows]


def one_test(conn: Connection, test_id: int, display_url: str) -> SavedTest:
    row = conn.execute(sa.select(saved_tests).where(saved_tests.c.test_id == test_id)).first()
    if row is None:
        raise TestNotFoundError(f"no saved test {test_id} in {display_url}")
    return _test(row)


def update_schedule(
    conn: Connection, test_id: int, handled_at: datetime, note: str, display_url: str
) -> None:
    values = {"schedule_handled_at": codec.to_db_time(handled_at), "schedule_note": note}
    result = conn.execute(
        sa.update(saved_tests).where(saved_tests.c.test_id == test_id).values(values)
    )
    if result.rowcount == 0:
        raise TestNotFoundError(f"no saved test {test_id} in {display_url}")
