"""Conversions between stored rows and model values: UTC datetimes and JSON text."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from loadgate.model import EndpointSecond, RunInfo, RunStatus, UsersSample


def to_db_time(value: datetime) -> datetime:
    """An aware datetime in UTC; naive ones are refused rather than guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"datetimes must be timezone-aware (UTC), not naive: {value.isoformat()}")
    return value.astimezone(UTC)


def from_db_time(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we wrote was UTC.
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def dump_json(mapping: Mapping[str, Any]) -> str:
    return json.dumps(dict(mapping), ensure_ascii=False, separators=(",", ":"))


def load_counts(text: str) -> dict[str, int]:
    loaded: dict[str, int] = json.loads(text)
    return loaded


def load_settings(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def run_info(row: Any) -> RunInfo:
    """A RunInfo from a `runs` row."""
    started_at = from_db_time(row.started_at)
    assert started_at is not None  # NOT NULL column
    return RunInfo(
        run_id=row.run_id,
        name=row.name,
        script_path=row.script_path,
        script_text=row.script_text,
        host=row.host,
        started_at=started_at,
        ended_at=from_db_time(row.ended_at),
        status=RunStatus(row.status),
        status_reason=row.status_reason,
        settings=load_settings(row.settings),
        is_baseline=bool(row.is_baseline),
    )


def endpoint_second_row(run_id: int, second: EndpointSecond) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "second": second.second,
        "method": second.method,
        "name": second.name,
        "requests": second.requests,
        "failures": second.failures,
        "bytes_received": second.bytes_received,
        "out_of_range": second.out_of_range,
        "histogram": second.histogram,
        "ok_status_counts": dump_json(second.ok_status_counts),
        "failed_status_counts": dump_json(second.failed_status_counts),
        "errors": dump_json(second.errors),
    }


def endpoint_second(row: Any) -> EndpointSecond:
    return EndpointSecond(
        second=row.second,
        method=row.method,
        name=row.name,
        requests=row.requests,
        failures=row.failures,
        bytes_received=row.bytes_received,
        histogram=bytes(row.histogram),
        ok_status_counts=load_counts(row.ok_status_counts),
        failed_status_counts=load_counts(row.failed_status_counts),
        errors=load_counts(row.errors),
        out_of_range=row.out_of_range,
    )


def users_sample_row(run_id: int, sample: UsersSample) -> dict[str, Any]:
    return {"run_id": run_id, "second": sample.second, "users": sample.users}
