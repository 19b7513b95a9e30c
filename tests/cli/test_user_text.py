"""Text from users and targets (run, endpoint and script names, error messages) prints as written.

rich reads `[...]` as markup: a name like `/items/[id]` would lose its brackets,
and an error message holding `[/b]` used to crash the command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from loadgate.model import RunStatus
from loadgate.store import RunStore
from tests.builders import START_S, STARTED_AT, endpoint_second, new_run

RUN_NAME = "[/b]nightly [red]"
SCRIPT = "scripts/[v2]/shop.py"
ENDPOINT = "/items/[id]"
ERROR = "HTTPError('[/b] closed [bold]x')"


def loadgate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadgate", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "250"},
    )  # fmt: skip


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    with RunStore.open(url) as store:
        for _ in range(2):
            run_id = store.create_run(new_run(RUN_NAME, script_path=SCRIPT))
            store.append(
                run_id,
                [
                    endpoint_second(START_S, "GET", ENDPOINT, (300, 900)),
                    endpoint_second(
                        START_S, "GET", ENDPOINT, (400,), failed={"0": 1}, errors={ERROR: 1}
                    ),
                ],
            )
            store.finish_run(run_id, RunStatus.COMPLETED, STARTED_AT + timedelta(seconds=1))
    return url


@pytest.mark.parametrize(
    ("args", "written"),
    [
        (("runs",), (RUN_NAME, SCRIPT)),
        (("show", "1"), (RUN_NAME, SCRIPT, ENDPOINT, ERROR)),
        (("compare", "1", "2"), (RUN_NAME, ENDPOINT)),
    ],
    ids=["runs", "show", "compare"],
)
def test_user_text_is_printed_as_written(
    db_url: str, args: tuple[str, ...], written: tuple[str, ...]
) -> None:
    result = loadgate(*args, "--db", db_url)
    assert result.returncode == 0, result.stderr
    for text in written:
        assert text in result.stdout, (text, result.stdout)
