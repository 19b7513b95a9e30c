"""Locust scripts run unchanged: users, task sets, catch_response, events, tags, shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadgate.errors import ExitCode
from loadgate.model import RunStatus
from loadgate.store import RunStore
from tests.e2e.conftest import (
    SCRIPTS,
    RunLoadgate,
    Target,
    endpoints_by_name,
    locust_counts,
    names,
    our_counts,
    read_json,
)

pytestmark = pytest.mark.slow


def test_a_script_using_most_of_locust_runs_and_agrees_with_locust(
    loadgate: RunLoadgate, shared_target: Target, db_url: str, tmp_path: Path
) -> None:
    counts_file, seen_file, json_file = (tmp_path / n for n in ("c.json", "seen.json", "s.json"))
    result = loadgate(
        "run", SCRIPTS / "features.py", "-H", shared_target.url, "-u", "4", "-r", "4",
        "-t", "4s", "-E", "slow", "--db", db_url, "--json", json_file,
        env={"LOCUST_COUNTS_FILE": str(counts_file), "FEATURES_FILE": str(seen_file)},
    )  # fmt: skip
    # "validated" fails on purpose: as under Locust, failed requests exit 1.
    assert result.returncode == ExitCode.REQUESTS_FAILED, result.stderr
    summary = read_json(json_file)
    assert summary["status"] == "completed"
    assert names(summary) == [
        "browse: page", "checkout: cart", "checkout: pay", "limited", "login", "unavailable",
        "validated",
    ]  # fmt: skip
    endpoints = endpoints_by_name(summary)
    # catch_response: a 429 accepted, a 200 rejected; both keep their status.
    limited, validated = endpoints["limited"], endpoints["validated"]
    assert limited["failures"] == 0
    assert limited["status_counts"] == {"429": limited["requests"]}
    assert limited["expected_status_counts"] == {"429": limited["requests"]}
    assert validated["failures"] == validated["requests"] > 0
    assert validated["unexpected_status_counts"] == {"200": validated["requests"]}
    assert endpoints["unavailable"]["status_counts"] == {
        "503": endpoints["unavailable"]["requests"]
    }
    assert endpoints["checkout: pay"]["method"] == "POST"

    seen = json.loads(seen_file.read_text())
    assert seen["test_start"] == 1
    assert seen["test_stop"] == 1
    assert seen["on_start"] >= 1
    assert seen["on_stop"] >= 1
    assert seen["requests"] == summary["total"]["requests"], "the script's own listener fired"
    assert "cart" in seen["steps"]
    first_pay = seen["steps"].index("pay")
    assert seen["steps"][first_pay - 1] == "cart", "SequentialTaskSet kept its order"

    theirs = locust_counts(counts_file)
    assert our_counts(summary) == {
        key: {"requests": v["requests"], "failures": v["failures"]} for key, v in theirs.items()
    }


def test_a_load_shape_runs_its_stages_and_ends_the_run(
    loadgate: RunLoadgate, shared_target: Target, db_url: str
) -> None:
    result = loadgate(
        "run", SCRIPTS / "shape.py", "-H", shared_target.url, "-u", "50", "--db", db_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ThreeStages decides users and run time: -u ignored" in result.stderr
    with RunStore.open(db_url) as store:
        run = store.resolve("last")
        summary = store.summary(run.run_id)
        users = {sample.users for sample in store.user_samples(run.run_id)}
    assert run.status is RunStatus.COMPLETED
    assert run.status_reason == "the load shape ended"
    assert run.settings["shape"] == "ThreeStages"
    assert 4.0 <= run.duration_s <= 8.0
    assert summary.users_max == 4
    assert {2, 4} <= users
    assert summary.total.requests > 0
