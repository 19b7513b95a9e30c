"""`loadgate compare` on real runs against the reference gateway, with a fault injected."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from loadgate.cli import COMMANDS
from loadgate.errors import ExitCode
from loadgate.store import RunStore
from tests.e2e.conftest import SCRIPTS, RunLoadgate
from tests.fixtures.gateway import RunningGateway

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not {"run", "gateway"} <= set(COMMANDS),
        reason="needs `loadgate run` and `loadgate gateway`",
    ),
]

SCRIPT = SCRIPTS / "compare_mix.py"
# 12 users × 25 iterations/s = 300 req/s over 4 endpoints: ~750 requests each in
# 10 s, enough for p99 to be judged (it needs 500 per run).
USERS = 12
RUN_TIME = "10s"
INJECTED_UPSTREAM = "commerce"
BEHIND_INJECTED = {"GET /v1/inventory/:id"}
EVERY_ENDPOINT = {
    "GET /v1/products/:id",
    "GET /v1/search",
    "GET /v1/users/profile",
    "GET /v1/inventory/:id",
}
JUDGED = ("p50", "p95", "p99", "error_rate")
RUN_NAME = "compare-e2e"
INJECTED_MS = 20.0
ATTEMPTS = 2
PRIORITY_BOOST = 5


@pytest.fixture
def higher_priority() -> Iterator[None]:
    """A little more CPU priority for this process and its children, where allowed.

    This test measures the same build twice and expects the same numbers; the
    shared machine's other processes are noise it is not about. The priority
    is given back afterwards (lowering it is always allowed).
    """
    try:
        os.nice(-PRIORITY_BOOST)
    except OSError:
        yield
        return
    yield
    os.nice(PRIORITY_BOOST)


def label(endpoint: dict[str, Any]) -> str:
    method, name = endpoint["method"], endpoint["name"]
    return name if not method or name.startswith(f"{method} ") else f"{method} {name}"


def verdicts(document: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Endpoint label -> metric -> verdict, for the judged metrics."""
    return {
        label(e): {metric: e["metrics"][metric]["verdict"] for metric in JUDGED}
        for e in (*document["endpoints"], document["total"])
    }


def summary_of(document: dict[str, Any]) -> str:
    """The numbers behind the verdicts, for an assertion message."""
    lines = [document["conclusion"]]
    for endpoint in (*document["endpoints"], document["total"]):
        for metric in JUDGED:
            m = endpoint["metrics"][metric]
            lines.append(
                f"{label(endpoint)} {metric}: {m['base']} -> {m['candidate']} "
                f"interval {m['interval']} {m['verdict']}"
            )
    return "\n".join(lines)


@pytest.fixture
def own_gateway(
    higher_priority: None, gateway_factory: Callable[..., RunningGateway]
) -> RunningGateway:
    """A gateway of this test's own: its faults and its load are nobody else's."""
    return gateway_factory()


@dataclass(frozen=True)
class Runs:
    """Runs of compare_mix.py against one gateway, stored in one database."""

    loadgate: RunLoadgate
    db_url: str
    gateway: RunningGateway

    def run(self, name: str = RUN_NAME, run_time: str = RUN_TIME) -> int:
        result = self.loadgate(
            "run", SCRIPT, "-H", self.gateway.api_url, "--db", self.db_url,
            "-u", USERS, "-r", USERS, "-t", run_time, "--name", name, "-q",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        with RunStore.open(self.db_url) as store:
            return store.resolve("last").run_id

    def compare(self, base: int, candidate: int) -> tuple[int, dict[str, Any]]:
        result = self.loadgate("compare", base, candidate, "--db", self.db_url, "--json")
        assert result.returncode in (ExitCode.OK, ExitCode.REGRESSION), result.stderr
        document: dict[str, Any] = json.loads(result.stdout)
        assert {label(e) for e in document["endpoints"]} == EVERY_ENDPOINT
        return result.returncode, document


def same_build_problem(code: int, document: dict[str, Any]) -> str:
    """'' when every judged metric is unchanged and the exit code is 0, else the numbers."""
    expected = dict.fromkeys([*EVERY_ENDPOINT, "Total"], dict.fromkeys(JUDGED, "unchanged"))
    if verdicts(document) == expected and code == ExitCode.OK:
        return ""
    return summary_of(document)


def injected_problem(code: int, document: dict[str, Any]) -> str:
    """'' when exactly the endpoints behind the slowed upstream regressed, else the numbers."""
    found = verdicts(document)
    regressed = {label(f) for f in document["regressions"]} - {"Total"}
    p50_deltas_ms = [
        e["metrics"]["p50"]["delta"] for e in document["endpoints"] if label(e) in BEHIND_INJECTED
    ]
    if (
        code == ExitCode.REGRESSION
        and regressed == BEHIND_INJECTED
        and all(found[e]["p50"] == "regression" for e in BEHIND_INJECTED)
        and all(set(found[e].values()) == {"unchanged"} for e in EVERY_ENDPOINT - BEHIND_INJECTED)
        and all(abs(delta_ms - INJECTED_MS) < 5.0 for delta_ms in p50_deltas_ms)
    ):
        return ""
    return summary_of(document)


def test_same_build_is_unchanged_and_20ms_on_one_upstream_regresses_only_its_endpoints(
    loadgate: RunLoadgate,
    db_url: str,
    own_gateway: RunningGateway,
) -> None:
    runs = Runs(loadgate, db_url, own_gateway)
    # Connection pools, upstream processes and caches warm up outside the measured runs.
    runs.run("warm-up", run_time="3s")
    # A shared machine can change between two runs (another job starts): a pair
    # disturbed that way is measured again once, and both outcomes are reported.
    disturbed: list[str] = []
    for _ in range(ATTEMPTS):
        base = runs.run()
        problem = same_build_problem(*runs.compare(base, runs.run()))
        if not problem:
            break
        disturbed.append(problem)
    else:
        pytest.fail("same build not unchanged:\n\n" + "\n\n".join(disturbed))
    if disturbed:
        print("same build measured again; the disturbed pair:\n" + disturbed[0])

    disturbed = []
    for attempt in range(ATTEMPTS):
        if attempt:
            base = runs.run()  # the disturbed run may have been the base: measure both again
        own_gateway.set_fault(INJECTED_UPSTREAM, latency_ms=INJECTED_MS)
        try:
            slower = runs.run()
        finally:
            own_gateway.clear_faults()
        problem = injected_problem(*runs.compare(base, slower))
        if not problem:
            break
        disturbed.append(problem)
    else:
        pytest.fail("not exactly the endpoints behind it:\n\n" + "\n\n".join(disturbed))
    if disturbed:
        print("slowed pair measured again; the disturbed one:\n" + disturbed[0])
