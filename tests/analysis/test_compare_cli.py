"""`loadgate compare` and `loadgate baseline` on a real SQLite store filled with synthetic runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loadgate.errors import ExitCode
from loadgate.model import EndpointSecond, NewRun, RunStatus
from loadgate.run_comparing import find_baseline
from loadgate.store import RunStore
from tests.analysis.test_compare import START_S, synthetic_run


def loadgate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadgate", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


def store_run(
    store: RunStore,
    seconds: list[EndpointSecond],
    *,
    name: str = "checkout",
    status: RunStatus = RunStatus.COMPLETED,
) -> int:
    started_at = datetime.fromtimestamp(START_S, tz=UTC)
    run_id = store.create_run(
        NewRun(
            name=name,
            script_path="tests/e2e/scripts/compare_mix.py",
            script_text="",
            host="http://127.0.0.1:9",
            started_at=started_at,
        )
    )
    store.append(run_id, seconds)
    store.finish_run(run_id, status, started_at + timedelta(seconds=20))
    return run_id


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A store with runs 1 and 2 of the same build, and run 3 with /users 20 ms slower."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    with RunStore.open(url) as store:
        store_run(store, synthetic_run(1))
        store_run(store, synthetic_run(2))
        store_run(store, synthetic_run(3, shift_ms={"GET /users": 20.0}))
    return url


def test_same_build_is_unchanged_and_exits_0(db_url: str) -> None:
    result = loadgate("compare", "1", "2", "--db", db_url)
    assert result.returncode == ExitCode.OK, result.stderr
    assert "unchanged: no change beyond run-to-run noise" in result.stdout
    assert "GET /users" in result.stdout
    assert "regression" not in result.stdout


def test_a_regression_exits_98_and_names_the_endpoint(db_url: str) -> None:
    result = loadgate("compare", "1", "last", "--db", db_url)
    assert result.returncode == ExitCode.REGRESSION, result.stderr
    conclusion = result.stdout.strip().splitlines()[-1]
    assert conclusion.startswith("regression: ")
    assert "GET /users p50 +" in conclusion
    assert "GET /fast" not in conclusion


def test_json_is_one_document_with_every_metric(db_url: str, tmp_path: Path) -> None:
    report = tmp_path / "out" / "compare.html"
    result = loadgate("compare", "1", "3", "--db", db_url, "--json", "--report", str(report))
    assert result.returncode == ExitCode.REGRESSION, result.stderr
    document = json.loads(result.stdout)
    assert document["verdict"] == "regression"
    assert document["base"]["run_id"] == 1
    assert document["candidate"]["run_id"] == 3
    assert {(f["name"], f["metric"]) for f in document["regressions"]} >= {
        ("/users", "p50"),
        ("/users", "p95"),
    }
    assert {f["name"] for f in document["regressions"]} == {"/users", "Total"}
    users = next(e for e in document["endpoints"] if e["name"] == "/users")
    p50 = users["metrics"]["p50"]
    assert p50["unit"] == "ms"
    assert p50["delta"] == pytest.approx(20.0, abs=3.0)
    assert p50["interval"][0] > 10.0
    assert set(users["metrics"]) == {"p50", "p95", "p99", "rps", "error_rate"}
    assert document["method"]["resamples"] == 1000
    assert f"written to {report}" in result.stderr
    page = report.read_text()
    assert "Plotly" in page
    assert 'data-verdict="regression"' in page
    assert "compare-curve-0-figure" in page


def test_options_move_the_practical_minimum(db_url: str) -> None:
    result = loadgate("compare", "1", "3", "--db", db_url, "--latency-floor", "50", "--json")
    assert result.returncode == ExitCode.OK, result.stderr
    assert json.loads(result.stdout)["verdict"] == "unchanged"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1", "99"), "no run 99"),
        (("nope", "1"), "no run with id or name 'nope'"),
        (("2", "2"), "are the same run (2)"),
    ],
)
def test_bad_references_exit_2(db_url: str, args: tuple[str, str], message: str) -> None:
    result = loadgate("compare", *args, "--db", db_url)
    assert result.returncode == ExitCode.BAD_INPUT
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_baseline_marks_one_run_per_name(db_url: str) -> None:
    assert loadgate("baseline", "1", "--db", db_url).returncode == 0
    result = loadgate("baseline", "2", "--db", db_url)
    assert result.returncode == 0, result.stderr
    assert "run 1 is no longer the baseline of 'checkout'" in result.stdout
    assert "run 2 is now the baseline of 'checkout'" in result.stdout
    with RunStore.open(db_url) as store:
        baseline = store.latest_baseline("checkout")
        assert baseline is not None
        assert baseline.run_id == 2
        assert not store.get_run(1).is_baseline
    assert loadgate("baseline", "2", "--unset", "--db", db_url).returncode == 0
    with RunStore.open(db_url) as store:
        assert store.latest_baseline("checkout") is None


def test_find_baseline_prefers_the_marked_run(tmp_path: Path) -> None:
    with RunStore.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        seconds = synthetic_run(1, seconds=2)
        first = store_run(store, seconds)
        second = store_run(store, seconds)
        failed = store_run(store, seconds, status=RunStatus.FAILED)
        other = store_run(store, seconds, name="other")
        new = store_run(store, seconds)
        found = find_baseline(store, "checkout", new)
        assert found is not None
        assert found.run_id == second  # the failed run and the other name are skipped
        assert failed > second
        assert other > second
        store.set_baseline(first)
        marked = find_baseline(store, "checkout", new)
        assert marked is not None
        assert marked.run_id == first
        assert find_baseline(store, "never-run", new) is None
        assert find_baseline(store, "checkout", first) is None  # never itself


def test_the_table_is_printed_whole_when_stdout_is_not_a_terminal(db_url: str) -> None:
    """A CI log is not a terminal: rich would assume 80 columns and cut cells with '…'."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    result = subprocess.run(
        [sys.executable, "-m", "loadgate", "compare", "1", "3", "--db", db_url],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert result.returncode == ExitCode.REGRESSION, result.stderr
    # "…" stands between an interval's ends; right after a character, it is a cut cell.
    assert not re.search(r"\S…", result.stdout), result.stdout
    assert "informational" in result.stdout


def test_find_baseline_looks_past_a_thousand_runs_of_other_names(tmp_path: Path) -> None:
    with RunStore.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        old = store_run(store, [])
        for _ in range(1000):
            store.create_run(
                NewRun(name="other", script_path="x.py", script_text="", host="http://h",
                       started_at=datetime.fromtimestamp(START_S, tz=UTC))
            )  # fmt: skip
        new = store_run(store, [])
        found = find_baseline(store, "checkout", new)
        assert found is not None and found.run_id == old
