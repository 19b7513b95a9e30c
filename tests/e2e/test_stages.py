"""`--stages`: users over time from a flag, as a load shape; a script's own shape wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadgate.store import RunStore
from tests.e2e.conftest import SCRIPTS, RunLoadgate, read_json

pytestmark = pytest.mark.slow


def test_stages_reach_each_user_count_on_time_and_end_the_run(
    loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    json_file = tmp_path / "s.json"
    result = loadgate(
        "run", SCRIPTS / "plain.py", "--stages", "2s:4,4s:4,2s:0", "-u", "50",
        "--db", db_url, "--json", json_file, "-q", "--exit-code-on-error", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "--stages decides users and run time: -u ignored" in result.stderr
    summary = read_json(json_file)
    assert (summary["status"], summary["status_reason"]) == ("completed", "the load shape ended")
    assert summary["settings"]["stages"] == "2s:4,4s:4,2s:0"
    assert summary["users_max"] == 4
    with RunStore.open(db_url) as store:
        samples = store.user_samples(summary["run_id"])
    first = samples[0].second
    users = {s.second - first: s.users for s in samples}
    # The ramp ends at 2 s; Locust polls the shape about once a second.
    assert all(users[offset] == 4 for offset in (3, 4, 5)), users
    assert users[1] < 4, users  # still ramping
    assert samples[-1].users == 0 or users[max(users)] <= 2, users
    assert summary["duration_s"] < 12


def test_a_scripts_own_shape_wins_over_stages_with_a_warning(
    loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    json_file = tmp_path / "s.json"
    result = loadgate(
        "run", SCRIPTS / "shape.py", "--stages", "1m:50", "--db", db_url,
        "--json", json_file, "-q", "--exit-code-on-error", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "the script's load shape ThreeStages decides users and run time: --stages ignored" in (
        result.stderr
    )
    summary = read_json(json_file)
    assert summary["settings"]["shape"] == "ThreeStages"
    assert summary["users_max"] == 4
    assert summary["duration_s"] < 20


def test_bad_stages_are_one_line_naming_each(loadgate: RunLoadgate, db_url: str) -> None:
    result = loadgate("run", SCRIPTS / "plain.py", "--stages", "10s:x,0s:3", "--db", db_url)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "'10s:x'" in lines[0] and "'0s:3'" in lines[0], result.stderr
