"""A settled run's folded read (timeline, findings' series, parts) as one stored document.

Folding a run's seconds costs about 100 µs of CPU per stored endpoint-second
(decoding, adding and reading histograms): 0.5 s for a 10-minute run of 8
endpoints, on every first view of its page. A settled run's seconds no longer
change, so its whole-run reader keeps what it folded in `run_views`, keyed to
what the run's data is (`data_key`), and later readers of the whole run load
it instead: the same values, as zlib-compressed JSON. Summaries still come
from the stored totals; findings are still computed from the series.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loadgate.model import Part
from loadgate.stats.parts import EndpointParts, PartBuckets, PartLatency, RunParts
from loadgate.stats.series import EndpointSeries, RunSeries, SecondPoint
from loadgate.stats.timeline import EndpointTimeline, Timeline
from loadgate.store.schema import (
    endpoint_second_parts,
    endpoint_seconds,
    run_views,
    runs,
    users_samples,
)


@dataclass(frozen=True, kw_only=True)
class FoldedView:
    """What a whole-run read folds from the seconds, besides the summary's totals."""

    timeline: Timeline
    series: RunSeries
    parts: RunParts


# Bumped whenever what the folds compute, or this document's layout, changes:
# a document of another version is never read, only replaced.
VIEW_VERSION = 1


def view_data_key(conn: Connection, run_id: int) -> str:
    """What the run's data is now: its row's fields, and the rows of each table a view reads.

    Rows are only ever added to a run, each with a higher id: (count, highest
    id) changes with any of them. Cheap: index ranges, no row is decoded.
    """
    run = conn.execute(
        sa.select(runs.c.status, runs.c.started_at, runs.c.ended_at, runs.c.requests).where(
            runs.c.run_id == run_id
        )
    ).one_or_none()
    if run is None:
        return ""  # deleted meanwhile: no kept view matches it
    counts = []
    for table in (endpoint_seconds, endpoint_second_parts, users_samples):
        count, top = conn.execute(
            sa.select(sa.func.count(), sa.func.max(table.c.id)).where(table.c.run_id == run_id)
        ).one()
        counts.append(f"{count}/{top or 0}")
    return f"v{VIEW_VERSION}:{':'.join(str(field) for field in run)}:{':'.join(counts)}"


def kept_document(conn: Connection, run_id: int, data_key: str) -> bytes | None:
    """The run's kept view document, if it was kept from the data `data_key` says."""
    row = conn.execute(
        sa.select(run_views.c.data_key, run_views.c.document).where(run_views.c.run_id == run_id)
    ).one_or_none()
    return bytes(row.document) if row is not None and row.data_key == data_key else None


def replace_document(conn: Connection, run_id: int, data_key: str, document: bytes) -> None:
    """Store the run's view document, replacing any older one."""
    conn.execute(sa.delete(run_views).where(run_views.c.run_id == run_id))
    conn.execute(sa.insert(run_views), {"run_id": run_id, "data_key": data_key,
                                        "document": document})  # fmt: skip


def view_document(view: FoldedView) -> bytes:
    document = {
        "timeline": _timeline_json(view.timeline),
        "series": _series_json(view.series),
        "parts": _parts_json(view.parts),
    }
    return zlib.compress(json.dumps(document, separators=(",", ":")).encode())


def read_view_document(data: bytes) -> FoldedView:
    document = json.loads(zlib.decompress(data))
    return FoldedView(
        timeline=_timeline(document["timeline"]),
        series=_series(document["series"]),
        parts=_parts(document["parts"]),
    )


def _endpoint_timeline_json(endpoint: EndpointTimeline) -> dict[str, Any]:
    return {
        "method": endpoint.method, "name": endpoint.name, "ok": endpoint.ok_per_s,
        "failed": endpoint.failed_per_s, "p50": endpoint.p50_ms, "p95": endpoint.p95_ms,
        "p99": endpoint.p99_ms, "statuses": endpoint.status_per_s,
    }  # fmt: skip


