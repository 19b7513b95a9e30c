"""The seed guide's four scripts, unmodified, against the built-in gateway (no -H)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadgate.cli import COMMANDS
from tests.e2e.conftest import REPO, RunLoadgate, read_json

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif("gateway" not in COMMANDS, reason="`loadgate gateway` is not built yet"),
]

SEED = REPO / "examples" / "seed"


@pytest.mark.parametrize(
    ("script", "users"),
    [("browse.py", 10), ("authenticated.py", 5), ("checkout.py", 10), ("rate_limit.py", 5)],
)
def test_a_seed_script_runs_against_the_builtin_gateway(
    loadgate: RunLoadgate, db_url: str, tmp_path: Path, script: str, users: int
) -> None:
    json_file = tmp_path / "summary.json"
    result = loadgate(
        "run", SEED / script, "-u", users, "-r", users, "-t", "6s", "--db", db_url,
        "--json", json_file,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = read_json(json_file)
    total = summary["total"]
    assert summary["status"] == "completed"
    assert summary["settings"]["builtin_target"] is True
    assert summary["host"].startswith("http://127.0.0.1:")
    assert total["requests"] > 0
    assert total["failures"] == 0, summary["errors"]
    assert total["unexpected_status_counts"] == {}, summary["errors"]
    # Never cry wolf: a healthy seed run has no finding above info.
    assert [f for f in summary["findings"] if f["severity"] != "info"] == [], summary["findings"]
    if script == "rate_limit.py":
        assert set(total["status_counts"]) == {"200", "429"}
        assert total["expected_status_counts"]["429"] > 0
        # The script accepts its 429s: throttling, said as info.
        assert "errors.throttling" in {f["kind"] for f in summary["findings"]}
