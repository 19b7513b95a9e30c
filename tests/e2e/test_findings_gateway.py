"""Error-class findings on real runs against the reference gateway, each with its healthy twin.

Each scenario runs once with the fault that causes a finding and once without
it, and asserts the finding is there and then absent: no false alarms.
Loads are small and short (4 users, 5 s).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO, RunLoadgate, read_json
from tests.fixtures.gateway import RunningGateway
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.slow

SCRIPT = REPO / "tests" / "e2e" / "scripts" / "findings_traffic.py"
LOW_LIMIT = """
[consumers.rate-limit-tester]
api_key = "lf_test_key_8f3a92_gateway"
rate_per_s = 3
burst = 3
"""


def run_findings(
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
    host: str,
    *extra: str,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    json_file = tmp_path / f"summary-{len(list(tmp_path.glob('summary-*')))}.json"
    result = loadgate(
        "run", SCRIPT, "-u", "4", "-r", "4", "-t", "5s", "-H", host, "--db", db_url,
        "--json", json_file, *extra, env=env,
    )  # fmt: skip
    # 1: requests failed (Locust's --exit-code-on-error), as they should with a fault.
    assert result.returncode in (0, 1), result.stderr
    summary = read_json(json_file)
    assert summary["total"]["requests"] > 0
    return summary


def kinds(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["kind"]: f for f in summary["findings"]}


def test_an_upstream_error_rate_is_a_gateway_error_finding(
    gateway: RunningGateway, loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    # Healthy first: after the fault, the breaker may stay open for a while (true 503s).
    healthy = run_findings(loadgate, db_url, tmp_path, gateway.api_url)
    assert healthy["findings"] == []
    gateway.set_fault("catalog", error_rate=0.6, error_status=503)
    try:
        faulty = run_findings(loadgate, db_url, tmp_path, gateway.api_url)
    finally:
        gateway.clear_faults()
    found = kinds(faulty)
    assert set(found) == {"errors.gateway"}, faulty["findings"]
    gateway_errors = found["errors.gateway"]
    # The gateway retries some 503s: what reaches the client is a few % of all requests.
    assert gateway_errors["severity"] in ("warning", "critical")
    assert gateway_errors["endpoint"] == "GET products"
    products = next(e for e in faulty["endpoints"] if e["name"] == "products")
    assert gateway_errors["numbers"]["count"] == products["status_counts"]["503"]
    numbers = gateway_errors["numbers"]
    assert (
        gateway_errors["from_s"]
        == numbers["first_s"]
        <= numbers["last_s"]
        == gateway_errors["to_s"]
    )


def test_a_low_rate_limit_is_a_rate_limit_finding_or_throttling_when_accepted(
    gateway_factory: Callable[..., RunningGateway],
    loadgate: RunLoadgate,
    db_url: str,
    tmp_path: Path,
) -> None:
    limited = gateway_factory(LOW_LIMIT)
    failing = kinds(run_findings(loadgate, db_url, tmp_path, limited.api_url))
    assert set(failing) == {"errors.rate_limit"}
    assert failing["errors.rate_limit"]["severity"] == "critical"
    assert failing["errors.rate_limit"]["endpoint"] == "GET search"
    accepted = run_findings(
        loadgate, db_url, tmp_path, limited.api_url, env={"FINDINGS_ACCEPT_429": "1"}
    )
    assert [(f["kind"], f["severity"]) for f in accepted["findings"]] == [
        ("errors.throttling", "info")
    ]
    # The same run under a limit well above what 4 users send (about 20/s: the built-in
    # limit is that, and would be a true finding now and then).
    generous = gateway_factory(LOW_LIMIT.replace("= 3", "= 200"))
    assert run_findings(loadgate, db_url, tmp_path, generous.api_url)["findings"] == []


def test_a_refused_connection_is_a_client_side_finding(
    loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    found = kinds(run_findings(loadgate, db_url, tmp_path, nobody))
    assert set(found) == {"errors.client"}
    client = found["errors.client"]
    assert client["severity"] == "critical"
    assert client["numbers"]["client_refused"] == client["numbers"]["count"] > 0


def test_a_wrong_api_key_is_an_auth_error_finding(
    gateway: RunningGateway, loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    # The twin is judged on the finding under test: the shared gateway's breaker
    # may still answer a 503 left over from an earlier test's fault.
    healthy = run_findings(loadgate, db_url, tmp_path, gateway.api_url)
    assert "errors.auth" not in kinds(healthy), healthy["findings"]
    refused = run_findings(
        loadgate, db_url, tmp_path, gateway.api_url, env={"FINDINGS_API_KEY": "lf_not_a_key"}
    )
    found = kinds(refused)
    assert "errors.auth" in found and "errors.client" not in found, refused["findings"]
    search = next(e for e in refused["endpoints"] if e["name"] == "search")
    assert found["errors.auth"]["endpoint"] == "GET search"
    assert found["errors.auth"]["numbers"]["count"] == search["status_counts"]["401"]


def test_a_target_slower_than_the_clients_timeout_is_a_client_error_finding(
    gateway: RunningGateway, loadgate: RunLoadgate, db_url: str, tmp_path: Path
) -> None:
    quick_client = {"FINDINGS_TIMEOUT_S": "0.3"}
    healthy = run_findings(loadgate, db_url, tmp_path, gateway.api_url, env=quick_client)
    assert "errors.client" not in kinds(healthy), healthy["findings"]
    gateway.set_fault("catalog", latency_ms=1000)
    try:
        slow = run_findings(loadgate, db_url, tmp_path, gateway.api_url, env=quick_client)
    finally:
        gateway.clear_faults()
    found = kinds(slow)
    assert "errors.client" in found and "errors.auth" not in found, slow["findings"]
    assert found["errors.client"]["endpoint"] == "GET products"
