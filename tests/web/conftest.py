"""The dashboard over a real store filled by real short runs against the built-in gateway.

`stored_runs` runs `loadgate run` three times (once per session): two runs
named "browse" whose thresholds pass, then one named "strict" whose
threshold fails. `dashboard` is a TestClient of the app over that store,
as a browser on this machine reaches it (Host 127.0.0.1).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

from loadgate.store import RunStore
from loadgate.web import DashboardSettings, create_app
from tests.e2e.conftest import loadgate_command, run_loadgate
from tests.fixtures.ports import free_port, wait_for_port

SCRIPT = "examples/seed/browse.py"
LOCAL_URL = "http://127.0.0.1"


@dataclass(frozen=True)
class StoredRuns:
    db_url: str
    browse_ids: tuple[int, int]
    strict_id: int


def _run(db_url: str, name: str, threshold: str) -> None:
    result = run_loadgate(
        "run", SCRIPT, "-u", "3", "-r", "3", "-t", "3s", "-q", "--name", name,
        "--db", db_url, "--threshold", threshold,
    )  # fmt: skip
    assert result.returncode in (0, 99), result.stderr


@pytest.fixture(scope="session")
def stored_runs(tmp_path_factory: pytest.TempPathFactory) -> StoredRuns:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'runs.db'}"
    _run(db_url, "browse", "p95 < 5s")
    _run(db_url, "browse", "p95 < 5s")
    _run(db_url, "strict", "p50 < 1us")
    with RunStore.open(db_url) as store:
        ids = [listing.run.run_id for listing in store.list_runs()]
    return StoredRuns(db_url=db_url, browse_ids=(ids[2], ids[1]), strict_id=ids[0])


def client_of(settings: DashboardSettings, store: RunStore) -> TestClient:
    return TestClient(create_app(settings, store), base_url=LOCAL_URL, follow_redirects=False)


@pytest.fixture
def dashboard(stored_runs: StoredRuns) -> Iterator[TestClient]:
    with RunStore.open(stored_runs.db_url) as store, client_of(DashboardSettings(), store) as c:
        yield c


@dataclass(frozen=True)
class ServedDashboard:
    url: str
    db_url: str


def serve_dashboard(db_url: str, *args: str) -> Iterator[ServedDashboard]:
    """`loadgate dashboard` on a free port of 127.0.0.1 over `db_url`, stopped afterwards."""
    port = free_port()
    command = [str(loadgate_command()), "dashboard", "--port", str(port), "--db", db_url, *args]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield ServedDashboard(url=f"http://127.0.0.1:{port}", db_url=db_url)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def served(stored_runs: StoredRuns) -> Iterator[ServedDashboard]:
    """The dashboard as a real process over the session's stored runs."""
    yield from serve_dashboard(stored_runs.db_url)
