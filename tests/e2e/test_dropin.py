"""`loadgate run` as a drop-in for `locust --headless`: config files, -f, Users, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadgate.store import RunStore
from tests.e2e.conftest import Target, assert_one_line_error
from tests.e2e.dropin import config_rows, run_in

PLAIN = """from locust import HttpUser, constant, task


class Plain(HttpUser):
    wait_time = constant(0.1)

    @task
    def ping(self):
        self.client.get("/zero", name="ping")
"""

USER_A = """from locust import HttpUser, constant, task


class UserA(HttpUser):
    wait_time = constant(0.1)

    @task
    def a(self):
        self.client.get("/zero", name="from a")
"""

USER_B = USER_A.replace("UserA", "UserB").replace('"from a"', '"from b"')

ARGUMENTS = """import json
import os

from locust import HttpUser, constant, events, task


@events.init_command_line_parser.add_listener
def _arguments(parser):
    parser.add_argument("--my-path", default="/zero", help="The path every user requests")
    parser.add_argument("--exit-with", type=int, default=None, help="The exit code to ask for")


@events.test_start.add_listener
def _seen(environment, **kwargs):
    with open("seen.json", "w") as file:
        json.dump({"my_path": environment.parsed_options.my_path}, file)


@events.quitting.add_listener
def _exit_code(environment, **kwargs):
    if environment.parsed_options.exit_with is not None:
        environment.process_exit_code = environment.parsed_options.exit_with


class Custom(HttpUser):
    wait_time = constant(0.1)

    @task
    def go(self):
        self.client.get(self.environment.parsed_options.my_path)
"""

FAILING = """from locust import HttpUser, constant, task


class Failing(HttpUser):
    wait_time = constant(0.1)

    @task
    def broken(self):
        self.client.get("/status/500", name="broken")
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "plain.py").write_text(PLAIN)
    return tmp_path


def _layers(folder: Path) -> None:
    """users, run time and host set in every config file, each with its own value."""
    (folder / ".locust.conf").write_text("users = 1\nrun-time = 1s\nhost = http://home.test\n")
    (folder / "locust.conf").write_text("users = 2\nrun-time = 2s\nhost = http://conf.test\n")
    (folder / "pyproject.toml").write_text(
        '[tool.locust]\nusers = 3\nrun-time = "3s"\nhost = "http://pyproject.test"\n'
    )
    (folder / "ci.conf").write_text("users = 4\nrun-time = 4s\nhost = http://config.test\n")


def test_config_files_env_and_flags_follow_locusts_precedence(folder: Path) -> None:
    _layers(folder)
    env = {"LOCUST_USERS": "5", "LOCUST_RUN_TIME": "5s", "LOCUST_HOST": "http://env.test"}
    flags = ["-u", "6", "-t", "6s", "-H", "http://flag.test"]
    # From the highest source down: take one away each time and the next shows through.
    expected = [
        ("6", "6", "'http://flag.test'", "command line", "command line"),
        ("5", "5", "'http://env.test'", "env LOCUST_USERS", "env LOCUST_HOST"),
        ("4", "4", "'http://config.test'", "--config ci.conf", "--config ci.conf"),
        ("3", "3", "'http://pyproject.test'", "./pyproject.toml", "./pyproject.toml"),
        ("2", "2", "'http://conf.test'", "./locust.conf", "./locust.conf"),
        ("1", "1", "'http://home.test'", "~/.locust.conf", "~/.locust.conf"),
    ]
    for users, run_time_s, host, users_from, host_from in expected:
        args = ["plain.py", "--config", "ci.conf", *flags, "--print-config"]
        if not (folder / "ci.conf").exists():
            args.remove("--config")
            args.remove("ci.conf")
        result = run_in(folder, "loadgate", *args, env=env)
        assert result.returncode == 0, result.stderr
        rows = config_rows(result.stdout)
        assert rows["--users"][0] == users, rows["--users"]
        assert rows["--users"][1].startswith(users_from), rows["--users"]
        assert rows["--run-time"][0] == run_time_s
        assert rows["--host"][0] == host
        assert rows["--host"][1].startswith(host_from), rows["--host"]
        # The next source down.
        if flags:
            flags = []
        elif env:
            env = {}
        elif (folder / "ci.conf").exists():
            (folder / "ci.conf").unlink()
        elif (folder / "pyproject.toml").exists():
            (folder / "pyproject.toml").unlink()
        else:
            (folder / "locust.conf").unlink(missing_ok=True)


