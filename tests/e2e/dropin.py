"""Helpers for the drop-in tests: `loadgate run` and `locust` in a folder of the test's own.

The folder is the current directory and HOME, so ./locust.conf, ./pyproject.toml
and ~/.locust.conf are the test's alone, and no LOCUST_* variable leaks in.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.e2e.conftest import RUN_TIMEOUT_S, loadgate_command


def clean_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCUST_", "LOADGATE_"))}
    return {**env, "HOME": str(home), **(extra or {})}


def run_in(
    folder: Path,
    program: str,
    *args: str | Path,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`loadgate run ARGS` (program "loadgate") or `locust ARGS` (program "locust") in `folder`."""
    command = (
        [str(loadgate_command()), "run"]
        if program == "loadgate"
        else [str(Path(sys.executable).parent / "locust")]
    )
    return subprocess.run(
        [*command, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=clean_env(folder, env),
        cwd=folder,
    )


def config_rows(stdout: str) -> dict[str, tuple[str, str]]:
    """`loadgate run --print-config` as option -> (value, source)."""
    rows: dict[str, tuple[str, str]] = {}
    for line in stdout.splitlines():
        parts = line.split(maxsplit=2)
        if len(parts) == 3:
            rows[parts[0]] = (parts[1], parts[2])
    return rows


def stats_names(prefix: Path) -> set[tuple[str, str]]:
    """(Type, Name) of every row of PREFIX_stats.csv but the total."""
    with Path(f"{prefix}_stats.csv").open(newline="") as file:
        return {(row["Type"], row["Name"]) for row in csv.DictReader(file)
                if row["Name"] != "Aggregated"}  # fmt: skip


# Errors of the transport, not of the script: on a loaded shared machine either
# program may meet one (a connection reset as the run stops), so they are not compared.
TRANSPORT_ERRORS = ("ConnectionResetError", "RemoteDisconnected", "ConnectionRefusedError")


def failure_messages(prefix: Path) -> set[tuple[str, str, str]]:
    """(Method, Name, Error) of every row of PREFIX_failures.csv, transport errors left out."""
    with Path(f"{prefix}_failures.csv").open(newline="") as file:
        return {
            (row["Method"], row["Name"], row["Error"])
            for row in csv.DictReader(file)
            if not any(error in row["Error"] for error in TRANSPORT_ERRORS)
        }
