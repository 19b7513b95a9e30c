"""Conversions between stored forms and model values: database rows, and plain dicts.

The database rows hold UTC datetimes and JSON text. The plain dict of an
EndpointSecond (`endpoint_second_dict`) holds only ints, strings and string
-> int mappings, so that JSON and msgpack carry it as it is: a spill file's
"second" records and the pieces a worker ships to its master are that dict.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any

from loadgate.model import (
    ArrivalSecond,
    EndpointSecond,
    EndpointTotals,
    ErrorTally,
    EventKind,
    Part,
    PartHistogram,
    PartSecond,
    RunEvent,
    RunInfo,
    RunStatus,
    UsersSample,
    WorkerTotal,
)
from loadgate.scraped import ScrapeSecond, SeriesKey, SeriesKind
from loadgate.stats import LatencyHistogram
from loadgate.store.liveness import derived_status


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
    if text == "{}":  # most seconds' errors and failed statuses: skip the parser
        return {}
    loaded: dict[str, int] = json.loads(text)
    return loaded


def load_settings(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def run_info(row: Any, now: datetime, lost_after_s: float) -> RunInfo:
    """A RunInfo from a `runs` row; a RUNNING run not heard from since `lost_after_s` is LOST."""
    started_at = from_db_time(row.started_at)
    assert started_at is not None  # NOT NULL column
    heartbeat_at = from_db_time(row.heartbeat_at)
    status = derived_status(RunStatus(row.status), heartbeat_at or started_at, now, lost_after_s)
    return RunInfo(
        run_id=row.run_id,
        name=row.name,
        script_path=row.script_path,
        script_text=row.script_text,
        host=row.host,
        started_at=started_at,
        ended_at=from_db_time(row.ended_at),
        status=status,
        status_reason=row.status_reason,
        settings=load_settings(row.settings),
        is_baseline=bool(row.is_baseline),
        heartbeat_at=heartbeat_at,
    )


def endpoint_second_dict(second: EndpointSecond) -> dict[str, Any]:
    """The plain-dict form: spill files and the worker-to-master wire."""
    return {
        "second": second.second,
        "method": second.method,
        "name": second.name,
        "requests": second.requests,
        "failures": second.failures,
        "bytes_received": second.bytes_received,
        "histogram": second.histogram.decode("ascii"),  # HDR's encoding is base64 already
        "ok_status_counts": dict(second.ok_status_counts),
        "failed_status_counts": dict(second.failed_status_counts),
        "errors": dict(second.errors),
        "out_of_range": second.out_of_range,
        "region": second.region,
        "parts": {
            part.value: {"requests": held.requests, "histogram": held.histogram.decode("ascii")}
            for part, held in second.parts.items()
        },
        "key_values": sorted(second.key_values),
    }


def endpoint_second_from_dict(data: Mapping[str, Any]) -> EndpointSecond:
    """The inverse of endpoint_second_dict; KeyError or ValueError for anything else.

    `region` may be missing (spill files of version 1), `parts` too (before version 4).
    """
    return EndpointSecond(
        second=int(data["second"]),
        method=str(data["method"]),
        name=str(data["name"]),
        requests=int(data["requests"]),
        failures=int(data["failures"]),
        bytes_received=int(data["bytes_received"]),
        histogram=str(data["histogram"]).encode("ascii"),
        ok_status_counts=_counts(data["ok_status_counts"]),
        failed_status_counts=_counts(data["failed_status_counts"]),
        errors=_counts(data["errors"]),
        out_of_range=int(data["out_of_range"]),
        region=str(data.get("region", "")),
        parts={
            Part(part): PartHistogram(
                requests=int(held["requests"]), histogram=str(held["histogram"]).encode("ascii")
            )
            for part, held in data.get("parts", {}).items()
        },
        key_values=frozenset(str(value) for value in data.get("key_values", ())),
    )


def part_rows(run_id: int, second: EndpointSecond) -> list[dict[str, Any]]:
    """The rows of `endpoint_second_parts` for one endpoint-second (none without parts).

    Its key values become the count of Part.KEYS, with an empty histogram.
    """
    parts = dict(second.parts)
    if second.key_values:
        empty = LatencyHistogram().encode()
        parts[Part.KEYS] = PartHistogram(requests=len(second.key_values), histogram=empty)
    return [
        {
            "run_id": run_id,
            "second": second.second,
            "method": second.method,
            "name": second.name,
            "region": second.region,
            "part": part.value,
            "requests": held.requests,
            "histogram": held.histogram,
        }
        for part, held in parts.items()
    ]


def part_second(row: Any) -> PartSecond:
    return PartSecond(
        second=row.second,
        method=row.method,
        name=row.name,
        part=Part(row.part),
        requests=row.requests,
        histogram=bytes(row.histogram),
    )


def arrival_second_dict(second: ArrivalSecond) -> dict[str, Any]:
    """The plain-dict form of the open model's counts: spill files and the worker wire."""
    return {
        "second": second.second,
        "iterations": second.iterations,
        "dropped_iterations": second.dropped_iterations,
        "start_lag": second.start_lag.decode("ascii"),  # HDR's encoding is base64 already
        "out_of_range": second.out_of_range,
    }


def arrival_second_from_dict(data: Mapping[str, Any]) -> ArrivalSecond:
    """The inverse of arrival_second_dict; KeyError or ValueError for anything else."""
    return ArrivalSecond(
        second=int(data["second"]),
        iterations=int(data["iterations"]),
        dropped_iterations=int(data["dropped_iterations"]),
        start_lag=str(data["start_lag"]).encode("ascii"),
        out_of_range=int(data["out_of_range"]),
    )


