"""`loadgate run` judging and writing its run: thresholds, abort-on-fail, plan, files, baseline."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import xmlschema

from loadgate.errors import ExitCode
from loadgate.model import RunStatus
from loadgate.store import RunStore
from tests.e2e.conftest import (
    RUN_TIMEOUT_S,
    SCRIPTS,
    RunLoadgate,
    Target,
    assert_one_line_error,
    loadgate_command,
    read_json,
)

PLAIN = SCRIPTS / "plain.py"
JUNIT_XSD = Path(__file__).parents[1] / "report" / "junit.xsd"


def test_thresholds_pass_and_fail_with_exit_codes_and_every_file(
    loadgate: RunLoadgate, shared_target: Target, db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"  # does not exist yet: created before the run
    result = loadgate(
        "run", PLAIN, "-H", shared_target.url, "-u", "2", "-t", "3s", "--db", db_url, "-q",
        "--threshold", "error_rate < 1%",
        "--threshold", "ping: p99 < 0.001ms",
        "--json", out / "summary.json",
        "--report", out / "report.html",
        "--junit", out / "junit.xml",
        "--csv", out / "plain",
    )  # fmt: skip
    assert result.returncode == ExitCode.THRESHOLDS_FAILED, result.stderr
    assert "Thresholds: 1 of 2 passed" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == RunStatus.COMPLETED
    assert summary["total"]["requests"] > 0
    assert "chart-latency" in (out / "report.html").read_text()
    xmlschema.XMLSchema(JUNIT_XSD).validate(out / "junit.xml")
    junit = (out / "junit.xml").read_text()
    assert "ping: p99 &lt; 0.001ms" in junit or "ping: p99 < 0.001ms" in junit
    assert (out / "plain_stats.csv").read_text().startswith("Type,Name,Request Count")

    # The thresholds are stored with the run: it is judged again from the store alone.
    shown = loadgate("show", "last", "--db", db_url)
    assert "Thresholds: 1 of 2 passed" in shown.stdout, shown.stderr
    again = loadgate("report", "last", "-o", out / "again.html", "--db", db_url)
    assert again.returncode == ExitCode.OK, again.stderr
    assert "1 of 2 thresholds failed" in (out / "again.html").read_text()

    passing = loadgate(
        "run", PLAIN, "-H", shared_target.url, "-u", "1", "-t", "2s", "--db", db_url, "-q",
        "--threshold", "error_rate < 1%", "--threshold", "requests > 0",
    )  # fmt: skip
    assert passing.returncode == ExitCode.OK, passing.stderr


def test_a_bad_threshold_is_refused_before_any_load(
    loadgate: RunLoadgate, shared_target: Target, db_url: str
) -> None:
    result = loadgate(
        "run", PLAIN, "-H", shared_target.url, "-t", "2s", "--db", db_url,
        "--threshold", "p95 < fast",
    )  # fmt: skip
    assert result.returncode == ExitCode.BAD_INPUT
    assert result.stderr.strip().splitlines() == [
        "loadgate: error: bad threshold 'p95 < fast': expected a number with an optional unit "
        "(ms, s, us, %) after '<'"
    ]
    with RunStore.open(db_url) as store:
        assert store.list_runs() == []


def test_abort_on_fail_stops_the_run_and_stores_why(
    loadgate: RunLoadgate, shared_target: Target, db_url: str
) -> None:
    result = loadgate(
        "run", PLAIN, "-H", shared_target.url, "-u", "2", "-t", "60s", "--db", db_url, "-q",
        "--threshold", "p50 < 0.001ms", "--abort-on-fail",
    )  # fmt: skip
    assert result.returncode == ExitCode.THRESHOLDS_FAILED, result.stderr
    with RunStore.open(db_url) as store:
        run = store.resolve("last")
    assert run.status is RunStatus.ABORTED
    assert "p50" in run.status_reason
    assert run.duration_s < 30


def test_a_plan_file_gives_script_settings_thresholds_and_baseline(
    loadgate: RunLoadgate, shared_target: Target, db_url: str, tmp_path: Path
) -> None:
    plan = tmp_path / "loadgate.toml"
    plan.write_text(
        f"""
[run]
script = "{PLAIN}"
users = 2
run_time = "3s"
host = "{shared_target.url}"
name = "planned"

[thresholds]
checks = ["error_rate < 1%"]
endpoints = {{ "ping" = ["p99 < 10s"] }}

[compare]
baseline = "planned"
"""
    )
    first = loadgate("run", "--plan", plan, "--db", db_url, "-q")
    assert first.returncode == ExitCode.OK, first.stderr
    assert "Thresholds: 2 of 2 passed" in first.stdout
    assert "no baseline of 'planned'" in first.stderr
    # A flag overrides the plan; the second run is compared with the first.
    second = loadgate("run", "--plan", plan, "--db", db_url, "-q", "-t", "2s")
    assert second.returncode in (ExitCode.OK, ExitCode.REGRESSION), second.stderr
    assert "base" in second.stdout.lower()
    with RunStore.open(db_url) as store:
        runs = [listing.run for listing in store.list_runs()]
    assert [r.name for r in runs] == ["planned", "planned"]
    assert runs[0].settings["run_time_s"] == 2
    assert runs[1].settings["run_time_s"] == 3


def test_no_script_anywhere_is_bad_input(loadgate: RunLoadgate, db_url: str) -> None:
    result = loadgate("run", "--db", db_url)
    assert result.returncode == ExitCode.BAD_INPUT
    assert "LOCUSTFILE" in result.stderr


def test_files_are_written_even_when_the_summary_cannot_be_printed(
    shared_target: Target, db_url: str, tmp_path: Path
) -> None:
    """stdout on a full device: printing the summary fails, the files asked for are there."""
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [
                str(loadgate_command()), "run", str(PLAIN), "-H", shared_target.url,
                "-u", "1", "-t", "2s", "--db", db_url, "-q",
                "--json", str(tmp_path / "summary.json"),
                "--report", str(tmp_path / "report.html"),
            ],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=RUN_TIMEOUT_S,
        )  # fmt: skip
    line = assert_one_line_error(result, ExitCode.OUTPUT_ERROR)
    assert "cannot print the summary: No space left on device" in line
    assert read_json(tmp_path / "summary.json")["total"]["requests"] > 0
    assert "chart-latency" in (tmp_path / "report.html").read_text()
    with RunStore.open(db_url) as store:
        assert store.resolve("last").status is RunStatus.COMPLETED
