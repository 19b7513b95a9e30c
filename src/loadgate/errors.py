"""The error hierarchy and the process exit codes, in one table.

    LoadgateError                 base; carries the exit code the CLI uses
    ├── InputError        (2)     something the user gave us is wrong
    │   ├── ScriptError           the locustfile is missing, broken or has no users
    │   └── ConfigError           a flag, duration, tag, plan or URL is invalid
    ├── RunError          (3)     the run could not be carried out
    │   └── WorkersMissingError (6)  a master's expected workers did not all connect in time
    └── StoreError        (4)     the run store cannot be opened or written
        ├── RunNotFoundError           no stored run matches the reference given
        └── TestNotFoundError          no saved test (dashboard) has the id given

Library code raises these and never prints or exits; the CLI catches them at
the edge, prints one line and exits with the code.

A run that took place exits with the first row that applies (README's table;
loadgate.cli.run_outputs.exit_code decides):

    1  the script set environment.process_exit_code    that code (Locust's rule)
    2  interrupted by Ctrl-C or SIGTERM                 INTERRUPTED (130)
    3  a threshold failed or aborted the run            THRESHOLDS_FAILED (99)
    4  no thresholds, and a request failed or a task    --exit-code-on-error
       raised                                           (REQUESTS_FAILED, 1, as Locust)
    5  a regression against --baseline                  REGRESSION (98)
    6  otherwise                                        OK (0)
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in README's table."""

    OK = 0
    INTERNAL_ERROR = 1
    REQUESTS_FAILED = 1  # Locust's --exit-code-on-error default; an alias of INTERNAL_ERROR
    BAD_INPUT = 2
    RUN_FAILED = 3
    STORE_ERROR = 4
    OUTPUT_ERROR = 5
    WORKERS_MISSING = 6
    REGRESSION = 98
    THRESHOLDS_FAILED = 99
    INTERRUPTED = 130


class LoadgateError(Exception):
    """Base of every error loadgate raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL_ERROR


class InputError(LoadgateError):
    """Something the user gave us is wrong; the message names it."""

    exit_code = ExitCode.BAD_INPUT


class ScriptError(InputError):
    """The locustfile is missing, does not compile, or defines no User class."""


class ConfigError(InputError):
    """A flag, duration, tag, plan or URL has a value we cannot use."""


class RunError(LoadgateError):
    """The run could not be carried out (engine or target failed to start)."""

    exit_code = ExitCode.RUN_FAILED


class WorkersMissingError(RunError):
    """A master waited for its expected workers, and not all of them connected in time."""

    exit_code = ExitCode.WORKERS_MISSING


class StoreError(LoadgateError):
    """The run store cannot be opened, migrated or written."""

    exit_code = ExitCode.STORE_ERROR


class OutputError(LoadgateError):
    """A result could not be printed (stdout closed or full); the run and its files are kept."""

    exit_code = ExitCode.OUTPUT_ERROR


class RunNotFoundError(StoreError):
    """No stored run matches the reference given."""

    exit_code = ExitCode.BAD_INPUT


class TestNotFoundError(StoreError):
    """No saved test has the id given."""

    __test__ = False  # not a pytest test class, despite its name
    exit_code = ExitCode.BAD_INPUT
