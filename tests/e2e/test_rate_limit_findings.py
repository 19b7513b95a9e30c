"""Rate-limit accuracy on real runs: local limits on 2 gateway processes admit about twice the
limit, one process or a Redis-shared limit holds it; each stated by the finding.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO, RunLoadgate, read_json
from tests.fixtures.gateway import RunningGateway

pytestmark = pytest.mark.slow

SCRIPT = REPO / "tests" / "e2e" / "scripts" / "rate_limited.py"
LIMIT_PER_S = 5
CONFIG = f"""
[consumers.rate-limit-tester]
api_key = "lf_test_key_8f3a92_gateway"
rate_per_s = {LIMIT_PER_S}
burst = {LIMIT_PER_S}
"""


def accuracy(
    loadgate: RunLoadgate, db_url: str, tmp_path: Path, host: str, name: str
) -> dict[str, Any]:
    """Run against `host`, then the stored run's findings with the expected limit (show)."""
    result = loadgate(
        "run", SCRIPT, "-u", "4", "-r", "4", "-t", "6s", "-H", host, "--db", db_url,
        "--name", name,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = loadgate(
        "show", name, "--json", "--db", db_url, "--expect-rate-limit", f"{LIMIT_PER_S}/s"
    )
    assert shown.returncode == 0, shown.stderr
    summary = json.loads(shown.stdout)
    found = {f["kind"]: f for f in summary["findings"]}
    # Accepted 429s are throttling (info), never failures.
    assert found["errors.throttling"]["severity"] == "info"
    assert {f["severity"] for f in summary["findings"] if f["kind"] != "rate_limit"} == {"info"}
    return found["rate_limit"]


def test_local_limits_on_two_processes_overshoot_and_one_process_holds(
    gateway_factory: Callable[..., RunningGateway],
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
) -> None:
    two = gateway_factory(CONFIG, "--processes", "2")
    local = accuracy(loadgate, db_url, tmp_path, two.api_url, "local")
    assert local["severity"] == "critical", local
    assert 1.6 * LIMIT_PER_S <= local["numbers"]["accepted_per_s"] <= 2.4 * LIMIT_PER_S, local
    assert "overshoots" in local["sentence"]
    assert local["numbers"]["worst_second_accepted"] >= local["numbers"]["accepted_per_s"]

    single = accuracy(loadgate, db_url, tmp_path, gateway_factory(CONFIG).api_url, "one")
    assert single["severity"] == "info", single
    assert 0.8 * LIMIT_PER_S <= single["numbers"]["accepted_per_s"] <= 1.2 * LIMIT_PER_S
    assert "holds" in single["sentence"]


def test_a_redis_shared_limit_holds_on_two_processes(
    gateway_factory: Callable[..., RunningGateway],
    redis_url: str,
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
) -> None:
    shared = gateway_factory(CONFIG, "--processes", "2", "--redis-url", redis_url)
    finding = accuracy(loadgate, db_url, tmp_path, shared.api_url, "shared")
    assert finding["severity"] == "info", finding
    assert 0.8 * LIMIT_PER_S <= finding["numbers"]["accepted_per_s"] <= 1.2 * LIMIT_PER_S


def test_show_and_report_take_the_limit_for_a_stored_run(
    gateway_factory: Callable[..., RunningGateway],
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
) -> None:
    accuracy_free = tmp_path / "plain.json"
    host = gateway_factory(CONFIG).api_url
    result = loadgate(
        "run", SCRIPT, "-u", "2", "-r", "2", "-t", "4s", "-H", host, "--db", db_url,
        "--json", accuracy_free, "--name", "plain",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "rate_limit" not in {f["kind"] for f in read_json(accuracy_free)["findings"]}
    shown = loadgate("show", "plain", "--db", db_url, "--expect-rate-limit", "1/s")
    assert shown.returncode == 0, shown.stderr
    assert "Rate limit 1/s on all endpoints overshoots" in " ".join(shown.stdout.split())
    # A per-key limit needs the keys counted during the run, which this one did not do.
    keyless = loadgate("show", "plain", "--db", db_url, "--expect-rate-limit", "5/s per X-API-Key")
    assert keyless.returncode == 0, keyless.stderr
    assert "is not judged: the run counted no X-API-Key values" in " ".join(keyless.stdout.split())
    bad = loadgate("show", "plain", "--db", db_url, "--expect-rate-limit", "5/s per X API")
    assert bad.returncode != 0 and "a request header's name after 'per'" in bad.stderr
    assert "Traceback" not in bad.stderr
    out = tmp_path / "plain.html"
    written = loadgate("report", "plain", "-o", out, "--db", db_url, "--expect-rate-limit", "1/s")
    assert written.returncode == 0, written.stderr
    assert 'data-kind="rate_limit"' in out.read_text(encoding="utf-8")


def test_the_plan_stores_the_expected_limit_with_the_run(
    gateway_factory: Callable[..., RunningGateway],
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
) -> None:
    plan = tmp_path / "loadgate.toml"
    plan.write_text('[findings]\nexpect_rate_limit = "GET search: 1/s"\n', encoding="utf-8")
    json_file = tmp_path / "planned.json"
    host = gateway_factory(CONFIG).api_url
    result = loadgate(
        "run", SCRIPT, "-u", "2", "-r", "2", "-t", "4s", "-H", host, "--db", db_url,
        "--json", json_file, "--name", "planned", "--plan", plan,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = read_json(json_file)
    assert summary["settings"]["expect_rate_limit"] == "GET search: 1/s"
    (finding,) = [f for f in summary["findings"] if f["kind"] == "rate_limit"]
    assert finding["endpoint"] == "GET search" and finding["severity"] == "critical"
    # show finds it again from the stored setting
    shown = json.loads(loadgate("show", "planned", "--json", "--db", db_url).stdout)
    assert [f for f in shown["findings"] if f["kind"] == "rate_limit"] == [finding]
