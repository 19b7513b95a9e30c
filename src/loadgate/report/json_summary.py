"""The run summary as JSON: a stable document other tools can read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loadgate.analysis.finding import Finding
from loadgate.analysis.status_classes import status_breakdown
from loadgate.stats.summary import EndpointSummary, RunSummary

SCHEMA_VERSION = 1


def _rounded(value_ms: float) -> float:
    # HDR values are whole microseconds: three decimals of a millisecond are exact.
    return round(value_ms, 3)


def endpoint_to_dict(endpoint: EndpointSummary) -> dict[str, Any]:
    breakdown = status_breakdown(endpoint.ok_status_counts, endpoint.failed_status_counts)
    return {
        "method": endpoint.method,
        "name": endpoint.name,
        "requests": endpoint.requests,
        "failures": endpoint.failures,
        "error_rate": round(endpoint.error_rate, 6),
        "rps": round(endpoint.rps, 3),
        "p50_ms": _rounded(endpoint.p50_ms),
        "p90_ms": _rounded(endpoint.p90_ms),
        "p95_ms": _rounded(endpoint.p95_ms),
        "p99_ms": _rounded(endpoint.p99_ms),
        "p999_ms": _rounded(endpoint.p999_ms),
        "max_ms": _rounded(endpoint.max_ms),
        "min_ms": _rounded(endpoint.min_ms),
        "mean_ms": _rounded(endpoint.mean_ms),
        "bytes_received": endpoint.bytes_received,
        "status_counts": endpoint.status_counts,
        "expected_status_counts": dict(breakdown.expected),
        "unexpected_status_counts": dict(breakdown.unexpected),
        "out_of_range": endpoint.out_of_range,
    }


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind,
        "severity": finding.severity.value,
        "sentence": finding.sentence,
        "endpoint": finding.endpoint,
        "from_s": finding.from_s,
        "to_s": finding.to_s,
        "numbers": dict(finding.numbers),
    }


def summary_to_dict(
    summary: RunSummary, findings: Sequence[Finding] | None = None
) -> dict[str, Any]:
    """The summary as plain data; `findings` (analysis.findings.find_all) when computed."""
    run = summary.run
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run.run_id,
        "name": run.name,
        "status": run.status.value,
        "status_reason": run.status_reason,
        "script": run.script_path,
        "host": run.host,
        "started_at": run.started_at.isoformat(),
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
        "duration_s": round(summary.duration_s, 3),
        "users_max": summary.users_max,
        "settings": dict(run.settings),
        "endpoints": [endpoint_to_dict(e) for e in summary.endpoints],
        "total": endpoint_to_dict(summary.total),
        "errors": [
            {"method": e.method, "name": e.name, "message": e.message, "count": e.count}
            for e in summary.errors
        ],
    }
    if findings is not None:
        data["findings"] = [finding_to_dict(f) for f in findings]
    return data