def scrape_second_dict(scrape: ScrapeSecond) -> dict[str, Any]:
    """One scrape as a plain dict (spill files): each value as [name, labels, kind, value]."""
    return {
        "url": scrape.url,
        "second": scrape.second,
        "values": [
            [key.name, dict(key.labels), key.kind.value, value]
            for key, value in scrape.values.items()
        ],
        "error": scrape.error,
        "series_dropped": scrape.series_dropped,
        "dropped_example": scrape.dropped_example,
    }


def scrape_second_from_dict(data: Mapping[str, Any]) -> ScrapeSecond:
    """The inverse of scrape_second_dict; KeyError, ValueError or TypeError for anything else."""
    url = str(data["url"])
    values = {
        SeriesKey(url, str(name), tuple(sorted((str(k), str(v)) for k, v in labels.items())),
                  SeriesKind(kind)): float(value)
        for name, labels, kind, value in data["values"]
    }  # fmt: skip
    return ScrapeSecond(
        url=url,
        second=int(data["second"]),
        values=values,
        error=str(data["error"]),
        series_dropped=int(data["series_dropped"]),
        dropped_example=str(data["dropped_example"]),
    )


def arrival_second_row(run_id: int, second: ArrivalSecond) -> dict[str, Any]:
    return {"run_id": run_id, "second": second.second, "iterations": second.iterations,
            "dropped_iterations": second.dropped_iterations, "start_lag": second.start_lag,
            "out_of_range": second.out_of_range}  # fmt: skip


def arrival_second(row: Any) -> ArrivalSecond:
    return ArrivalSecond(second=row.second, iterations=row.iterations,
                         dropped_iterations=row.dropped_iterations,
                         start_lag=bytes(row.start_lag), out_of_range=row.out_of_range)  # fmt: skip


def _counts(mapping: Mapping[str, Any]) -> dict[str, int]:
    return {str(key): int(count) for key, count in mapping.items()}


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
        "region": second.region,
    }


def endpoint_second(row: Any) -> EndpointSecond:
    return _endpoint_second(row, bytes(row.histogram))


def endpoint_second_counts(row: Any) -> EndpointSecond:
    """A row read without its histogram column: the histogram is empty bytes."""
    return _endpoint_second(row, b"")


def _endpoint_second(row: Any, histogram: bytes) -> EndpointSecond:
    return EndpointSecond(
        second=row.second,
        method=row.method,
        name=row.name,
        requests=row.requests,
        failures=row.failures,
        bytes_received=row.bytes_received,
        histogram=histogram,
        ok_status_counts=load_counts(row.ok_status_counts),
        failed_status_counts=load_counts(row.failed_status_counts),
        errors=load_counts(row.errors),
        out_of_range=row.out_of_range,
        region=row.region,
    )


def users_sample_row(run_id: int, sample: UsersSample) -> dict[str, Any]:
    return {"run_id": run_id, "second": sample.second, "users": sample.users}


def run_event_row(run_id: int, event: RunEvent) -> dict[str, Any]:
    return {"run_id": run_id, "second": event.second, "kind": event.kind.value,
            "subject": event.subject, "detail": dump_json(event.detail)}  # fmt: skip


def run_event(row: Any) -> RunEvent:
    return RunEvent(second=row.second, kind=EventKind(row.kind), subject=row.subject,
                    detail=json.loads(row.detail))  # fmt: skip


def worker_total_row(run_id: int, position: int, worker: WorkerTotal) -> dict[str, Any]:
    """Its row in run_workers: the WorkerTotal's fields, in the order the master saw them."""
    return {"run_id": run_id, "position": position, **asdict(worker)}


def worker_total(row: Any) -> WorkerTotal:
    return WorkerTotal(**{field.name: getattr(row, field.name) for field in fields(WorkerTotal)})


def endpoint_totals_row(run_id: int, totals: EndpointTotals) -> dict[str, Any]:
    errors = [
        [message, tally.count, tally.first_second, tally.last_second]
        for message, tally in totals.errors.items()
    ]
    return {
        "run_id": run_id,
        "method": totals.method,
        "name": totals.name,
        "requests": totals.requests,
        "failures": totals.failures,
        "bytes_received": totals.bytes_received,
        "out_of_range": totals.out_of_range,
        "first_second": totals.first_second,
        "last_second": totals.last_second,
        "histogram": totals.histogram,
        "ok_status_counts": dump_json(totals.ok_status_counts),
        "failed_status_counts": dump_json(totals.failed_status_counts),
        "errors": json.dumps(errors, ensure_ascii=False, separators=(",", ":")),
    }


def endpoint_totals(row: Any) -> EndpointTotals:
    return EndpointTotals(
        method=row.method,
        name=row.name,
        requests=row.requests,
        failures=row.failures,
        bytes_received=row.bytes_received,
        histogram=bytes(row.histogram),
        first_second=row.first_second,
        last_second=row.last_second,
        ok_status_counts=load_counts(row.ok_status_counts),
        failed_status_counts=load_counts(row.failed_status_counts),
        errors={
            message: ErrorTally(count=count, first_second=first, last_second=last)
            for message, count, first, last in json.loads(row.errors)
        },
        out_of_range=row.out_of_range,
    )
