"""A PostgreSQL server that stops answering mid-run: a clear error within seconds, nothing lost.

The server's processes are stopped with SIGSTOP: their kernel still accepts
and acknowledges the connection's packets, so no TCP setting notices; only
the run's own bound on a write (writer_thread.STORE_STALL_LIMIT_S) does.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from loadgate.engine.writer_thread import STORE_STALL_LIMIT_S
from loadgate.errors import ExitCode
from loadgate.model import RunStatus
from loadgate.store import RunStore
from tests.e2e.conftest import (
    REPO,
    SCRIPTS,
    RunLoadgate,
    Target,
    assert_one_line_error,
    loadgate_command,
    stored_requests,
    wait_for_stored_requests,
)
from tests.fixtures.postgres import PostgresServer

pytestmark = pytest.mark.slow

# The stall limit, then a few seconds to stop the users and write the spill file.
ERROR_WITHIN_S = STORE_STALL_LIMIT_S + 12


def _server_pids(server: PostgresServer) -> list[int]:
    """The postmaster (from its pid file) and every process it started."""
    postmaster = int((server.log_path.parent / "data" / "postmaster.pid").read_text().split()[0])
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            children.append(int(stat.parent.name))
    return [postmaster, *children]


@contextmanager
def _stopped(server: PostgresServer) -> Iterator[None]:
    pids = _server_pids(server)
    # A backend that has just exited is listed as a zombie until the postmaster
    # reaps it (once continued): it may be gone by the time it is signalled.
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def test_a_stopped_postgresql_is_a_one_line_error_and_a_spill_file_to_import(
    loadgate: RunLoadgate,
    shared_target: Target,
    postgres_server: PostgresServer,
    postgres_fresh_url: str,
    tmp_path: Path,
) -> None:
    run = subprocess.Popen(
        [str(loadgate_command()), "run", str(SCRIPTS / "plain.py"), "-H", shared_target.url,
         "-u", "3", "-r", "3", "-t", "120s", "-q", "--db", postgres_fresh_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={"XDG_DATA_HOME": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    try:
        wait_for_stored_requests(postgres_fresh_url, run)
        with _stopped(postgres_server):
            stopped_s = time.monotonic()
            stdout, stderr = run.communicate(timeout=ERROR_WITHIN_S + 30)
            took_s = time.monotonic() - stopped_s
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    result = subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr)
    line = assert_one_line_error(result, ExitCode.STORE_ERROR)
    assert took_s < ERROR_WITHIN_S, f"the error took {took_s:.1f} s: {line}"
    assert "has not answered a write" in line
    found = re.search(r"kept in (\S+\.jsonl)", line)
    assert found is not None, line
    spill = Path(found.group(1))
    assert spill.is_relative_to(tmp_path / "data" / "loadgate" / "spill")

    before = stored_requests(postgres_fresh_url)
    imported = loadgate("import", spill, "--db", postgres_fresh_url)
    assert imported.returncode == 0, imported.stderr
    with RunStore.open(postgres_fresh_url) as store:
        listing = store.list_runs()[0]
    assert listing.run.status is RunStatus.FAILED
    assert "has not answered a write" in listing.run.status_reason
    assert listing.requests > before, "the seconds measured while the server was stopped"
