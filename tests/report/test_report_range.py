"""`loadgate report --from/--to`: a range of a stored run, and its bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from loadgate.errors import ExitCode
from loadgate.model import RunStatus
from loadgate.store import RunStore
from tests.report import synthetic_run

LOADGATE = Path(sys.executable).with_name("loadgate")


def loadgate(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LOADGATE), *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('range') / 'runs.db'}"
    with RunStore.open(url) as store:
        run_id = store.create_run(synthetic_run.new_run())
        store.append(run_id, synthetic_run.endpoint_seconds(), synthetic_run.user_samples())
        store.finish_run(run_id, RunStatus.COMPLETED, synthetic_run.ENDED_AT)
    return url


def test_a_range_is_reported_and_says_so(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "range.html"
    result = loadgate("report", "last", "--from", "5s", "--to", "15s", "-o", out, "--db", db_url)
    assert result.returncode == 0, result.stderr
    page = out.read_text()
    assert "Range shown" in page
    assert "5s to 15s after the start" in page
    whole = tmp_path / "whole.html"
    assert loadgate("report", "last", "-o", whole, "--db", db_url).returncode == 0
    assert "Range shown" not in whole.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "10s", "--to", "5s"), "--to (5s) must be later than --from (10s)"),
        (("--from", "soon"), "--from must be a time since the run's start"),
    ],
)
def test_a_bad_range_is_bad_input(
    db_url: str, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = loadgate("report", "last", *args, "-o", tmp_path / "r.html", "--db", db_url)
    assert result.returncode == ExitCode.BAD_INPUT
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def _ended_run_without_totals(tmp_path: Path) -> tuple[str, int]:
    """A run ended as a second Ctrl-C leaves it: finished, no totals."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    with RunStore.open(url) as store:
        run_id = store.create_run(synthetic_run.new_run())
        store.append(run_id, synthetic_run.endpoint_seconds(), synthetic_run.user_samples())
        store.finish_run(run_id, RunStatus.ABORTED, synthetic_run.ENDED_AT)
    return url, run_id


def _has_totals(url: str, run_id: int) -> bool:
    with RunStore.open(url) as store:
        return store.stored_fold(run_id) is not None


def test_a_whole_report_keeps_the_totals_a_range_does_not(tmp_path: Path) -> None:
    url, run_id = _ended_run_without_totals(tmp_path)
    ranged = loadgate("report", "last", "--from", "5s", "-o", tmp_path / "r.html", "--db", url)
    assert ranged.returncode == 0, ranged.stderr
    assert not _has_totals(url, run_id), "a range's fold is not the run's totals"
    whole = loadgate("report", "last", "-o", tmp_path / "w.html", "--db", url)
    assert whole.returncode == 0, whole.stderr
    assert _has_totals(url, run_id)


def test_show_keeps_the_totals_and_shows_the_same_numbers_from_them(tmp_path: Path) -> None:
    url, run_id = _ended_run_without_totals(tmp_path)
    folded = loadgate("show", "last", "--json", "--db", url)
    assert folded.returncode == 0, folded.stderr
    assert _has_totals(url, run_id)
    from_totals = loadgate("show", "last", "--json", "--db", url)
    assert from_totals.stdout == folded.stdout