@pytest.mark.slow
def test_a_run_takes_its_settings_from_config_files_and_env(
    folder: Path, shared_target: Target, db_url: str
) -> None:
    (folder / "locust.conf").write_text(f"host = {shared_target.url}\nspawn-rate = 2\n")
    (folder / "pyproject.toml").write_text('[tool.locust]\nusers = 2\nname = "from-pyproject"\n')
    (folder / "ci.conf").write_text("locustfile = plain.py\n")
    result = run_in(
        folder, "loadgate", "--config", "ci.conf", "-q",
        env={"LOCUST_RUN_TIME": "2s", "LOADGATE_DB": db_url},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with RunStore.open(db_url) as store:
        run = store.resolve("from-pyproject")
    assert run.settings["host"] == shared_target.url
    assert run.settings["users"] == 2
    assert run.settings["spawn_rate"] == 2.0
    assert run.settings["run_time"] == "2s"
    assert 1.5 <= run.duration_s <= 4.0


def test_locustfiles_as_a_file_a_list_and_a_folder(tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.mkdir()
    (users / "a.py").write_text(USER_A)
    (users / "b.py").write_text(USER_B)
    (users / "_helpers.py").write_text("raise RuntimeError('a folder skips _files, as Locust')\n")
    for spec, listed in (
        ("users/a.py", ["UserA"]),
        ("users/a.py,users/b.py", ["UserA", "UserB"]),
        ("users", ["UserA", "UserB"]),
    ):
        result = run_in(tmp_path, "loadgate", "-f", spec, "--list")
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["Available", "Users:", *listed]
    # LOCUSTFILE, loadgate's positional form, is the same as -f.
    result = run_in(tmp_path, "loadgate", "users/b.py", "-l")
    assert result.stdout.split() == ["Available", "Users:", "UserB"]


def test_locusts_json_flag_before_a_user_class_stays_locusts(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(USER_A)
    result = run_in(tmp_path, "loadgate", "-f", "a.py", "--json", "UserA", "--print-config")
    rows = config_rows(result.stdout)
    assert rows["--json"] == ("True", "command line"), result.stderr
    assert rows["user_classes"][0] == "['UserA']"
    result = run_in(tmp_path, "loadgate", "-f", "a.py", "--json", "out.json", "--print-config")
    assert config_rows(result.stdout)["--json"][0] == "'out.json'"


@pytest.mark.slow
def test_a_folder_run_with_one_user_class_chosen_by_name(
    tmp_path: Path, shared_target: Target, db_url: str
) -> None:
    users = tmp_path / "users"
    users.mkdir()
    (users / "a.py").write_text(USER_A)
    (users / "b.py").write_text(USER_B)
    result = run_in(
        tmp_path, "loadgate", "-f", "users", "-H", shared_target.url, "-u", "2", "-r", "2",
        "-t", "2s", "--db", db_url, "UserB",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with RunStore.open(db_url) as store:
        run = store.resolve("users")
        summary = store.summary(run.run_id)
    assert run.settings["user_classes"] == ["UserB"]
    assert [e.name for e in summary.endpoints] == ["from b"]
    assert "# loadgate: file" in run.script_text and "class UserB" in run.script_text


def test_an_unknown_user_class_names_the_known_ones(folder: Path) -> None:
    line = assert_one_line_error(run_in(folder, "loadgate", "plain.py", "Nobody"), 2)
    assert "unknown User class Nobody: the script defines Plain" in line


@pytest.mark.slow
def test_script_arguments_with_their_default_and_a_value(
    tmp_path: Path, shared_target: Target, db_url: str
) -> None:
    (tmp_path / "arguments.py").write_text(ARGUMENTS)
    shown = run_in(tmp_path, "loadgate", "arguments.py", "--help")
    assert shown.returncode == 0, shown.stderr
    assert "--my-path" in shown.stdout and "The path every user requests" in shown.stdout
    rows = config_rows(run_in(tmp_path, "loadgate", "arguments.py", "--print-config").stdout)
    assert rows["--my-path"] == ("'/zero'", "default (script argument)")

    common = ["-H", shared_target.url, "-t", "2s", "--db", db_url, "-q"]
    result = run_in(tmp_path, "loadgate", "arguments.py", *common, "--my-path", "/delay/100")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "seen.json").read_text() == '{"my_path": "/delay/100"}'
    # The default, from a LOCUST_* variable's absence; the exit code the script asks for.
    result = run_in(tmp_path, "loadgate", "arguments.py", *common, "--exit-with", "3")
    assert result.returncode == 3, result.stderr
    assert (tmp_path / "seen.json").read_text() == '{"my_path": "/zero"}'
    with RunStore.open(db_url) as store:
        runs = store.list_runs()
        settings = [listing.run.settings for listing in runs]
    stored = sorted((s["custom_arguments"]["my_path"], s["custom_arguments"]["exit_with"])
                    for s in settings)  # fmt: skip
    assert stored == [("/delay/100", None), ("/zero", 3)]


@pytest.mark.slow
def test_failed_requests_exit_1_unless_exit_code_on_error_says_otherwise(
    tmp_path: Path, shared_target: Target, db_url: str
) -> None:
    (tmp_path / "failing.py").write_text(FAILING)
    common = ["failing.py", "-H", shared_target.url, "-t", "1s", "--db", db_url, "-q"]
    assert run_in(tmp_path, "loadgate", *common).returncode == 1
    result = run_in(tmp_path, "loadgate", *common, "--exit-code-on-error", "0")
    assert result.returncode == 0, result.stderr
    # Thresholds, when given, judge the errors themselves.
    result = run_in(tmp_path, "loadgate", *common, "--threshold", "requests > 0")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        (["--web-port", "8089"], "--web-port is not supported: loadgate run is headless"),
        (["--worker"], "--worker is not supported: a worker is `loadgate worker --master-host"),
        (["--usrs", "5"], "unknown option --usrs: did you mean --users?"),
        (["--spawnrate", "5"], "unknown option --spawnrate: did you mean --spawn-rate?"),
    ],
)
def test_refused_and_unknown_flags_get_one_line(
    folder: Path, flag: list[str], expected: str
) -> None:
    # -t 1s: should the flag be taken, the test still ends.
    line = assert_one_line_error(run_in(folder, "loadgate", "plain.py", "-t", "1s", *flag), 2)
    assert expected in line


def test_a_web_ui_setting_in_a_config_file_is_ignored_with_a_warning(folder: Path) -> None:
    (folder / "locust.conf").write_text("web-port = 9999\n")
    result = run_in(folder, "loadgate", "plain.py", "--print-config")
    assert result.returncode == 0, result.stderr
    assert "--web-port from ./locust.conf ignored: loadgate run is headless" in result.stderr


TWO_TASKS = """from locust import HttpUser, constant, task


class Two(HttpUser):
    wait_time = constant(0.1)

    @task(10)
    def often(self):
        self.client.get("/zero", name="often")

    @task(1)
    def seldom(self):
        self.client.get("/zero", name="seldom")
"""


@pytest.mark.slow
def test_config_users_sets_user_class_attributes_as_in_locust(
    tmp_path: Path, shared_target: Target, db_url: str
) -> None:
    (tmp_path / "two.py").write_text(TWO_TASKS)
    config = '{"user_class_name": "Two", "tasks": ["seldom"]}'
    result = run_in(
        tmp_path, "loadgate", "two.py", "-H", shared_target.url, "-t", "1s", "--db", db_url,
        "--config-users", config,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with RunStore.open(db_url) as store:
        summary = store.summary(store.resolve("two").run_id)
    assert [e.name for e in summary.endpoints] == ["seldom"]
