"""Scripts that read Locust's `environment.stats` (filled from loadgate's collector) in real runs.

The uses Locust documents: a `quitting` listener that judges the run from
`stats.total` (fail_ratio, avg_response_time, a percentile) and sets
`environment.process_exit_code`; `stats.get(name, method)`; `stats.errors`;
a LoadTestShape that reads `current_rps`. Each is compared with loadgate's
stored summary of the same run, alone and with a master and two workers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import RunLoadgate, Target, endpoints_by_name, read_json

pytestmark = pytest.mark.slow

JUDGING = """import json
import os
from pathlib import Path

from locust import HttpUser, constant, events, task


class Checker(HttpUser):
    wait_time = constant(0.05)

    @task(3)
    def fine(self):
        self.client.get("/zero", name="fine")

    @task
    def broken(self):
        self.client.get("/status/503", name="broken")


@events.quitting.add_listener
def judge(environment, **_kwargs):
    stats = environment.stats
    total = stats.total
    Path(os.environ["STATS_FILE"]).write_text(json.dumps({
        "requests": total.num_requests,
        "failures": total.num_failures,
        "fail_ratio": total.fail_ratio,
        "avg_ms": total.avg_response_time,
        "p95_ms": total.get_response_time_percentile(0.95),
        "total_rps": total.total_rps,
        "fine": stats.get("fine", "GET").num_requests,
        "broken_failures": stats.get("broken", "GET").num_failures,
        "entries": sorted(f"{method} {name}" for name, method in stats.entries),
        "errors": {error.to_name(): error.occurrences for error in stats.errors.values()},
    }))
    if total.fail_ratio > 0.01:
        environment.process_exit_code = 7
"""

SHAPE = """import json
import os
from pathlib import Path

from locust import HttpUser, LoadTestShape, constant, task


class Reader(HttpUser):
    wait_time = constant(0.05)

    @task
    def read(self):
        self.client.get("/zero", name="read")


class Probe(LoadTestShape):
    seen = []

    def tick(self):
        if self.get_run_time() > 7:
            return None
        self.seen.append(self.runner.environment.stats.total.current_rps)
        Path(os.environ["STATS_FILE"]).write_text(json.dumps(self.seen))
        return (4, 4)
"""


def judged_run(
    loadgate: RunLoadgate, target: Target, db_url: str, tmp_path: Path, *extra: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run JUDGING; (what the script read from environment.stats, loadgate's summary)."""
    script, stats_file, json_file = tmp_path / "judge.py", tmp_path / "st.json", tmp_path / "s.json"
    script.write_text(JUDGING)
    result = loadgate(
        "run", script, "-H", target.url, "-u", "4", "-r", "4", "-t", "4s", "-q",
        "--db", db_url, "--json", json_file, *extra,
        env={"STATS_FILE": str(stats_file)},
    )  # fmt: skip
    assert result.returncode == 7, ("the script's exit code from fail_ratio", result.stderr)
    return json.loads(stats_file.read_text()), read_json(json_file)


def assert_agrees(seen: dict[str, Any], summary: dict[str, Any]) -> None:
    endpoints = endpoints_by_name(summary)
    assert seen["requests"] == summary["total"]["requests"] > 20
    assert seen["failures"] == summary["total"]["failures"] == endpoints["broken"]["requests"]
    assert seen["fail_ratio"] == pytest.approx(seen["failures"] / seen["requests"])
    assert seen["fine"] == endpoints["fine"]["requests"]
    assert seen["broken_failures"] == endpoints["broken"]["failures"]
    assert seen["entries"] == ["GET broken", "GET fine"]
    assert seen["errors"] == {
        f"{e['method']} {e['name']}: {e['message']}": e["count"] for e in summary["errors"]
    }
    assert sum(seen["errors"].values()) == seen["failures"]
    # Locust's rank (one above nearest-rank) and rounding (whole ms under 100 ms)
    # of loadgate's µs values: among the samples next to loadgate's own p95.
    total = summary["total"]
    assert total["p90_ms"] - 1.0 <= seen["p95_ms"] <= total["p99_ms"] + 1.0
    assert seen["avg_ms"] == pytest.approx(summary["total"]["mean_ms"], rel=0.01, abs=0.01)
    assert seen["total_rps"] > 0


def test_a_quitting_listener_judges_the_run_from_environment_stats(
    loadgate: RunLoadgate, shared_target: Target, db_url: str, tmp_path: Path
) -> None:
    seen, summary = judged_run(loadgate, shared_target, db_url, tmp_path)
    assert_agrees(seen, summary)


def test_a_masters_environment_stats_add_up_its_workers(
    loadgate: RunLoadgate, shared_target: Target, db_url: str, tmp_path: Path
) -> None:
    seen, summary = judged_run(loadgate, shared_target, db_url, tmp_path, "--processes", "2")
    assert summary["settings"]["processes"] == 2
    assert_agrees(seen, summary)


def test_a_shape_reads_the_current_rate(
    loadgate: RunLoadgate, shared_target: Target, db_url: str, tmp_path: Path
) -> None:
    script, stats_file = tmp_path / "shape.py", tmp_path / "rps.json"
    script.write_text(SHAPE)
    result = loadgate(
        "run", script, "-H", shared_target.url, "-q", "--db", db_url,
        env={"STATS_FILE": str(stats_file)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rates = json.loads(stats_file.read_text())
    assert rates[0] == 0, "no request before the first tick"
    # 4 users, a request every 50 ms or so each: tens a second once seconds are in.
    assert max(rates) > 10, rates
