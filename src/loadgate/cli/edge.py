"""Where library errors become one line on stderr and an exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import click

from loadgate.errors import ExitCode, LoadgateError

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: ExitCode) -> None:
    """Print `loadgate: error: message` and exit with `code`."""
    click.echo(f"loadgate: error: {message}", err=True)
    sys.exit(int(code))


@contextmanager
def error_edge() -> Iterator[None]:
    """Turn a LoadgateError raised inside into one line and its exit code."""
    try:
        yield
    except LoadgateError as exc:
        fail(str(exc), exc.exit_code)


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Decorate a click callback so LoadgateError ends the process cleanly."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with error_edge():
            return command(*args, **kwargs)
        raise AssertionError("unreachable")

    return wrapper
