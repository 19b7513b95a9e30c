"""Opening a store: default location, URL forms, and one clear line when it cannot be opened."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadgate.errors import ExitCode, RunNotFoundError, StoreError
from loadgate.store import RunStore, default_db_url, mask_url
from loadgate.store.connection import CONNECT_TIMEOUT_S
from loadgate.store.url import parse_db_url
from tests.fixtures.ports import free_port
from tests.fixtures.postgres import PostgresServer


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("LOADGATE_DB", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_default_url_is_a_sqlite_file_in_the_user_data_folder(clean_env: Path) -> None:
    url = default_db_url()
    folder = clean_env / "home" / ".local" / "share" / "loadgate"
    assert url == f"sqlite:///{folder / 'runs.db'}"
    assert folder.is_dir()


def test_default_url_follows_xdg_data_home(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(clean_env / "xdg"))
    assert default_db_url() == f"sqlite:///{clean_env / 'xdg' / 'loadgate' / 'runs.db'}"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert ".local/share/loadgate" in default_db_url()


def test_loadgate_db_overrides_the_default(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{clean_env / 'env.db'}"
    monkeypatch.setenv("LOADGATE_DB", url)
    assert default_db_url() == url
    with RunStore.open() as store:
        assert store.url == url
    assert (clean_env / "env.db").is_file()


def test_open_without_url_uses_the_default(clean_env: Path) -> None:
    with RunStore.open(None) as store:
        assert store.url.endswith("/.local/share/loadgate/runs.db")
        assert store.list_runs() == []


def test_urls_as_users_type_them() -> None:
    assert parse_db_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert parse_db_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert parse_db_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert parse_db_url("sqlite:///x.db").drivername == "sqlite+pysqlite"


def test_passwords_are_masked() -> None:
    assert mask_url("postgresql://u:s3cret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert "s3cret" not in mask_url("postgresql://h/db?password=s3cret&sslmode=require")
    assert "s3cret" not in mask_url("postgresql://u:s3cret@h:notaport/db")
    assert mask_url("sqlite:////tmp/runs.db") == "sqlite:////tmp/runs.db"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:pw@localhost/db",
        "http://example.com/runs",
        "runs.db",
        "not a url",
        "postgresql://u:pw@h:port/db",
    ],
)
def test_unsupported_urls_are_refused_with_the_expected_forms(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        RunStore.open(url)
    message = str(caught.value)
    assert "sqlite:///PATH or postgresql://" in message
    assert "\n" not in message
    assert "pw" not in message
    assert caught.value.exit_code is ExitCode.STORE_ERROR


def test_unreachable_postgresql_fails_fast_with_the_masked_url() -> None:
    url = f"postgresql://u:secret@127.0.0.1:{free_port()}/x"
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        RunStore.open(url)
    assert time.monotonic() - started < 3.0
    message = str(caught.value)
    assert "secret" not in message
    assert f"postgresql://u:***@127.0.0.1:{url.split(':')[3]}" in message
    assert "refused" in message.lower()
    assert "\n" not in message


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections but never says a word."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_a_server_that_never_answers_times_out(silent_server: int) -> None:
    started = time.monotonic()
    with pytest.raises(StoreError, match=f"127.0.0.1:{silent_server}"):
        RunStore.open(f"postgresql://u:secret@127.0.0.1:{silent_server}/x")
    assert time.monotonic() - started < CONNECT_TIMEOUT_S + 3


def test_a_missing_postgresql_database_is_named(postgres_server: PostgresServer) -> None:
    with pytest.raises(StoreError, match='database "no_such_db" does not exist'):
        RunStore.open(postgres_server.url("no_such_db"))


def test_the_display_url_hides_the_password(postgres_url: str) -> None:
    with_password = postgres_url.replace("loadgate@", "loadgate:hunter2@")
    with RunStore.open(with_password) as store:
        assert "hunter2" not in store.url
        assert store.url == with_password.replace("hunter2", "***")
        assert "hunter2" not in repr(store)


def test_a_missing_sqlite_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=f"the folder {tmp_path / 'nope'} does not exist"):
        RunStore.open(f"sqlite:///{tmp_path / 'nope' / 'runs.db'}")


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are not the runs you are looking for\n" * 100)
    with pytest.raises(StoreError, match="not a database"):
        RunStore.open(f"sqlite:///{path}")


def test_sqlite_stores_use_wal(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "runs.db"
    RunStore.open(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_run_not_found_is_bad_input() -> None:
    assert issubclass(RunNotFoundError, StoreError)
    assert RunNotFoundError.exit_code is ExitCode.BAD_INPUT


def test_postgresql_urls_as_users_type_them_open(postgres_url: str) -> None:
    for url in (
        postgres_url,
        postgres_url.replace("postgresql://", "postgres://"),
        postgres_url.replace("postgresql://", "postgresql+psycopg://"),
        postgres_url + "?connect_timeout=3&application_name=loadgate-tests",
    ):
        with RunStore.open(url) as store:
            assert store.list_runs(limit=1) is not None
