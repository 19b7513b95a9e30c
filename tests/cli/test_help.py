"""Every command is reachable and documented."""

from __future__ import annotations

import subprocess
import sys

import pytest

from loadgate.cli import COMMANDS
from loadgate.errors import ExitCode


def loadgate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadgate", *args], capture_output=True, text=True, timeout=60
    )


def test_version() -> None:
    result = loadgate("--version")
    assert result.returncode == 0
    assert "loadgate" in result.stdout


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command: str) -> None:
    result = loadgate(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_is_in_readme(command: str) -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert f"loadgate {command}" in readme


def test_unknown_command_is_bad_input() -> None:
    result = loadgate("no-such-command")
    assert result.returncode == ExitCode.BAD_INPUT
