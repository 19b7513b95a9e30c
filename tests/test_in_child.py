"""The test modules that import Locust, each in a child pytest (see tests/conftest.py)."""

import os
import subprocess
import sys

import pytest

from tests.conftest import IN_CHILD, IN_CHILD_VARIABLE, TESTS

CHILD_TIMEOUT_S = 600


@pytest.mark.parametrize("path", IN_CHILD)
def test_the_module_passes_in_a_process_of_its_own(path: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(TESTS / path)],
        cwd=TESTS.parent,
        # The child's own options only: PYTEST_ADDOPTS (a second -q) would hide its summary.
        env={**_without(os.environ, "PYTEST_ADDOPTS"), IN_CHILD_VARIABLE: path},
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout, result.stdout[-2000:]


def _without(environment: os._Environ[str], name: str) -> dict[str, str]:
    return {key: value for key, value in environment.items() if key != name}
