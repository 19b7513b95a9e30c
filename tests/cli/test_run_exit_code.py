"""The exit code of a run: errors.py's table, row by row (the first row that applies wins)."""

from __future__ import annotations

from typing import Any

from loadgate.cli.run_outputs import RunEnd, exit_code
from loadgate.errors import ExitCode

CLEAN = RunEnd()


def code(end: RunEnd = CLEAN, **given: Any) -> int:
    facts: dict[str, Any] = {
        "has_thresholds": False,
        "thresholds_failed": False,
        "failed_requests": 0,
        "regression": False,
        "exit_code_on_error": 1,
    }
    return exit_code(end, **{**facts, **given})


def test_a_clean_run_exits_0() -> None:
    assert code() == ExitCode.OK


def test_the_scripts_process_exit_code_wins_over_everything() -> None:
    end = RunEnd(interrupted=True, process_exit_code=3, unhandled_errors=2)
    assert code(end, thresholds_failed=True, failed_requests=5, regression=True) == 3
    assert code(RunEnd(process_exit_code=0), failed_requests=5) == 0


def test_interrupted_comes_before_verdicts() -> None:
    assert code(RunEnd(interrupted=True), thresholds_failed=True) == ExitCode.INTERRUPTED


def test_failed_requests_or_task_errors_exit_with_exit_code_on_error() -> None:
    assert code(failed_requests=1) == 1
    assert code(RunEnd(unhandled_errors=1)) == 1
    assert code(failed_requests=1, exit_code_on_error=0) == ExitCode.OK
    assert code(failed_requests=1, exit_code_on_error=7, regression=True) == 7


def test_with_thresholds_they_judge_failed_requests() -> None:
    assert code(failed_requests=9, has_thresholds=True) == ExitCode.OK
    assert code(failed_requests=9, has_thresholds=True, thresholds_failed=True) == 99
    assert code(failed_requests=9, has_thresholds=True, regression=True) == 98


def test_a_regression_alone_exits_98() -> None:
    assert code(regression=True) == ExitCode.REGRESSION
