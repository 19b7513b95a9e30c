"""The same command line through `locust --headless` and `loadgate run`: same exit, names, failures.

The scripts are written here in the shapes of Locust's own examples (a request
validation, custom arguments, several User classes), not copied from them.
Both programs write Locust's CSV files (`--csv`), which are compared.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Target
from tests.e2e.dropin import failure_messages, run_in, stats_names

pytestmark = pytest.mark.slow


def json_entries(stdout: str) -> set[tuple[str, str, bool]]:
    """(method, name, had failures) of each entry of Locust's --json document."""
    return {(e["method"], e["name"], e["num_failures"] > 0) for e in json.loads(stdout)}


VALIDATION = """from locust import HttpUser, constant, task


class Validating(HttpUser):
    wait_time = constant(0.1)

    @task
    def body_check(self):
        with self.client.get("/delay/200", name="validated", catch_response=True) as response:
            if "expected token" not in response.text:
                response.failure("Did not get the expected token in the body")

    @task
    def status_check(self):
        with self.client.get("/status/429", name="limited", catch_response=True) as response:
            if response.status_code == 429:
                response.success()

    @task
    def server_error(self):
        self.client.get("/status/503", name="unavailable")
"""

ARGUMENTS = """from locust import HttpUser, constant, events, task


@events.init_command_line_parser.add_listener
def _arguments(parser):
    parser.add_argument("--search-path", default="/zero", help="The path to search")
    parser.add_argument("--exit-with", type=int, default=None, help="The exit code wanted")


@events.quitting.add_listener
def _exit_code(environment, **kwargs):
    if environment.parsed_options.exit_with is not None:
        environment.process_exit_code = environment.parsed_options.exit_with


class Searching(HttpUser):
    wait_time = constant(0.1)

    @task
    def search(self):
        path = self.environment.parsed_options.search_path
        self.client.get(path, name=f"search {path}")
"""

SEVERAL_USERS = """from locust import HttpUser, constant, task


class Reader(HttpUser):
    wait_time = constant(0.1)

    @task
    def read(self):
        self.client.get("/zero", name="read")


class Writer(HttpUser):
    wait_time = constant(0.1)

    @task
    def write(self):
        self.client.post("/status/201", name="write")


class Auditor(HttpUser):
    wait_time = constant(0.1)

    @task
    def audit(self):
        self.client.get("/status/404", name="audit")
"""


@pytest.mark.parametrize(
    "case",
    [
        ("validation.py", VALIDATION, [], 1),
        ("arguments.py", ARGUMENTS, ["--search-path", "/delay/100", "--exit-with", "3"], 3),
        ("users.py", SEVERAL_USERS, ["Writer", "Auditor"], 1),
    ],
    ids=["validation", "arguments", "several-users"],
)
def test_the_same_command_line_gives_the_same_run(
    tmp_path: Path, shared_target: Target, case: tuple[str, str, list[str], int]
) -> None:
    script, text, extra, exit_code = case
    (tmp_path / script).write_text(text)
    results = {}
    for program in ("locust", "loadgate"):
        prefix = tmp_path / program / "run"
        command = [
            "-f", script, "--headless", "-u", "2", "-r", "2", "-t", "3s",
            "-H", shared_target.url, "--csv", prefix, "--only-summary", "--json", *extra,
        ]  # fmt: skip
        env = {"LOADGATE_DB": f"sqlite:///{tmp_path / 'runs.db'}"}
        results[program] = run_in(tmp_path, program, *command, env=env)
        if program == "locust" and not stats_names(prefix):
            # Locust's own --run-time timer can fire early on a loaded machine (libev's
            # clock goes stale while the script loads; loadgate refreshes it): once more.
            results[program] = run_in(tmp_path, program, *command, env=env)
        assert results[program].returncode == exit_code, (program, results[program].stderr)
    ours, theirs = tmp_path / "loadgate" / "run", tmp_path / "locust" / "run"
    assert stats_names(theirs), ("locust made no requests", results["locust"].stderr)
    assert stats_names(ours) == stats_names(theirs)
    assert failure_messages(ours) == failure_messages(theirs)
    assert stats_names(ours), "the run made requests"
    # `--json`: Locust's own JSON statistics on stdout, from both.
    assert json_entries(results["loadgate"].stdout) == json_entries(results["locust"].stdout)
    if exit_code == 1:
        assert failure_messages(ours), "the run had failures to compare"