def _endpoint_timeline(data: Mapping[str, Any]) -> EndpointTimeline:
    return EndpointTimeline(
        method=data["method"], name=data["name"], ok_per_s=tuple(data["ok"]),
        failed_per_s=tuple(data["failed"]), p50_ms=tuple(data["p50"]),
        p95_ms=tuple(data["p95"]), p99_ms=tuple(data["p99"]),
        status_per_s={status: tuple(values) for status, values in data["statuses"].items()},
    )  # fmt: skip


def _timeline_json(timeline: Timeline) -> dict[str, Any]:
    return {
        "start": timeline.start_second, "offsets": timeline.offsets_s, "users": timeline.users,
        "endpoints": [_endpoint_timeline_json(e) for e in timeline.endpoints],
        "total": _endpoint_timeline_json(timeline.total), "bucket_s": timeline.bucket_s,
    }  # fmt: skip


def _timeline(data: Mapping[str, Any]) -> Timeline:
    return Timeline(
        start_second=data["start"], offsets_s=tuple(data["offsets"]), users=tuple(data["users"]),
        endpoints=tuple(_endpoint_timeline(e) for e in data["endpoints"]),
        total=_endpoint_timeline(data["total"]), bucket_s=data["bucket_s"],
    )  # fmt: skip


def _series_json(series: RunSeries) -> dict[str, Any]:
    return {
        "start": series.start_second,
        "endpoints": [
            {
                "method": endpoint.method,
                "name": endpoint.name,
                # [second, requests, failures, ok, failed, errors, p95 µs or null]
                "points": [
                    [at, p.requests, p.failures, p.ok, p.failed, p.errors, p.p95_us]
                    for at, p in endpoint.points.items()
                ],
            }
            for endpoint in series.endpoints
        ],
        "users": list(series.users.items()),
        "skipped_span_s": series.skipped_span_s,
    }


def _series(data: Mapping[str, Any]) -> RunSeries:
    return RunSeries(
        start_second=data["start"],
        endpoints=tuple(
            EndpointSeries(
                method=endpoint["method"],
                name=endpoint["name"],
                points={
                    at: SecondPoint.of(
                        requests=requests,
                        failures=failures,
                        ok=ok,
                        failed=failed,
                        errors=errors,
                        p95_us=p95_us,
                    )
                    for at, requests, failures, ok, failed, errors, p95_us in endpoint["points"]
                },
            )
            for endpoint in data["endpoints"]
        ),
        users=dict(data["users"]),
        skipped_span_s=data["skipped_span_s"],
    )


def _parts_json(parts: RunParts) -> dict[str, Any]:
    return {
        "bucket_s": parts.bucket_s,
        "offsets": parts.offsets_s,
        "users": parts.users,
        "endpoints": [
            {
                "method": endpoint.method,
                "name": endpoint.name,
                "totals": {part.value: asdict(total) for part, total in endpoint.totals.items()},
                "buckets": {
                    part.value: [buckets.requests, buckets.p95_ms]
                    for part, buckets in endpoint.buckets.items()
                },
            }
            for endpoint in parts.endpoints
        ],
    }


def _parts(data: Mapping[str, Any]) -> RunParts:
    return RunParts(
        bucket_s=data["bucket_s"],
        offsets_s=tuple(data["offsets"]),
        users=tuple(data["users"]),
        endpoints=tuple(
            EndpointParts(
                method=endpoint["method"],
                name=endpoint["name"],
                totals={
                    Part(part): PartLatency(**total) for part, total in endpoint["totals"].items()
                },
                buckets={
                    Part(part): PartBuckets(requests=tuple(requests), p95_ms=tuple(p95_ms))
                    for part, (requests, p95_ms) in endpoint["buckets"].items()
                },
            )
            for endpoint in data["endpoints"]
        ),
    )
