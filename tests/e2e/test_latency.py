"""Latency is exact: loadgate's quantiles match both the raw client times and the server's truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    SCRIPTS,
    RunLoadgate,
    Target,
    endpoints_by_name,
    locust_counts,
    our_counts,
    read_json,
)

pytestmark = pytest.mark.slow

QUANTILES = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99}
HDR_RELATIVE_ERROR = 0.001  # 3 significant digits
US_MS = 0.001  # one microsecond, our unit, in ms


def hdr_rank_value(values: list[float], quantile: float) -> float:
    """The sample HDR reports for a quantile: rank round(q·N), counted from 1."""
    ordered = sorted(values)
    rank = max(1, int(quantile * len(ordered) + 0.5))
    return ordered[rank - 1]


def test_quantiles_are_exact_and_match_the_servers_truth(
    loadgate: RunLoadgate, own_target: Target, db_url: str, tmp_path: Path
) -> None:
    raw_file, counts_file, json_file = (tmp_path / n for n in ("raw.json", "counts.json", "s.json"))
    result = loadgate(
        "run", SCRIPTS / "latency.py", "-H", own_target.url, "-u", "4", "-r", "4", "-t", "6s",
        "--db", db_url, "--json", json_file,
        env={"RAW_TIMES_FILE": str(raw_file), "LOCUST_COUNTS_FILE": str(counts_file)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = read_json(json_file)
    endpoints = endpoints_by_name(summary)
    mix = endpoints["mix"]
    assert mix["requests"] > 1000, "too few requests for a p99"

    # 1. Every response time Locust measured is in the histogram, to 3 significant digits.
    raw_ms = [time_ms for name, time_ms in json.loads(raw_file.read_text()) if name == "mix"]
    assert len(raw_ms) == mix["requests"]
    for key, quantile in QUANTILES.items():
        exact_ms = hdr_rank_value(raw_ms, quantile)
        assert abs(mix[key] - exact_ms) <= exact_ms * HDR_RELATIVE_ERROR + US_MS, (key, exact_ms)

    # 2. Against the server's own service times: within 1%, plus the transport time
    # (the zero-delay endpoint's p99 in the same run).
    truth_ms = [us / 1000 for us in own_target.truth_us()["/mix"]]
    transport_ms = endpoints["zero"]["p99_ms"]
    for key, quantile in QUANTILES.items():
        expected_ms = hdr_rank_value(truth_ms, quantile)
        assert expected_ms * 0.99 <= mix[key] <= expected_ms * 1.01 + transport_ms, (
            key,
            expected_ms,
            transport_ms,
        )
    assert hdr_rank_value(truth_ms, 0.5) < 1.0, "the server's p50 should be sub-millisecond"

    # 3. The same run's totals agree with Locust's own statistics.
    ours = our_counts(summary)
    theirs = locust_counts(counts_file)
    assert {k: v["requests"] for k, v in ours.items()} == {
        k: v["requests"] for k, v in theirs.items()
    }
    assert {k: v["failures"] for k, v in ours.items()} == {
        k: v["failures"] for k, v in theirs.items()
    }
