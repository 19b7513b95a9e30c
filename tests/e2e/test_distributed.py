"""`--processes`: a master and local Locust workers, one stored run, merged exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import SCRIPTS, RunLoadgate, endpoints_by_name, read_json
from tests.e2e.test_latency import HDR_RELATIVE_ERROR, US_MS, hdr_rank_value

pytestmark = pytest.mark.slow

QUANTILES = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99, "max_ms": 1.0}


def raw_times_by_worker(folder: Path) -> dict[str, dict[str, list[float]]]:
    """{pid: {endpoint name: [response time in ms]}} as each worker's script wrote them."""
    by_worker: dict[str, dict[str, list[float]]] = {}
    for file in folder.glob("*.txt"):
        times = by_worker.setdefault(file.stem, {})
        for line in file.read_text().splitlines():
            name, _, time_ms = line.rpartition(" ")
            times.setdefault(name, []).append(float(time_ms))
    return by_worker


def test_two_processes_merge_to_the_union_of_their_samples(
    loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    raw_dir, json_file = tmp_path / "raw", tmp_path / "s.json"
    raw_dir.mkdir()
    result = loadgate(
        "run", SCRIPTS / "raw_per_worker.py", "--processes", "2", "-u", "6", "-r", "6",
        "-t", "5s", "--db", db_url, "--json", json_file,
        env={"RAW_TIMES_DIR": str(raw_dir)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = read_json(json_file)
    assert summary["settings"]["processes"] == 2
    assert summary["users_max"] == 6, "users per second come from the master"

    by_worker = raw_times_by_worker(raw_dir)
    assert len(by_worker) == 2, "both workers must have sent requests"
    assert all(sum(len(t) for t in times.values()) > 50 for times in by_worker.values())

    endpoints = endpoints_by_name(summary)
    assert set(endpoints) == {"products", "search"}
    for name, endpoint in endpoints.items():
        per_worker = [times.get(name, []) for times in by_worker.values()]
        union = [time_ms for times in per_worker for time_ms in times]
        # Counts: the merged run has exactly the sum of what the workers measured.
        assert endpoint["requests"] == sum(len(times) for times in per_worker), name
        # Percentiles: those of the union of raw samples, to HDR's 3 significant digits.
        for key, quantile in QUANTILES.items():
            exact_ms = hdr_rank_value(union, quantile)
            assert abs(endpoint[key] - exact_ms) <= exact_ms * HDR_RELATIVE_ERROR + US_MS, (
                name,
                key,
                endpoint[key],
                exact_ms,
            )

    # The parts travel from the workers too: the built-in gateway caches search
    # (each answer a HIT or a MISS) and not products (BYPASS), and times upstream.
    search, products = endpoints["search"], endpoints["products"]
    assert search["cache"]["hits"] + search["cache"]["misses"] == search["requests"]
    assert search["timing"]["requests"] == search["cache"]["misses"]
    assert products["cache"] is None
    assert products["timing"]["requests"] == products["requests"]

    # What each worker sent is stored, and adds up to the run.
    workers = summary["workers"]
    assert len(workers) == 2
    assert sorted(w["requests"] for w in workers) == sorted(
        sum(len(t) for t in times.values()) for times in by_worker.values()
    )
    assert all(0 < w["cpu_percent_mean"] <= 100 for w in workers)
    assert "Workers" in result.stdout
    assert summary["total"]["requests"] == sum(w["requests"] for w in workers)
