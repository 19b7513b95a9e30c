"""Bad input: one line on stderr, no traceback, the exit code from errors.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadgate.errors import ExitCode
from tests.e2e.conftest import SCRIPTS, RunLoadgate, assert_one_line_error
from tests.fixtures.ports import free_port

BROKEN = '''"""Does not compile."""
from locust import HttpUser, task


class Broken(HttpUser):
    @task
    def go(self)
        self.client.get("/")
'''


def test_a_missing_script(loadgate: RunLoadgate, db_url: str, tmp_path: Path) -> None:
    result = loadgate("run", tmp_path / "nowhere.py", "--db", db_url)
    line = assert_one_line_error(result, ExitCode.BAD_INPUT)
    assert "nowhere.py does not exist" in line


def test_a_syntax_error_names_its_line(loadgate: RunLoadgate, db_url: str, tmp_path: Path) -> None:
    script = tmp_path / "broken.py"
    script.write_text(BROKEN)
    line = assert_one_line_error(loadgate("run", script, "--db", db_url), ExitCode.BAD_INPUT)
    assert "broken.py, line 7: syntax error" in line


def test_a_script_without_users(loadgate: RunLoadgate, db_url: str) -> None:
    result = loadgate("run", SCRIPTS / "no_users.py", "--db", db_url)
    line = assert_one_line_error(result, ExitCode.BAD_INPUT)
    assert "defines no User class" in line


@pytest.mark.parametrize("flag", ["-T", "-E"])
def test_an_unknown_tag_names_the_known_ones(loadgate: RunLoadgate, db_url: str, flag: str) -> None:
    result = loadgate("run", SCRIPTS / "features.py", flag, "fast", "--db", db_url)
    line = assert_one_line_error(result, ExitCode.BAD_INPUT)
    assert "unknown tag 'fast'" in line
    assert "slow" in line


@pytest.mark.parametrize("run_time", ["5x", "1m30", "0s", "-3s"])
def test_a_bad_duration(loadgate: RunLoadgate, db_url: str, run_time: str) -> None:
    result = loadgate("run", SCRIPTS / "plain.py", "-t", run_time, "--db", db_url)
    line = assert_one_line_error(result, ExitCode.BAD_INPUT)
    assert "the run time must be" in line


def test_an_unreachable_database(loadgate: RunLoadgate) -> None:
    url = f"postgresql://loadgate@127.0.0.1:{free_port()}/runs"
    result = loadgate(
        "run", SCRIPTS / "plain.py", "-t", "1s", "-H", "http://127.0.0.1:9", "--db", url
    )
    line = assert_one_line_error(result, ExitCode.STORE_ERROR)
    assert "cannot open the run store" in line


def test_a_host_that_is_not_a_url(loadgate: RunLoadgate, db_url: str) -> None:
    result = loadgate("run", SCRIPTS / "plain.py", "-H", "localhost:8080", "--db", db_url)
    line = assert_one_line_error(result, ExitCode.BAD_INPUT)
    assert "the host must be a base URL" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--arrival-rate", "200"], "--arrival-rate must be a rate such as 200/s or 600/m"),
        (["--arrival-rate", "0/s"], "--arrival-rate must be above 0"),
        (["--arrival-rate", "20/s", "--stages", "5s:2"], "--stages (users over time"),
        (["--arrival-rate", "20/s", "--arrival-stages", "5s:2/s"], "not both"),
        (["--arrival-rate", "20/s", "-u", "30", "--max-users", "10"], "--max-users must be"),
        (["--max-users", "10"], "--max-users needs --arrival-rate"),
        (["--arrival-stages", "5s:fast"], "'5s:fast': the rate must be a rate such as"),
        (["--arrival-stages", "5s:2/s", "-t", "3s"], "leave out -t/--run-time"),
    ],
)
def test_bad_open_model_flags(
    loadgate: RunLoadgate, db_url: str, args: list[str], expected: str
) -> None:
    result = loadgate("run", SCRIPTS / "plain.py", *args, "--db", db_url)
    line = assert_one_line_error(result, ExitCode.BAD_INPUT)
    assert expected in line


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ("fast", "--expect-rate-limit: bad rate limit 'fast': expected a rate such as '50/s'"),
        ("20/s per X Key", "bad rate limit '20/s per X Key': expected a request header's name"),
    ],
)
def test_a_bad_expected_rate_limit(
    loadgate: RunLoadgate, db_url: str, limit: str, expected: str
) -> None:
    result = loadgate("run", SCRIPTS / "plain.py", "--expect-rate-limit", limit, "--db", db_url)
    line = assert_one_line_error(result, ExitCode.BAD_INPUT)
    assert expected in line


def test_the_open_model_refuses_a_script_shape(loadgate: RunLoadgate, db_url: str) -> None:
    result = loadgate("run", SCRIPTS / "shape.py", "--arrival-rate", "5/s", "--db", db_url)
    line = assert_one_line_error(result, ExitCode.BAD_INPUT)
    assert "cannot be combined with --arrival-rate" in line
